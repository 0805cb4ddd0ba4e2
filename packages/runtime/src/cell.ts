import type { ActorContext, AskOptions, Behavior, SendOptions, Signal, StopReason } from './behavior.js';
import type { BlockingOptions } from './blocking.js';
import type { ActorHost } from './host.js';
import { Deque } from './mailbox.js';
import type { HostActorStatus, MessageEnvelope, StartSpec } from './protocol.js';
import { makeRef, type ActorRef } from './ref.js';
import type { ChildSpec, OverflowPolicy } from './spec.js';
import type { TimerHandle } from './clock.js';
import { assertCloneable } from './cloneable.js';
import type { ApiaryEvent } from './events.js';
import { DeferredReply, type ErrorReply, type Replied, type ReplyToken } from './error-reply.js';
import { InvalidArgumentError } from './errors.js';

/** A `send` waiting for mailbox capacity under the backpressure policy. */
export interface Waiter {
  readonly env: MessageEnvelope;
  timer: TimerHandle | null;
  done: boolean;
}

/**
 * One actor as its host holds it: behavior, state, mailbox and counters. Plain fields, no closures
 * per actor beyond the context, so 100 k idle actors stay small.
 */
export class ActorCell {
  readonly id: string;
  readonly path: string;
  capacity: number;
  overflow: OverflowPolicy;
  behavior: Behavior | null = null;
  state: unknown = undefined;
  status: HostActorStatus = 'starting';
  /** Bumped at every (re)start so a late result from an abandoned handler is ignored. */
  incarnation = 0;
  mailbox: Deque<MessageEnvelope> | null = null;
  signals: Deque<Signal> | null = null;
  waiters: Deque<Waiter> | null = null;
  processed = 0;
  busy = false;
  scheduled = false;
  /** preRestart already ran for the current halt. */
  preRestartDone = false;
  /** The error that halted the actor, handed to preRestart. */
  haltError: Error | null = null;
  stopRequested: { reason: StopReason; self: boolean } | null = null;
  haltRequested = false;
  current: MessageEnvelope | null = null;
  #ctx: CellContext | null = null;
  #ref: ActorRef | null = null;

  constructor(
    readonly host: ActorHost,
    spec: StartSpec,
  ) {
    this.id = spec.id;
    this.path = spec.path;
    this.capacity = spec.capacity;
    this.overflow = spec.overflow;
  }

  /** This actor's ref, made on first use (an idle actor never needs one). */
  get ref(): ActorRef {
    return (this.#ref ??= makeRef(this.id, this.path, this.host.thread));
  }

  /** Takes the settings of a new start (a restart after a thread crash brings them again). */
  respec(spec: StartSpec): void {
    this.capacity = spec.capacity;
    this.overflow = spec.overflow;
  }

  get depth(): number {
    return this.mailbox === null ? 0 : this.mailbox.size;
  }

  get ctx(): CellContext {
    return (this.#ctx ??= new CellContext(this));
  }
}

/** The {@link ActorContext} handed to an actor's handlers. */
export class CellContext implements ActorContext {
  constructor(readonly cell: ActorCell) {}

  get self(): ActorRef {
    return this.cell.ref;
  }

  get thread(): number {
    return this.cell.host.thread;
  }

  get sender(): ActorRef | null {
    return this.cell.current?.from ?? null;
  }

  tell<T>(target: ActorRef<T, unknown>, message: T): void {
    this.cell.host.tell(target, message, this.cell.ref);
  }

  ask<T, R>(target: ActorRef<T, R>, message: T, options?: AskOptions): Promise<Replied<R>> {
    return this.cell.host.ask(target, message, options, this.cell.ref);
  }

  send<T>(target: ActorRef<T, unknown>, message: T, options?: SendOptions): Promise<void> {
    return this.cell.host.send(target, message, options, this.cell.ref);
  }

  stop(): void {
    this.cell.host.stopSelf(this.cell);
  }

  watch(target: ActorRef): void {
    this.cell.host.watch(this.cell, target, true);
  }

  unwatch(target: ActorRef): void {
    this.cell.host.watch(this.cell, target, false);
  }

  publish(event: ApiaryEvent): void {
    if (this.cell.host.thread !== 0) assertCloneable(event, 'event');
    this.cell.host.publish(event);
  }

  wants(type: ApiaryEvent['type']): boolean {
    return this.cell.host.wants(type);
  }

  deferReply<R>(): DeferredReply<R> {
    const env = this.cell.current;
    const host = this.cell.host;
    // Outside a message, or for a tell, there is no one to answer: resolving is a no-op.
    const token = env?.a === undefined || env.rt === undefined ? null : { thread: env.rt, ask: env.a };
    return new DeferredReply<R>((value) => {
      if (env !== null) host.reply(env, value);
    }, token);
  }

  answer<R>(token: ReplyToken<R>, value: R | ErrorReply): void {
    if (!Number.isInteger(token?.thread) || !Number.isInteger(token?.ask)) throw new InvalidArgumentError('token', 'must be a ReplyToken from DeferredReply.token');
    this.cell.host.answer(token, value);
  }

  blocking<T>(fn: () => T, options: BlockingOptions): T {
    return this.cell.host.blocking.run(fn, options);
  }

  nativeCall<T>(fn: () => T): T {
    return this.cell.host.native.run(fn);
  }

  startChild<T, R>(supervisorRef: ActorRef, spec: ChildSpec<T, R>): Promise<ActorRef<T, R>> {
    return this.cell.host.startChild(supervisorRef, spec, this.cell.ref);
  }
}
