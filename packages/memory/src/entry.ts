import { InvalidArgumentError } from '@apiary/runtime';
import type { VectorInput } from './vectors.js';

/** One entry to write. Writing an id that exists replaces that entry. */
export interface MemoryEntry {
  readonly id: string;
  readonly vector: VectorInput;
  readonly metadata?: Readonly<Record<string, unknown>>;
  /** Who wrote it; defaults to the writing actor's path when written through a namespace client. */
  readonly origin?: string | null;
}

/**
 * Checks entry `i`'s fields other than its vector, at the client and again at the owner (a message
 * may skip the client): a batch is refused whole, before any of it is written.
 */
export function checkEntryFields(e: MemoryEntry, i: number): void {
  if (typeof e?.id !== 'string' || e.id.length === 0) throw new InvalidArgumentError(`entries[${i}].id`, 'must be a non-empty string');
  const { metadata, origin } = e;
  if (metadata !== undefined) {
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw new InvalidArgumentError(`entries[${i}].metadata`, 'must be an object');
    // Metadata is stored as JSON: what JSON cannot hold is refused here, not half-way through a write.
    if (!isJson(metadata)) throw new InvalidArgumentError(`entries[${i}].metadata`, 'must be serialisable as JSON (no cycles, no BigInts)');
  }
  if (origin !== undefined && origin !== null && typeof origin !== 'string') throw new InvalidArgumentError(`entries[${i}].origin`, 'must be a string or null');
}

function isJson(value: object): boolean {
  try {
    return typeof JSON.stringify(value) === 'string';
  } catch {
    return false;
  }
}
