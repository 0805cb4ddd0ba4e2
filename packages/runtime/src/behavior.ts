import { InvalidArgumentError } from './errors.js';
import type { BlockingOptions } from './blocking.js';
import type { ActorRef } from './ref.js';
import type { ChildSpec } from './spec.js';
import type { ApiaryEvent } from './events.js';
import type { DeferredReply, ErrorReply, Replied, ReplyToken } from './error-reply.js';

/** Why an actor stopped for good. */
export type StopReason =
  /** It called `ctx.stop()`, or was stopped by `system.stop(ref)` / its supervisor. */
  | 'normal'
  /** It failed and its supervisor did not restart it (temporary child, or supervisor gave up). */
  | 'failed'
  /** The system or its supervisor shut down. */
  | 'shutdown'
  /** It did not stop within its shutdown timeout and was dropped. */
  | 'killed'
  /** It did not exist when watched. */
  | 'not-found';

/** DeathWatch notification: the watched actor stopped for good (a restart is not a termination). */
export interface Terminated {
  readonly type: 'terminated';
  readonly ref: ActorRef;
  readonly reason: StopReason;
  /** Message of the final failure, when `reason` is `failed`. */
  readonly error?: string | undefined;
}

/** Lifecycle notifications an actor receives through `onSignal`, outside its message protocol. */
export type Signal = Terminated;

/** Options for `ask`. */
export interface AskOptions {
  /** Milliseconds to wait for the reply. Default 5000. */
  readonly timeoutMs?: number;
}

/** Options for `send` (a tell that resolves once the target's mailbox accepted the message). */
export interface SendOptions {
  /** With the `backpressure` policy: milliseconds to wait for capacity before rejecting. Default 5000. */
  readonly timeoutMs?: number;
}

/**
 * What an actor's handlers can do. One context per actor; `sender` refers to the message being processed.
 */
export interface ActorContext<M = unknown> {
  /** This actor. */
  readonly self: ActorRef<M>;
  /** The thread this actor runs on (0 = main). */
  readonly thread: number;
  /** Sender of the current message, when it was sent from inside another actor. */
  readonly sender: ActorRef | null;
  /** Fire and forget. Throws MessageNotCloneableError when a cross-thread message cannot be cloned. */
  tell<T>(target: ActorRef<T, unknown>, message: T): void;
  /** Request/reply with a timeout: resolves with the target handler's return value (an ErrorReply rejects). */
  ask<T, R>(target: ActorRef<T, R>, message: T, options?: AskOptions): Promise<Replied<R>>;
  /** Resolves once the target's mailbox accepted the message; waits for capacity under `backpressure`. */
  send<T>(target: ActorRef<T, unknown>, message: T, options?: SendOptions): Promise<void>;
  /** Stops this actor after the current message (reason `normal`). */
  stop(): void;
  /** DeathWatch: `onSignal` receives a {@link Terminated} when `target` stops for good. */
  watch(target: ActorRef): void;
  /** Cancels a `watch`. */
  unwatch(target: ActorRef): void;
  /**
   * Publishes an event on the system's event bus (on the main thread), from any thread. Other
   * packages add their event types to `ApiaryEventMap`. Throws MessageNotCloneableError when the
   * event cannot cross a thread.
   */
  publish(event: ApiaryEvent): void;
  /** Whether anyone listens to events of `type`: skip building events nobody will read. */
  wants(type: ApiaryEvent['type']): boolean;
  /**
   * A handle to answer the current ask later: return it from `receive` and the actor goes on with
   * its next message; `resolve` it when the answer is ready (see {@link DeferredReply}).
   */
  deferReply<R = unknown>(): DeferredReply<R>;
  /**
   * Answers an ask by its {@link ReplyToken} (kept from `DeferredReply.token`): from a later
   * incarnation too, e.g. when work resumed after a restart finishes. Dropped if the ask is no
   * longer waiting.
   */
  answer<R>(token: ReplyToken<R>, value: R | ErrorReply): void;
  /**
   * Runs a synchronous call that keeps the thread busy for long (loading a big file into a native
   * library, say) and returns its result. A worker thread that answers no heartbeat for
   * `heartbeatTimeoutMs` is declared dead and replaced; inside a section its silence is accepted for
   * up to `options.maxMs`, and only silence outside sections counts towards the timeout. Every actor on the thread
   * waits meanwhile: prefer slicing work between turns of the event loop, and keep this for calls
   * that cannot be sliced. Throws InvalidArgumentError for a `maxMs` that is not positive and finite.
   */
  blocking<T>(fn: () => T, options: BlockingOptions): T;
  /**
   * Runs a synchronous call into a native addon (a USearch search, say) and returns its result. The
   * runtime never terminates a thread in the middle of one (a crash drill, a missed heartbeat,
   * `stop()`): it waits for the call to return and lets no new one start. Terminated mid-call, an
   * addon built with C++ exceptions aborts the whole process. The same fence serves a synchronous
   * write to shared memory that must not be left half done. Costs a few atomic operations; a long
   * call still needs `blocking` for the heartbeat. Throws InvalidArgumentError if `fn` is no function.
   */
  nativeCall<T>(fn: () => T): T;
  /** Starts a child under a supervisor (OTP's start_child); works from any thread. */
  startChild<T = unknown, R = unknown>(supervisor: ActorRef, spec: ChildSpec<T, R>): Promise<ActorRef<T, R>>;
}

/** The handlers of a behavior. `S` is the actor's private, mutable state made by `setup`. */
export interface BehaviorHandlers<P, M, S, R> {
  /** Makes the initial state from the props; runs at spawn and again at every restart. */
  setup(props: P, ctx: ActorContext<M>): S | Promise<S>;
  /** Handles one message; its return value is the reply to an `ask` (ignored for `tell`). */
  receive(state: S, message: M, ctx: ActorContext<M>): R | Promise<R>;
  /** Handles lifecycle signals such as {@link Terminated}. */
  onSignal?(state: S, signal: Signal, ctx: ActorContext<M>): void | Promise<void>;
  /** Runs on the old state before a restart (Akka's PreRestart); errors here are reported, not fatal. */
  preRestart?(state: S, error: Error, ctx: ActorContext<M>): void | Promise<void>;
  /** Runs once when the actor stops for good (Akka's PostStop). */
  postStop?(state: S, ctx: ActorContext<M>): void | Promise<void>;
}

/**
 * A behavior: handlers plus where they live (module URL and export name), so any thread can import
 * the same module and find the same export.
 */
export interface Behavior<P = unknown, M = unknown, S = unknown, R = unknown> extends BehaviorHandlers<P, M, S, R> {
  readonly kind: 'apiary.behavior';
  /** URL of the module that exports this behavior (usually `import.meta.url`). */
  readonly module: string;
  /** Name of the export in that module. */
  readonly exportName: string;
}

/** Message type accepted by a behavior. */
export type MessageOf<B> = B extends Behavior<unknown, infer M, unknown, unknown> ? M : never;

/**
 * Defines a behavior that can be spawned on any thread. Export the result under `exportName` from
 * the module whose URL is `moduleUrl`:
 *
 * ```ts
 * export const counter = defineBehavior(import.meta.url, 'counter', {
 *   setup: (props: { start: number }) => ({ n: props.start }),
 *   receive: (state, msg: 'inc' | 'get') => (msg === 'inc' ? ++state.n : state.n),
 * });
 * ```
 */
export function defineBehavior<P, M, S, R>(
  moduleUrl: string | URL,
  exportName: string,
  handlers: BehaviorHandlers<P, M, S, R>,
): Behavior<P, M, S, R> {
  const module = typeof moduleUrl === 'string' ? moduleUrl : moduleUrl.href;
  if (!/^(file|data|node):/.test(module)) throw new InvalidArgumentError('moduleUrl', `must be a file: URL (got ${module}); pass import.meta.url`);
  if (typeof exportName !== 'string' || exportName.length === 0) throw new InvalidArgumentError('exportName', 'must be a non-empty string');
  if (typeof handlers?.setup !== 'function' || typeof handlers.receive !== 'function') {
    throw new InvalidArgumentError('handlers', 'need setup and receive functions');
  }
  return Object.freeze({ ...handlers, kind: 'apiary.behavior' as const, module, exportName });
}

/** True when `value` is a behavior made by {@link defineBehavior}. */
export function isBehavior(value: unknown): value is Behavior {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'apiary.behavior';
}
