import { ApiaryError, registerErrorClass, type ErrorData } from '@apiary/runtime';

/**
 * Error codes of the embedders. They extend the runtime's ApiaryError, so they cross threads as data
 * like every Apiary error (name, code, data and cause survive).
 */
export const EmbedderErrorCodes = {
  EMBEDDING_DIMENSION: 'APIARY_ERR_EMBEDDING_DIMENSION',
  EMBEDDER_UNAVAILABLE: 'APIARY_ERR_EMBEDDER_UNAVAILABLE',
  EMBEDDER_REJECTED: 'APIARY_ERR_EMBEDDER_REJECTED',
  EMBEDDER_OUTPUT: 'APIARY_ERR_EMBEDDER_OUTPUT',
} as const;

/** A stable embedder error code. */
export type EmbedderErrorCode = (typeof EmbedderErrorCodes)[keyof typeof EmbedderErrorCodes];

/** Base of the embedders' errors. */
export class EmbedderError extends ApiaryError<EmbedderErrorCode> {
  constructor(code: EmbedderErrorCode, message: string, options?: { cause?: unknown; data?: ErrorData }) {
    super(code, message, options);
  }
}

/**
 * A vector does not have the length the embedder promised (`data.expected` vs `data.actual`;
 * `data.index` is the input it belongs to). Usually configuration: the model's native size differs
 * from `dimensions`, or the server ignored a requested size. Never retried: the answer would not change.
 */
export class EmbeddingDimensionError extends EmbedderError {
  constructor(embedder: string, expected: number, actual: number, index: number, hint = '') {
    super(
      EmbedderErrorCodes.EMBEDDING_DIMENSION,
      `${embedder} returned a vector of ${actual} dimensions for input ${index}, expected ${expected}${hint === '' ? '' : `: ${hint}`}`,
      { data: { embedder, expected, actual, index } },
    );
  }
}

/** One failed try of one embedding request, as listed in {@link EmbedderUnavailableError}. */
export interface EmbedderAttempt {
  /** 1 for the first try of this request. */
  readonly attempt: number;
  readonly error: string;
  /** HTTP status, or null for a connection failure or timeout. */
  readonly status: number | null;
  /** What the server asked to wait (`Retry-After`), or null when it said nothing. */
  readonly retryAfterMs: number | null;
}

/**
 * The embedding service failed with a retriable error (429, 5xx, timeout, connection loss) on every
 * attempt, or asked to wait longer than allowed: retries are exhausted. `cause` is the last error and
 * `data.attempts` lists each attempt. No partial result is returned.
 */
export class EmbedderUnavailableError extends EmbedderError {
  constructor(embedder: string, attempts: readonly EmbedderAttempt[], cause: unknown) {
    super(EmbedderErrorCodes.EMBEDDER_UNAVAILABLE, `${embedder} unavailable after ${attempts.length} attempts`, {
      cause,
      data: { embedder, attempts: attempts.map((a) => ({ ...a })) },
    });
  }
}

/** The server refused the request itself (400, 401, 403, 404, 422): retrying cannot help. */
export class EmbedderRejectedError extends EmbedderError {
  constructor(embedder: string, status: number, cause: unknown) {
    super(EmbedderErrorCodes.EMBEDDER_REJECTED, `${embedder} rejected the request (HTTP ${status})`, {
      cause,
      data: { embedder, status },
    });
  }
}

/**
 * The server answered, but not with one usable vector per input: a missing or repeated index, a
 * non-finite value, undecodable base64. A broken or incompatible server, so it is not retried.
 */
export class EmbedderOutputError extends EmbedderError {
  constructor(embedder: string, problem: string) {
    super(EmbedderErrorCodes.EMBEDDER_OUTPUT, `${embedder} answered with unusable embeddings: ${problem}`, {
      data: { embedder, problem },
    });
  }
}

for (const Ctor of [EmbeddingDimensionError, EmbedderUnavailableError, EmbedderRejectedError, EmbedderOutputError]) registerErrorClass(Ctor);
