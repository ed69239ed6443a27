import { InvalidArgumentError } from 'commander';
import { z } from 'zod';

/** Digits only: `1e3`, `0x10`, `1_000`, `+5`, `2.0` and ` 7` are refused, not reinterpreted. */
const PLAIN_INTEGER = /^[0-9]+$/;

/** Bounds of an integer flag, inclusive. */
export interface IntegerBounds {
  min: number;
  max: number;
}

/**
 * Commander parser for an integer flag written as plain digits within `bounds`; the message names
 * the accepted range, e.g. `Expected an integer from 1 to 1000000, got "1e3".`
 */
export function integerFlag(bounds: IntegerBounds): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!PLAIN_INTEGER.test(value) || !Number.isSafeInteger(number) || number < bounds.min || number > bounds.max) {
      throw new InvalidArgumentError(`Expected an integer from ${bounds.min} to ${bounds.max}, got "${value}".`);
    }
    return number;
  };
}

/**
 * The bounds a zod integer schema (e.g. `RunConfigSchema.shape.pairs`) accepts, so a flag and its
 * config key share one definition; defaults, optionals and prefaults are looked through.
 */
export function boundsOf(schema: z.ZodType): IntegerBounds {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as {
    minimum?: number;
    exclusiveMinimum?: number;
    maximum?: number;
    exclusiveMaximum?: number;
  };
  const min = json.minimum ?? (json.exclusiveMinimum !== undefined ? json.exclusiveMinimum + 1 : 0);
  const max =
    json.maximum ?? (json.exclusiveMaximum !== undefined ? json.exclusiveMaximum - 1 : Number.MAX_SAFE_INTEGER);
  return { min: Math.max(min, Number.MIN_SAFE_INTEGER), max: Math.min(max, Number.MAX_SAFE_INTEGER) };
}

/** Commander parser for a positive integer flag (1 to 2^53 − 1, plain digits). */
export const positiveInteger = integerFlag({ min: 1, max: Number.MAX_SAFE_INTEGER });

/** Commander parser for a non-negative integer flag (0 to 2^53 − 1, plain digits). */
export const nonNegativeInteger = integerFlag({ min: 0, max: Number.MAX_SAFE_INTEGER });

/** Commander parser for a positive number flag (e.g. dollars): decimal notation, no exponent. */
export function positiveNumber(value: string): number {
  const number = Number(value);
  if (!/^[0-9]+(\.[0-9]+)?$|^\.[0-9]+$/.test(value) || !Number.isFinite(number) || number <= 0) {
    throw new InvalidArgumentError(`Expected a positive decimal number such as 5 or 0.25, got "${value}".`);
  }
  return number;
}
