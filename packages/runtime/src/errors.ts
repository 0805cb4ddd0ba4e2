/**
 * Every error the runtime raises is a named class with a stable `code`.
 *
 * Errors cross threads as data ({@link SerializedError}) because Node's structured clone turns an
 * Error subclass into a plain `Error` (name reset, `code` and custom fields dropped). The receiving
 * side rebuilds the class from the code with {@link deserializeError}.
 */

/** Every error code the runtime can raise. The docs table in README.md lists cause and fix for each. */
export const ErrorCodes = {
  INVALID_ARGUMENT: 'APIARY_ERR_INVALID_ARGUMENT',
  NOT_CLONEABLE: 'APIARY_ERR_MESSAGE_NOT_CLONEABLE',
  ASK_TIMEOUT: 'APIARY_ERR_ASK_TIMEOUT',
  ACTOR_NOT_FOUND: 'APIARY_ERR_ACTOR_NOT_FOUND',
  ACTOR_STOPPED: 'APIARY_ERR_ACTOR_STOPPED',
  ACTOR_FAILED: 'APIARY_ERR_ACTOR_FAILED',
  MAILBOX_FULL: 'APIARY_ERR_MAILBOX_FULL',
  BEHAVIOR_LOAD: 'APIARY_ERR_BEHAVIOR_LOAD',
  SPAWN_FAILED: 'APIARY_ERR_SPAWN_FAILED',
  NAME_TAKEN: 'APIARY_ERR_NAME_TAKEN',
  THREAD_CRASHED: 'APIARY_ERR_THREAD_CRASHED',
  ESCALATED: 'APIARY_ERR_SUPERVISOR_ESCALATED',
  SYSTEM_STOPPED: 'APIARY_ERR_SYSTEM_STOPPED',
  SYSTEM_FAILED: 'APIARY_ERR_SYSTEM_FAILED',
  SHUTDOWN_TIMEOUT: 'APIARY_ERR_SHUTDOWN_TIMEOUT',
  START_TIMEOUT: 'APIARY_ERR_START_TIMEOUT',
  UNKNOWN: 'APIARY_ERR_UNKNOWN',
} as const;

/** A stable error code, as listed in {@link ErrorCodes}. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Structured data attached to an error; it must be structured-cloneable to cross threads. */
export type ErrorData = Readonly<Record<string, unknown>>;

/**
 * Base class of every Apiary error. `name` equals the class name; `code` never changes between
 * versions. Other Apiary packages extend it with their own code union (`ApiaryError<TheirCode>`) and
 * register their classes with {@link registerErrorClass} so they are rebuilt after crossing a thread.
 */
export class ApiaryError<C extends string = ErrorCode> extends Error {
  /** Stable machine-readable code, e.g. `APIARY_ERR_ASK_TIMEOUT`. Assert on this, never on the message. */
  readonly code: C;
  /** Extra facts about the failure (ids, limits, the offending field). */
  readonly data: ErrorData;

  constructor(code: C, message: string, options?: { cause?: unknown; data?: ErrorData }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.data = options?.data ?? {};
    this.name = new.target.name;
  }
}

/** An argument failed validation at a public entry point; `data.field` names it. */
export class InvalidArgumentError extends ApiaryError {
  constructor(field: string, problem: string) {
    super(ErrorCodes.INVALID_ARGUMENT, `invalid ${field}: ${problem}`, { data: { field } });
  }
}

/** Props or a message cannot cross a thread (functions, symbols, class instances holding native handles...). */
export class MessageNotCloneableError extends ApiaryError {
  constructor(what: string, path: string, found: string) {
    super(ErrorCodes.NOT_CLONEABLE, `${what} cannot cross a thread: ${found} at ${path}`, { data: { path, found } });
  }
}

/** An ask got no reply within its timeout. The message may still be processed later (at-most-once). */
export class AskTimeoutError extends ApiaryError {
  constructor(target: string, timeoutMs: number) {
    super(ErrorCodes.ASK_TIMEOUT, `ask to ${target} timed out after ${timeoutMs} ms`, { data: { target, timeoutMs } });
  }
}

/** The target actor does not exist (never spawned, or stopped and removed). */
export class ActorNotFoundError extends ApiaryError {
  constructor(target: string) {
    super(ErrorCodes.ACTOR_NOT_FOUND, `no actor ${target}`, { data: { target } });
  }
}

/** The target actor stopped before it processed the message. */
export class ActorStoppedError extends ApiaryError {
  constructor(target: string, reason: string) {
    super(ErrorCodes.ACTOR_STOPPED, `actor ${target} stopped (${reason}) before processing the message`, {
      data: { target, reason },
    });
  }
}

/** The actor's handler threw (or rejected) while processing an ask; `cause` is the handler's error. */
export class ActorFailedError extends ApiaryError {
  constructor(target: string, cause: unknown) {
    super(ErrorCodes.ACTOR_FAILED, `actor ${target} failed while processing the message`, { cause, data: { target } });
  }
}

/** The target mailbox is at capacity and its overflow policy rejected the message. */
export class MailboxFullError extends ApiaryError {
  constructor(target: string, capacity: number) {
    super(ErrorCodes.MAILBOX_FULL, `mailbox of ${target} is full (capacity ${capacity})`, {
      data: { target, capacity },
    });
  }
}

/** A behavior module could not be imported, or the export is missing or not a behavior. */
export class BehaviorLoadError extends ApiaryError {
  constructor(module: string, exportName: string, problem: string, cause?: unknown) {
    super(ErrorCodes.BEHAVIOR_LOAD, `cannot load behavior ${exportName} from ${module}: ${problem}`, {
      cause,
      data: { module, export: exportName },
    });
  }
}

/** An actor's `setup` threw or its behavior failed to load, so the spawn did not complete. */
export class SpawnFailedError extends ApiaryError {
  constructor(path: string, cause: unknown) {
    super(ErrorCodes.SPAWN_FAILED, `spawn of ${path} failed`, { cause, data: { path } });
  }
}

/** A sibling already has this name under the same parent. */
export class NameTakenError extends ApiaryError {
  constructor(path: string) {
    super(ErrorCodes.NAME_TAKEN, `an actor already lives at ${path}`, { data: { path } });
  }
}

/** The worker thread hosting the actor died or stopped answering heartbeats. */
export class ThreadCrashedError extends ApiaryError {
  constructor(thread: number, reason: string, cause?: unknown) {
    super(ErrorCodes.THREAD_CRASHED, `worker thread ${thread} crashed: ${reason}`, { cause, data: { thread, reason } });
  }
}

/** A supervisor exceeded its restart intensity and gave up; its parent handles this as the supervisor's failure. */
export class EscalatedError extends ApiaryError {
  constructor(supervisor: string, restarts: number, periodMs: number, cause: unknown) {
    super(ErrorCodes.ESCALATED, `supervisor ${supervisor} exceeded ${restarts} restarts in ${periodMs} ms`, {
      cause,
      data: { supervisor, restarts, periodMs },
    });
  }
}

/** The actor system is stopping or stopped; no new work is accepted. */
export class SystemStoppedError extends ApiaryError {
  constructor() {
    super(ErrorCodes.SYSTEM_STOPPED, 'the actor system is stopped');
  }
}

/** A failure reached the root guardian past its intensity: the whole system stopped. */
export class SystemFailedError extends ApiaryError {
  constructor(cause: unknown) {
    super(ErrorCodes.SYSTEM_FAILED, 'the root supervisor gave up: the actor system stopped', { cause });
  }
}

/** An actor did not finish stopping within its shutdown timeout and was killed. */
export class ShutdownTimeoutError extends ApiaryError {
  constructor(path: string, timeoutMs: number) {
    super(ErrorCodes.SHUTDOWN_TIMEOUT, `${path} did not stop within ${timeoutMs} ms and was killed`, {
      data: { path, timeoutMs },
    });
  }
}

/** An actor's `setup` (or its module import) did not finish within its start timeout; it was dropped. */
export class StartTimeoutError extends ApiaryError {
  constructor(path: string, timeoutMs: number) {
    super(ErrorCodes.START_TIMEOUT, `${path} did not start within ${timeoutMs} ms`, { data: { path, timeoutMs } });
  }
}

/** An error as plain data, safe to post between threads. */
export interface SerializedError {
  readonly name: string;
  readonly code: string;
  readonly message: string;
  readonly stack?: string | undefined;
  readonly data?: ErrorData | undefined;
  readonly cause?: SerializedError | undefined;
}

/** Turns anything thrown into an Error (a thrown string becomes an Error with that message). */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  if (typeof thrown === 'string') return new Error(thrown);
  let text: string;
  try {
    text = JSON.stringify(thrown) ?? String(thrown);
  } catch {
    text = String(thrown);
  }
  return new Error(`non-error thrown: ${text}`);
}

/** Flattens any thrown value into {@link SerializedError}, following `cause` chains (bounded depth). */
export function serializeError(thrown: unknown, depth = 0): SerializedError {
  const error = toError(thrown);
  const rawCode = (error as Error & { code?: unknown }).code;
  const code = typeof rawCode === 'string' ? rawCode : ErrorCodes.UNKNOWN;
  const data = error instanceof ApiaryError ? safeData(error.data) : undefined;
  const cause = error.cause !== undefined && depth < 8 ? serializeError(error.cause, depth + 1) : undefined;
  return { name: error.name, code, message: error.message, stack: error.stack, data, cause };
}

function safeData(data: ErrorData): ErrorData | undefined {
  try {
    structuredClone(data);
    return data;
  } catch {
    return { unserializable: true };
  }
}

type ErrorClass = new (...args: never[]) => ApiaryError<string>;

const byName: Record<string, ErrorClass | undefined> = {
  InvalidArgumentError,
  MessageNotCloneableError,
  AskTimeoutError,
  ActorNotFoundError,
  ActorStoppedError,
  ActorFailedError,
  MailboxFullError,
  BehaviorLoadError,
  SpawnFailedError,
  NameTakenError,
  ThreadCrashedError,
  EscalatedError,
  SystemStoppedError,
  SystemFailedError,
  ShutdownTimeoutError,
  StartTimeoutError,
};

/**
 * Registers an error class of another Apiary package, so {@link deserializeError} rebuilds it as
 * that class after it crossed a thread. Its `name` must equal the class name.
 */
export function registerErrorClass(Ctor: ErrorClass): void {
  byName[Ctor.name] = Ctor;
}

/**
 * Rebuilds an error from {@link SerializedError}. Apiary's own errors come back as their class (same
 * name, code, message, data, cause); any other error comes back as an `Error` with `name` and `code` restored.
 */
export function deserializeError(serialized: SerializedError): Error {
  const cause = serialized.cause === undefined ? undefined : deserializeError(serialized.cause);
  const Ctor = byName[serialized.name];
  let error: Error;
  if (Ctor !== undefined && serialized.code.startsWith('APIARY_ERR_')) {
    // Rebuild without running the constructor: its arguments are gone, the fields are in the data.
    error = Object.create(Ctor.prototype) as ApiaryError<string>;
    Object.assign(error, { code: serialized.code, data: serialized.data ?? {} });
  } else {
    error = new Error();
    if (serialized.code !== ErrorCodes.UNKNOWN) Object.assign(error, { code: serialized.code });
  }
  Object.defineProperty(error, 'message', { value: serialized.message, writable: true, configurable: true });
  Object.defineProperty(error, 'name', { value: serialized.name, writable: true, configurable: true });
  if (serialized.stack !== undefined) {
    Object.defineProperty(error, 'stack', { value: serialized.stack, writable: true, configurable: true });
  }
  if (cause !== undefined) {
    Object.defineProperty(error, 'cause', { value: cause, writable: true, configurable: true });
  }
  return error;
}
