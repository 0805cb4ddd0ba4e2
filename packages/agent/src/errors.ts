import { ApiaryError, registerErrorClass, type ErrorData } from '@apiary/runtime';

/**
 * Error codes of the agent level. They extend the runtime's ApiaryError, so they cross threads as
 * data like every Apiary error (name, code, data and cause survive).
 */
export const AgentErrorCodes = {
  MODEL_UNAVAILABLE: 'APIARY_ERR_MODEL_UNAVAILABLE',
  MODEL_REJECTED: 'APIARY_ERR_MODEL_REJECTED',
  MODEL_OUTPUT: 'APIARY_ERR_MODEL_OUTPUT',
} as const;

/** A stable agent-level error code. */
export type AgentErrorCode = (typeof AgentErrorCodes)[keyof typeof AgentErrorCodes];

/** Base of the agent level's errors. */
export class AgentError extends ApiaryError<AgentErrorCode> {
  constructor(code: AgentErrorCode, message: string, options?: { cause?: unknown; data?: ErrorData }) {
    super(code, message, options);
  }
}

/**
 * Every attempt on every model failed with a retriable error (429, 5xx, timeout, connection loss,
 * a cut stream): retries and fallbacks are exhausted. `cause` is the last error; `data.attempts`
 * lists each attempt. Never a partial answer passed off as a real one.
 */
export class ModelUnavailableError extends AgentError {
  constructor(models: readonly string[], attempts: readonly ModelAttempt[], cause: unknown) {
    super(AgentErrorCodes.MODEL_UNAVAILABLE, `no answer from ${models.join(', ')} after ${attempts.length} attempts`, {
      cause,
      data: { models: [...models], attempts: attempts.map((a) => ({ ...a })) },
    });
  }
}

/** The model server refused the request itself (400, 401, 403, 404, 422): retrying cannot help. */
export class ModelRejectedError extends AgentError {
  constructor(model: string, status: number | undefined, cause: unknown) {
    super(AgentErrorCodes.MODEL_REJECTED, `${model} rejected the request${status === undefined ? '' : ` (HTTP ${status})`}`, {
      cause,
      data: { model, status: status ?? null },
    });
  }
}

/** The model answered, but not in the form asked for (JSON that does not parse or fit its schema). */
export class ModelOutputError extends AgentError {
  constructor(model: string, problem: string, output: string) {
    super(AgentErrorCodes.MODEL_OUTPUT, `${model} answered in the wrong form: ${problem}`, { data: { model, problem, output: output.slice(0, 2000) } });
  }
}

/** One try of one model, as recorded in ModelUnavailableError. */
export interface ModelAttempt {
  readonly model: string;
  readonly attempt: number;
  readonly error: string;
  readonly status: number | null;
  readonly retryAfterMs: number | null;
}

for (const Ctor of [ModelUnavailableError, ModelRejectedError, ModelOutputError]) registerErrorClass(Ctor);
