/** Bad configuration: every offending path is listed. Exit code 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    message: string,
    /** Each problem as `path: message`. */
    readonly problems: string[] = [],
  ) {
    super(problems.length ? `${message}\n${problems.map((p) => `  - ${p}`).join('\n')}` : message);
  }
}

/** Bad input file: names the file and line. Exit code 2. */
export class InputError extends Error {
  override name = 'InputError';
  constructor(
    message: string,
    readonly file?: string,
    readonly line?: number,
  ) {
    super(file ? `${file}${line !== undefined ? `:${line}` : ''}: ${message}` : message);
  }
}

/**
 * What went wrong with an LLM call, as the retry policy (`src/llm/retry-policy.ts`) and the
 * manifest's retry counts name it.
 */
export type LlmFault =
  | 'rate_limited'
  | 'server_error'
  | 'timeout'
  | 'connection_reset'
  | 'truncated_body'
  | 'malformed_body'
  | 'invalid_json'
  | 'empty_reply';

/** An LLM call failed. `retryable` says whether trying again may help. */
export class LlmError extends Error {
  override name = 'LlmError';
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly requestId: string | undefined;
  /** The kind of transient fault, when the adapter could tell (the retry policy counts retries by it). */
  readonly fault: LlmFault | undefined;
  /** The wait the server asked for (`retry-after-ms` / `retry-after`), in milliseconds. */
  readonly retryAfterMs: number | undefined;
  constructor(
    message: string,
    options: {
      status?: number;
      retryable?: boolean;
      requestId?: string;
      cause?: unknown;
      fault?: LlmFault;
      retryAfterMs?: number;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.status = options.status;
    this.retryable = options.retryable ?? false;
    this.requestId = options.requestId;
    this.fault = options.fault;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** The endpoint cannot be reached at all (connection refused, DNS). Exit code 2: fix the URL. */
export class EndpointUnreachableError extends LlmError {
  override name = 'EndpointUnreachableError';
}

/**
 * A request does not fit the model's context: `promptTokens` plus the reply room asked for exceed
 * `contextTokens`. Not retryable (the same prompt fails again); callers fit prompts beforehand.
 */
export class ContextOverflowError extends LlmError {
  override name = 'ContextOverflowError';
  constructor(
    message: string,
    /** Tokens one request may hold (prompt + reply). */
    readonly contextTokens: number,
    /** Prompt tokens of the request, as the model counts them. */
    readonly promptTokens: number,
  ) {
    super(message, { retryable: false });
  }
}

/** A reply did not match the expected schema even after one repair attempt. Keeps the raw text. */
export class StructuredOutputError extends LlmError {
  override name = 'StructuredOutputError';
  constructor(
    message: string,
    readonly rawText: string,
    readonly issues: string[] = [],
  ) {
    super(message, { retryable: true, fault: 'invalid_json' });
  }
}
