/**
 * ActorRefs are plain frozen data, not class instances: structured clone keeps plain data intact, so
 * a ref travels inside any message to any thread and still works there (location transparency).
 */
declare const phantom: unique symbol;

/**
 * A handle on an actor: what you `tell`, `ask` and `watch`. Serializable; valid across restarts
 * (a restarted actor keeps its id, path and thread). `M` is the message type the actor accepts and
 * `R` what its handler returns to an `ask`.
 */
export interface ActorRef<M = unknown, R = unknown> {
  /** Brand checked at runtime by {@link isActorRef}. */
  readonly kind: 'apiary.ref';
  /** Unique id (a ULID: unique across threads and processes, sortable by spawn time). */
  readonly id: string;
  /** Hierarchical path, e.g. `/hivemind/swarm-a/worker-3`. */
  readonly path: string;
  /** Host thread index: 0 is the main thread, 1..n the worker threads. */
  readonly thread: number;
  /**
   * Type-level only: never present at runtime. `M` sits in a method parameter, which TypeScript
   * compares both ways: a ref to an actor that takes more messages than asked for (a `replyTo` that
   * also takes its own commands) fits where a narrower one is wanted, and a specific ref still fits
   * where any ref (`ActorRef`) is.
   */
  readonly [phantom]?: { accepts(message: M): void; readonly reply: R };
}

/** True when `value` is an ActorRef (including one that crossed a thread). */
export function isActorRef(value: unknown): value is ActorRef {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return v.kind === 'apiary.ref' && typeof v.id === 'string' && typeof v.path === 'string' && typeof v.thread === 'number';
}

/** @internal */
export function makeRef<M, R>(id: string, path: string, thread: number): ActorRef<M, R> {
  return Object.freeze({ kind: 'apiary.ref', id, path, thread }) as ActorRef<M, R>;
}
