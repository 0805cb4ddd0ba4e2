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
    // Metadata is stored as JSON: what JSON cannot hold, or would silently drop or turn into null, is
    // refused here, not half-way through a write (a Date becomes its ISO string, as JSON makes it).
    const problem = jsonProblem(metadata);
    if (problem !== null) throw new InvalidArgumentError(`entries[${i}].metadata`, `must be serialisable as JSON: ${problem}`);
  }
  if (origin !== undefined && origin !== null && typeof origin !== 'string') throw new InvalidArgumentError(`entries[${i}].origin`, 'must be a string or null');
}

/** Why `value` would not come back from JSON as it went in (null: it would). */
function jsonProblem(value: object): string | null {
  let problem: string | null = null;
  try {
    JSON.stringify(value, (key, v: unknown) => {
      if (problem === null && (typeof v === 'function' || typeof v === 'symbol')) problem = `a ${typeof v} at ${JSON.stringify(key)}`;
      else if (problem === null && typeof v === 'number' && !Number.isFinite(v)) problem = `${v} at ${JSON.stringify(key)}`;
      return v;
    });
  } catch (error) {
    return error instanceof TypeError ? 'no cycles, no BigInts' : String(error);
  }
  return problem;
}
