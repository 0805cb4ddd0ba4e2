import { ApiaryError, registerErrorClass, type ErrorData } from '@apiary/runtime';

/** Error codes of the worker level; they cross threads as data like every Apiary error. */
export const WorkerErrorCodes = {
  HUMAN_REQUEST_NOT_FOUND: 'APIARY_ERR_HUMAN_REQUEST_NOT_FOUND',
  HUMAN_REQUEST_CLOSED: 'APIARY_ERR_HUMAN_REQUEST_CLOSED',
  INVALID_ANSWER: 'APIARY_ERR_INVALID_ANSWER',
  HUMAN_TIMEOUT: 'APIARY_ERR_HUMAN_TIMEOUT',
} as const;

/** A stable worker-level error code. */
export type WorkerErrorCode = (typeof WorkerErrorCodes)[keyof typeof WorkerErrorCodes];

/** Base of the worker level's errors. */
export class WorkerError extends ApiaryError<WorkerErrorCode> {
  constructor(code: WorkerErrorCode, message: string, options?: { cause?: unknown; data?: ErrorData }) {
    super(code, message, options);
  }
}

/** No request of that id was ever opened (HTTP 404). */
export class HumanRequestNotFoundError extends WorkerError {
  constructor(id: string) {
    super(WorkerErrorCodes.HUMAN_REQUEST_NOT_FOUND, `no human input request ${id}`, { data: { id } });
  }
}

/** The request was already answered, or its deadline passed (HTTP 409). */
export class HumanRequestClosedError extends WorkerError {
  constructor(id: string, how: 'answered' | 'timed-out' | 'cancelled') {
    super(WorkerErrorCodes.HUMAN_REQUEST_CLOSED, `human input request ${id} is closed (${how})`, { data: { id, how } });
  }
}

/** The answer does not fit the question; the request stays open (HTTP 422). */
export class InvalidAnswerError extends WorkerError {
  constructor(id: string, problem: string) {
    super(WorkerErrorCodes.INVALID_ANSWER, `answer to ${id} rejected: ${problem}`, { data: { id, problem } });
  }
}

/** Nobody answered before the deadline and the request's default is to fail the task. */
export class HumanTimeoutError extends WorkerError {
  constructor(id: string, deadline: number) {
    super(WorkerErrorCodes.HUMAN_TIMEOUT, `no answer to human input request ${id} before its deadline`, { data: { id, deadline } });
  }
}

for (const Ctor of [HumanRequestNotFoundError, HumanRequestClosedError, InvalidAnswerError, HumanTimeoutError]) registerErrorClass(Ctor);
