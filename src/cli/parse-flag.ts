import { InvalidArgumentError } from 'commander';

/** Commander parser for a positive integer flag, with a message naming the expectation. */
export function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) {
    throw new InvalidArgumentError(`Expected a positive integer, got "${value}".`);
  }
  return number;
}

/** Commander parser for a non-negative integer flag. */
export function nonNegativeInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) {
    throw new InvalidArgumentError(`Expected a non-negative integer, got "${value}".`);
  }
  return number;
}

/** Commander parser for a positive number flag (e.g. dollars). */
export function positiveNumber(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) {
    throw new InvalidArgumentError(`Expected a positive number, got "${value}".`);
  }
  return number;
}
