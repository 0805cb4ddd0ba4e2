import { InvalidArgumentError } from '@apiary/runtime';
import type { EntryRecord } from './shared-state.js';

/** A metadata value a filter can compare. */
export type FilterScalar = string | number | boolean | null;

/**
 * Which entries a search may return: every field must match. A scalar matches equal metadata
 * values; `{ $in: [...] }` matches any of them. The pseudo-fields `$id` and `$origin` match the
 * entry's id and origin.
 *
 * ```ts
 * { kind: 'finding', topic: { $in: ['rust', 'go'] }, $origin: '/hivemind/swarm-a/w3' }
 * ```
 */
export type MetadataFilter = Readonly<Record<string, FilterScalar | { readonly $in: readonly FilterScalar[] }>>;

const isScalar = (v: unknown): v is FilterScalar => v === null || ['string', 'number', 'boolean'].includes(typeof v);

/** Checks a filter at the boundary (a typo'd operator should fail loudly, not match nothing). */
export function validateFilter(filter: unknown): MetadataFilter | undefined {
  if (filter === undefined) return undefined;
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) throw new InvalidArgumentError('filter', 'must be an object of field: value');
  for (const [field, value] of Object.entries(filter)) {
    if (isScalar(value)) continue;
    const keys = typeof value === 'object' && value !== null ? Object.keys(value) : [];
    const list = (value as { $in?: unknown }).$in;
    if (keys.length !== 1 || !Array.isArray(list) || !list.every(isScalar)) {
      throw new InvalidArgumentError(`filter.${field}`, 'must be a string, number, boolean, null or { $in: [those] }');
    }
  }
  return filter as MetadataFilter;
}

/** True when `record` passes `filter`. */
export function matchesFilter(record: EntryRecord, filter: MetadataFilter): boolean {
  for (const [field, expected] of Object.entries(filter)) {
    const actual = field === '$id' ? record.id : field === '$origin' ? record.origin : record.metadata[field];
    if (isScalar(expected)) {
      if (actual !== expected) return false;
    } else if (!expected.$in.includes(actual as FilterScalar)) return false;
  }
  return true;
}
