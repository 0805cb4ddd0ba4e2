import type { MessagePort } from 'node:worker_threads';
import { BlockingSections } from './blocking.js';
import { NativeCalls } from './native-calls.js';
import type { AskOptions, SendOptions } from './behavior.js';
import type { ActorCell } from './cell.js';
import { assertCloneable } from './cloneable.js';
import { systemClock, type Clock } from './clock.js';
import { PendingRequests } from './requests.js';
import { ErrorReply, type ReplyToken } from './error-reply.js';
import { Admission } from './admission.js';
import {
  InvalidArgumentError,
  serializeError,
  type SerializedError,
} from './errors.js';
import type { ApiaryEvent, DeadLetterReason } from './events.js';
import { Lifecycle } from './lifecycle.js';
import { Link } from './link.js';
import { Scheduler } from './scheduler.js';
import { EventInterestView } from './interest.js';
import type { ActorStats, Envelope, HostStats, MessageEnvelope } from './protocol.js';
import { isActorRef, type ActorRef } from './ref.js';
import { supervisorOp, toWireChild, type ChildSpec, type OverflowPolicy } from './spec.js';
import { MessagePortTransport, type Transport } from './transport.js';

/** Envelopes buffered per peer thread while it is down. */
const MAX_BUFFERED = 100_000;

/** Receives the host's lifecycle notices on the main thread (the kernel). */
export type NoticeSink = (envelope: Envelope, fromThread: number) => void;

/**
 * Hosts many actors on one thread (main or worker): admission into bounded mailboxes, a fair
 * run queue, one message at a time per actor, asks and sends, and links to the other threads.
 * The kernel (main thread) decides lifecycle; the host carries it out (see {@link Lifecycle}).
 */
export class ActorHost {
  readonly thread: number;
  readonly cells = new Map<string, ActorCell>();
  readonly clock: Clock;
  /** Declared blocking sections of this thread (see ActorContext.blocking). */
  readonly blocking: BlockingSections;
  /** The fence of this thread's native calls (see ActorContext.nativeCall). */
  readonly native: NativeCalls;
  readonly lifecycle: Lifecycle;
  readonly #links: (Link | undefined)[] = [];
  readonly #maxBatch: number;
  readonly #requests: PendingRequests;
  /** Mailbox admission: capacity, overflow policies, dead letters. */
  readonly admission: Admission;
  #noticeSink: NoticeSink | null = null;
  #processed = 0;
  readonly #scheduler: Scheduler;
  readonly #interest = new EventInterestView();

  constructor(thread: number, options: { maxBatch: number; clock?: Clock; blockingCell?: SharedArrayBuffer; nativeCell?: SharedArrayBuffer }) {
    this.thread = thread;
    this.blocking = new BlockingSections(options.blockingCell ?? null);
    this.native = new NativeCalls(options.nativeCell ?? null);
    this.#maxBatch = options.maxBatch;
    this.clock = options.clock ?? systemClock;
    this.#requests = new PendingRequests(this.clock);
    this.admission = new Admission(this);
    this.lifecycle = new Lifecycle(this);
    this.#scheduler = new Scheduler(this.lifecycle);
  }

  // ---- links ------------------------------------------------------------------------------

  /** Main thread only: lifecycle notices go to the kernel instead of over a link. */
  setNoticeSink(sink: NoticeSink): void {
    this.#noticeSink = sink;
  }

  /**
   * Connects (or reconnects) the link to `thread` and starts reading from it. `preamble` goes out
   * before anything buffered while the thread was down.
   */
  attach(thread: number, transport: Transport, preamble: readonly Envelope[] = []): void {
    let link = this.#links[thread];
    if (link === undefined) {
      link = new Link(null, this.#maxBatch, MAX_BUFFERED, (env) => this.admission.bounce(env, 'thread-down'));
      this.#links[thread] = link;
    }
    link.attach(transport, preamble);
    void this.#read(thread, transport);
  }

  /** Hands thread `to` a port for its direct link to thread `peer`. */
  sendLink(to: number, peer: number, port: MessagePort): void {
    const link = this.#links[to];
    if (link === undefined || !link.up) {
      port.close();
      return;
    }
    link.pushWithTransfer({ t: 'link', thread: peer, port }, [port]);
  }

  /** The peer `thread` is down: buffer what goes to it, fail asks and sends waiting on it. */
  detach(thread: number, error: SerializedError): void {
    const link = this.#links[thread];
    if (link === undefined) {
      this.#links[thread] = new Link(null, this.#maxBatch, MAX_BUFFERED, (env) => this.admission.bounce(env, 'thread-down'));
    } else {
      link.detach()?.close('peer down');
    }
    this.#requests.failThread(thread, error);
  }

  /** Closes every link (shutdown). */
  closeLinks(): void {
    for (const link of this.#links) {
      link?.flush();
      link?.detach()?.close('shutdown');
    }
  }

  /** Flushes every link now (before a transfer or a shutdown). */
  flushAll(): void {
    for (const link of this.#links) link?.flush();
  }

  async #read(thread: number, transport: Transport): Promise<void> {
    for await (const batch of transport.inbound) {
      for (let i = 0; i < batch.length; i++) this.#onEnvelope(batch[i]!, thread);
    }
  }

  /** Sends an envelope to `thread` (handled in place when it is this thread). */
  route(thread: number, env: Envelope): void {
    if (thread === this.thread) {
      this.#onEnvelope(env, thread);
      return;
    }
    const link = this.#links[thread];
    if (link === undefined) {
      this.admission.bounce(env, 'thread-down');
      return;
    }
    link.push(env);
  }

  /** Sends a lifecycle notice to the kernel. */
  notify(env: Envelope): void {
    const sink = this.#noticeSink;
    if (sink !== null) {
      // Deferred so the kernel never runs inside a handler's stack frame.
      queueMicrotask(() => sink(env, this.thread));
    } else {
      this.route(0, env);
    }
  }

  /** Tells the kernel an actor started (grouped on the wire). */
  notifyStarted(id: string): void {
    if (this.#noticeSink !== null) this.notify({ t: 'started', id });
    else {
      const link = this.#links[0];
      if (link !== undefined) link.pushStarted(id);
    }
  }

  /** Starts an actor on `thread` (grouped on the wire with the starts around it). */
  start(thread: number, b: number, capacity: number, overflow: OverflowPolicy, id: string, path: string, props: unknown): void {
    if (thread === this.thread) {
      this.lifecycle.command({ t: 'start', spec: { id, path, b, props, capacity, overflow } });
      return;
    }
    const link = this.#links[thread];
    if (link === undefined) return; // the kernel only starts on live threads; the start watchdog covers a race
    link.pushStart(b, capacity, overflow, id, path, props);
  }

  /** Publishes an event on the system bus (on the main thread), unless nobody listens to its type. */
  publish(ev: ApiaryEvent): void {
    if (!this.wants(ev.type)) return;
    this.notify({ t: 'ev', ev });
  }

  /** Whether anyone listens to events of `type` (see {@link EventInterestView}). */
  wants(type: string): boolean {
    return this.#interest.wants(type);
  }

  /** Main thread only: answer `wants` from the bus itself. */
  setInterestSource(source: (type: string) => boolean): void {
    this.#interest.setSource(source);
  }

  #onEnvelope(env: Envelope, from: number): void {
    switch (env.t) {
      case 'm':
        this.admit(env);
        return;
      case 'g': {
        const { to, from: sender, bs } = env;
        for (let i = 0; i < bs.length; i++) this.admit({ t: 'm', to, from: sender, b: bs[i] });
        return;
      }
      case 'r':
        this.#requests.reply(env.a, env.v, env.e);
        return;
      case 'k':
        this.#requests.ack(env.s, env.e);
        return;
      case 'S': {
        const { b, c, o, ids, paths, props } = env;
        for (let i = 0; i < ids.length; i++) this.lifecycle.command({ t: 'start', spec: { id: ids[i]!, path: paths[i]!, b, props: props[i], capacity: c, overflow: o } });
        return;
      }
      case 'R':
        if (this.#noticeSink !== null) for (const id of env.ids) this.#noticeSink({ t: 'started', id }, from);
        return;
      case 'def':
      case 'start':
      case 'reserve':
      case 'halt':
      case 'restart':
      case 'stop':
      case 'kill':
      case 'sig':
        this.lifecycle.command(env);
        return;
      case 'down':
        this.detach(env.thread, env.e);
        return;
      case 'interest':
        this.#interest.update(env.all, env.types);
        return;
      case 'link':
        this.attach(env.thread, new MessagePortTransport(env.port));
        return;
      case 'started':
      case 'failed':
      case 'halted':
      case 'stopped':
      case 'watch':
      case 'ev':
        if (this.#noticeSink !== null) this.#noticeSink(env, from);
        return;
      default: {
        const never: never = env;
        throw new Error(`unknown envelope ${JSON.stringify(never)}`);
      }
    }
  }

  // ---- messaging --------------------------------------------------------------------------

  /** Fire and forget (see ActorContext.tell). */
  tell(target: ActorRef, message: unknown, from: ActorRef | null): void {
    checkRef(target);
    if (target.thread === this.thread) {
      this.admit({ t: 'm', to: target.id, from, b: message });
      return;
    }
    assertCloneable(message, 'message');
    const link = this.#links[target.thread];
    if (link === undefined) this.admission.bounce({ t: 'm', to: target.id, from, b: message }, 'thread-down');
    else link.pushTell(target.id, from, message);
  }

  /** Request/reply (see ActorContext.ask). */
  ask<R>(target: ActorRef, message: unknown, options: AskOptions | undefined, from: ActorRef | null): Promise<R> {
    try {
      checkRef(target);
      if (target.thread !== this.thread) assertCloneable(message, 'message');
    } catch (error) {
      return Promise.reject(error);
    }
    const timeoutMs = options?.timeoutMs ?? 5000;
    if (!(timeoutMs > 0)) return Promise.reject(new InvalidArgumentError('timeoutMs', 'must be > 0'));
    return new Promise<R>((resolve, reject) => {
      const a = this.#requests.ask(target.thread, target.path, timeoutMs, resolve as (v: unknown) => void, reject);
      this.route(target.thread, { t: 'm', to: target.id, from, b: message, a, rt: this.thread });
    });
  }

  /** Tell that resolves on acceptance by the target mailbox (see ActorContext.send). */
  send(target: ActorRef, message: unknown, options: SendOptions | undefined, from: ActorRef | null): Promise<void> {
    try {
      checkRef(target);
      if (target.thread !== this.thread) assertCloneable(message, 'message');
    } catch (error) {
      return Promise.reject(error);
    }
    const timeoutMs = options?.timeoutMs ?? 5000;
    if (!(timeoutMs >= 0)) return Promise.reject(new InvalidArgumentError('timeoutMs', 'must be >= 0'));
    return new Promise<void>((resolve, reject) => {
      const s = this.#requests.send(target.thread, resolve, reject);
      this.route(target.thread, { t: 'm', to: target.id, from, b: message, s, rt: this.thread, w: timeoutMs });
    });
  }

  /** OTP start_child through an ask to the supervisor (which lives on the main thread). */
  startChild<T, R>(supervisorRef: ActorRef, spec: ChildSpec<T, R>, from: ActorRef | null): Promise<ActorRef<T, R>> {
    let op;
    try {
      op = supervisorOp({ op: 'start-child', spec: toWireChild(spec as ChildSpec, 'spec') });
    } catch (error) {
      return Promise.reject(error);
    }
    return this.ask<ActorRef<T, R>>(supervisorRef, op, { timeoutMs: 60_000 }, from);
  }

  /** Admits a message into its target's mailbox, applying the overflow policy. */
  admit(env: MessageEnvelope): void {
    this.admission.admit(env);
  }

  /** Publishes a dead letter (see Admission.deadLetter). */
  deadLetter(env: MessageEnvelope, reason: DeadLetterReason, to: string): void {
    this.admission.deadLetter(env, reason, to);
  }

  /** True while the link to `thread` is up (or it is this thread). */
  isLinkUp(thread: number): boolean {
    return thread === this.thread || this.#links[thread]?.up === true;
  }

  /** Replies to an ask with a handler's result ({@link ErrorReply} replies with its error). */
  reply(env: MessageEnvelope, value: unknown): void {
    if (env.a === undefined) return;
    if (value instanceof ErrorReply) {
      this.replyError(env, value.error);
      return;
    }
    if (env.rt !== this.thread) {
      try {
        assertCloneable(value, 'reply');
      } catch (error) {
        this.route(env.rt!, { t: 'r', a: env.a, e: serializeError(error) });
        return;
      }
    }
    this.route(env.rt!, { t: 'r', a: env.a, v: value });
  }

  /** Answers an ask by its token (a deferred reply kept as plain data, maybe by a later incarnation). */
  answer(token: ReplyToken, value: unknown): void {
    this.reply({ t: 'm', to: '', from: null, b: undefined, a: token.ask, rt: token.thread }, value);
  }

  /** Replies to an ask with an error. */
  replyError(env: MessageEnvelope, error: unknown): void {
    if (env.a === undefined) return;
    this.route(env.rt!, { t: 'r', a: env.a, e: serializeError(error) });
  }

  // ---- scheduling -------------------------------------------------------------------------

  /** Puts a runnable actor on the run queue. */
  schedule(cell: ActorCell): void {
    this.#scheduler.schedule(cell);
  }

  /** Counts processed messages (host-level). */
  countProcessed(n: number): void {
    this.#processed += n;
  }

  // ---- control ----------------------------------------------------------------------------

  /** Self-stop after the current message. */
  stopSelf(cell: ActorCell): void {
    this.lifecycle.requestStop(cell, 'normal', true);
  }

  /** DeathWatch registration, handled by the kernel. */
  watch(cell: ActorCell, target: ActorRef, on: boolean): void {
    checkRef(target);
    this.notify({ t: 'watch', watcher: cell.id, target: target.id, on });
  }

  /** Per-actor counters. */
  stats(ids?: readonly string[]): ActorStats[] {
    const out: ActorStats[] = [];
    const pick = (cell: ActorCell): void => {
      out.push({ id: cell.id, mailboxDepth: cell.depth, processed: cell.processed, status: cell.status });
    };
    if (ids === undefined) for (const cell of this.cells.values()) pick(cell);
    else for (const id of ids) {
      const cell = this.cells.get(id);
      if (cell !== undefined) pick(cell);
    }
    return out;
  }

  /** Host-level counters. */
  hostStats(): HostStats {
    return { thread: this.thread, actors: this.cells.size, processed: this.#processed, heapUsed: process.memoryUsage().heapUsed };
  }

  /** Fails every ask and send still waiting (system stop), clearing their timers. */
  failPending(error: Error): void {
    this.#requests.failAll(error);
  }

  /** Number of asks and sends waiting for an answer. */
  get pendingRequests(): number {
    return this.#requests.size;
  }
}

function checkRef(target: unknown): asserts target is ActorRef {
  if (!isActorRef(target)) throw new InvalidArgumentError('target', 'must be an ActorRef');
}
