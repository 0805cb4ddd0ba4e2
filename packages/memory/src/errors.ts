import { ApiaryError, registerErrorClass, type ErrorData } from '@apiary/runtime';

/**
 * Error codes of the shared vector memory. They extend the runtime's ApiaryError, so they cross
 * threads as data (name, code, data and cause survive), like every Apiary error.
 */
export const MemoryErrorCodes = {
  DIMENSION_MISMATCH: 'APIARY_ERR_MEMORY_DIMENSION',
  INVALID_VECTOR: 'APIARY_ERR_MEMORY_INVALID_VECTOR',
  UNKNOWN_NAMESPACE: 'APIARY_ERR_MEMORY_UNKNOWN_NAMESPACE',
  NAMESPACE_EXISTS: 'APIARY_ERR_MEMORY_NAMESPACE_EXISTS',
  CAPACITY: 'APIARY_ERR_MEMORY_CAPACITY',
  STORAGE: 'APIARY_ERR_MEMORY_STORAGE',
  OPTIMIZE: 'APIARY_ERR_MEMORY_OPTIMIZE',
  PARTIAL_ADD: 'APIARY_ERR_MEMORY_PARTIAL_ADD',
} as const;

/** A stable memory error code. */
export type MemoryErrorCode = (typeof MemoryErrorCodes)[keyof typeof MemoryErrorCodes];

/** Base of the memory's errors. */
export class MemoryError extends ApiaryError<MemoryErrorCode> {
  constructor(code: MemoryErrorCode, message: string, options?: { cause?: unknown; data?: ErrorData }) {
    super(code, message, options);
  }
}

/** A vector whose length is not the namespace's dimension count. */
export class DimensionMismatchError extends MemoryError {
  constructor(namespace: string, expected: number, actual: number, where: string) {
    super(MemoryErrorCodes.DIMENSION_MISMATCH, `${where}: namespace ${namespace} holds ${expected}-d vectors, got ${actual}`, { data: { namespace, expected, actual, where } });
  }
}

/** A vector with NaN or infinite entries, or all zeros (it has no direction to compare). */
export class InvalidVectorError extends MemoryError {
  constructor(namespace: string, problem: string, where: string) {
    super(MemoryErrorCodes.INVALID_VECTOR, `${where}: ${problem}`, { data: { namespace, problem, where } });
  }
}

/** No namespace of that name was created in this memory. */
export class UnknownNamespaceError extends MemoryError {
  constructor(namespace: string) {
    super(MemoryErrorCodes.UNKNOWN_NAMESPACE, `no memory namespace named ${JSON.stringify(namespace)}`, { data: { namespace } });
  }
}

/** A namespace of that name exists already, with other settings. */
export class NamespaceExistsError extends MemoryError {
  constructor(namespace: string, problem: string) {
    super(MemoryErrorCodes.NAMESPACE_EXISTS, `memory namespace ${JSON.stringify(namespace)} exists already: ${problem}`, { data: { namespace } });
  }
}

/** The namespace reached its configured maximum (entries or metadata bytes). */
export class MemoryCapacityError extends MemoryError {
  constructor(namespace: string, what: string, limit: number) {
    super(MemoryErrorCodes.CAPACITY, `namespace ${namespace} is full: ${what} (limit ${limit})`, { data: { namespace, what, limit } });
  }
}

/** Reading or writing the memory's files failed (snapshot, write log, persistence directory). */
export class MemoryStorageError extends MemoryError {
  constructor(namespace: string, operation: string, cause: unknown) {
    super(MemoryErrorCodes.STORAGE, `namespace ${namespace}: ${operation} failed: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
      data: { namespace, operation },
    });
  }
}

/**
 * An `optimize()` that did not finish: the owner restarted or stopped meanwhile, or the rebuild
 * failed. Nothing written is lost and the namespace keeps its index as it was; call it again.
 */
export class OptimizeError extends MemoryError {
  constructor(namespace: string, reason: string, cause?: unknown) {
    super(MemoryErrorCodes.OPTIMIZE, `namespace ${namespace}: optimize did not finish: ${reason}${cause instanceof Error ? `: ${cause.message}` : ''}`, {
      cause,
      data: { namespace, reason },
    });
  }
}

/**
 * An `add()` of more entries than one message carries (2,048) failed after some of its messages
 * were written: the first `written` entries of the list are stored and acknowledged, the rest are
 * not (after a timeout, the message that timed out may still land). `cause` is the failure itself
 * (MemoryCapacityError, a timeout...). Adding the whole list again is safe: an id written twice is
 * replaced, not doubled.
 */
export class PartialAddError extends MemoryError {
  constructor(namespace: string, written: number, total: number, cause: unknown) {
    super(MemoryErrorCodes.PARTIAL_ADD, `namespace ${namespace}: add stored the first ${written} of ${total} entries, then failed: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
      data: { namespace, written, total },
    });
  }
}

for (const Ctor of [DimensionMismatchError, InvalidVectorError, UnknownNamespaceError, NamespaceExistsError, MemoryCapacityError, MemoryStorageError, OptimizeError, PartialAddError]) registerErrorClass(Ctor);
