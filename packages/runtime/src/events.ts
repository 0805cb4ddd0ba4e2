import { EventEmitter } from 'eventemitter3';
import type { StopReason } from './behavior.js';
import type { SerializedError } from './errors.js';
import type { ActorRef } from './ref.js';
import type { OverflowPolicy } from './spec.js';

/** Why a message became a dead letter. */
export type DeadLetterReason = 'not-found' | 'stopped' | 'overflow' | 'dropped' | 'thread-down';

/**
 * Every event the runtime publishes, by type. Other Apiary packages add theirs by declaration
 * merging (`declare module '@apiary/runtime' { interface ApiaryEventMap { ... } }`), so everything
 * observable goes through one bus.
 */
export interface ApiaryEventMap {
  'actor-spawned': { type: 'actor-spawned'; time: number; ref: ActorRef; parent: string | null };
  'actor-stopped': { type: 'actor-stopped'; time: number; ref: ActorRef; reason: StopReason; error?: SerializedError | undefined };
  'actor-failed': { type: 'actor-failed'; time: number; ref: ActorRef; error: SerializedError };
  'actor-restarted': { type: 'actor-restarted'; time: number; ref: ActorRef; restarts: number; delayMs: number };
  'supervisor-escalated': { type: 'supervisor-escalated'; time: number; ref: ActorRef; restarts: number; periodMs: number; error: SerializedError };
  'thread-started': { type: 'thread-started'; time: number; thread: number };
  'thread-crashed': { type: 'thread-crashed'; time: number; thread: number; reason: string; actors: number; error?: SerializedError | undefined };
  'thread-replaced': { type: 'thread-replaced'; time: number; thread: number; downtimeMs: number };
  'dead-letter': { type: 'dead-letter'; time: number; to: string; from: string | null; reason: DeadLetterReason; message: unknown };
  'mailbox-overflow': { type: 'mailbox-overflow'; time: number; to: string; capacity: number; policy: OverflowPolicy };
  'system-stopped': { type: 'system-stopped'; time: number; reason: 'stopped' | 'failed'; error?: SerializedError | undefined };
}

/**
 * Which event types anyone listens to. Threads use it to skip building and posting events nobody
 * will read: observability costs nothing when unobserved.
 */
export interface EventInterest {
  readonly all: boolean;
  readonly types: readonly string[];
}

/** Any event on the bus. */
export type ApiaryEvent = ApiaryEventMap[keyof ApiaryEventMap];

/** Event type names. */
export type ApiaryEventType = keyof ApiaryEventMap;

type Listeners = { [K in ApiaryEventType]: [ApiaryEventMap[K]] } & { event: [ApiaryEvent] };

/**
 * The typed event bus (eventemitter3). Listen to one type with `on('actor-failed', fn)` or to all with
 * `on('event', fn)`. A listener that throws is isolated: the error is reported on `listenerErrors`
 * and never breaks the runtime.
 */
export class EventBus {
  readonly #emitter = new EventEmitter<Listeners>();
  #listenerErrors = 0;
  #onInterest: ((interest: EventInterest) => void) | null = null;

  /** Subscribes; returns a function that unsubscribes. */
  on<K extends ApiaryEventType | 'event'>(type: K, listener: (event: Listeners[K][0]) => void): () => void {
    const fn = listener as (...args: Listeners[K]) => void;
    this.#emitter.on(type, fn as never);
    this.#interestChanged();
    return () => {
      this.#emitter.off(type, fn as never);
      this.#interestChanged();
    };
  }

  /** Subscribes for one event. */
  once<K extends ApiaryEventType | 'event'>(type: K, listener: (event: Listeners[K][0]) => void): () => void {
    const fn = listener as (...args: Listeners[K]) => void;
    this.#emitter.once(type, fn as never);
    this.#interestChanged();
    return () => {
      this.#emitter.off(type, fn as never);
      this.#interestChanged();
    };
  }

  /** What is listened to now: every type, or these. */
  get interest(): EventInterest {
    if (this.#emitter.listenerCount('event') > 0) return { all: true, types: [] };
    return { all: false, types: (this.#emitter.eventNames() as string[]).filter((t) => this.#emitter.listenerCount(t as ApiaryEventType) > 0) };
  }

  /** @internal Called when the set of listened types may have changed (the system tells its threads). */
  setInterestListener(fn: (interest: EventInterest) => void): void {
    this.#onInterest = fn;
  }

  #interestChanged(): void {
    this.#onInterest?.(this.interest);
  }

  /** Publishes an event to its type's listeners and to `event` listeners. */
  publish<E extends ApiaryEvent>(event: E): void {
    this.#safeEmit(event.type, event);
    this.#safeEmit('event', event);
  }

  /** How many listener calls threw (their errors are swallowed so one bad listener cannot stop the runtime). */
  get listenerErrors(): number {
    return this.#listenerErrors;
  }

  /** True when anyone listens to `type` (directly or through `event`): skip building unwanted events. */
  wants(type: ApiaryEventType): boolean {
    return this.#emitter.listenerCount(type) > 0 || this.#emitter.listenerCount('event') > 0;
  }

  /** Number of listeners for a type (or all). */
  listenerCount(type: ApiaryEventType | 'event'): number {
    return this.#emitter.listenerCount(type);
  }

  #safeEmit(type: ApiaryEventType | 'event', event: ApiaryEvent): void {
    if (this.#emitter.listenerCount(type) === 0) return;
    try {
      (this.#emitter.emit as (t: string, e: ApiaryEvent) => boolean)(type, event);
    } catch {
      this.#listenerErrors++;
    }
  }
}
