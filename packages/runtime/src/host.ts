import type { MessagePort } from 'node:worker_threads';
import type { AskOptions, SendOptions } from './behavior.js';
import { ActorCell, type Waiter } from './cell.js';
import { assertCloneable } from './cloneable.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import {
  ActorNotFoundError,
  ActorStoppedError,
  AskTimeoutError,
  InvalidArgumentError,
  MailboxFullError,
  deserializeError,
  serializeError,
  type SerializedError,
} from './errors.js';
import type { ApiaryEvent, DeadLetterReason } from './events.js';
import { Lifecycle } from './lifecycle.js';
import { Link } from './link.js';
import { Deque } from './mailbox.js';
import type { ActorStats, Envelope, HostStats, MessageEnvelope } from './protocol.js';
import { isActorRef, type ActorRef } from './ref.js';
import { supervisorOp, toWireChild, type ChildSpec } from './spec.js';
import { MessagePortTransport, type Transport } from './transport.js';

/** Messages one actor processes before the scheduler moves on to the next (fairness). */
const THROUGHPUT = 64;
/** Messages one drain processes before yielding to the event loop (I/O, timers, heartbeats). */
const DRAIN_BUDGET = 20_000;
/** Envelopes buffered per peer thread while it is down. */
const MAX_BUFFERED = 100_000;

interface PendingAsk {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: TimerHandle;
  thread: number;
}

interface PendingSend {
  resolve(): void;
  reject(error: Error): void;
  thread: number;
}

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
  readonly lifecycle: Lifecycle;
  readonly #links: (Link | undefined)[] = [];
  readonly #maxBatch: number;
  readonly #runQueue = new Deque<ActorCell>(64);
  #drainScheduled = false;
  #draining = false;
  #askSeq = 0;
  #sendSeq = 0;
  readonly #asks = new Map<number, PendingAsk>();
  readonly #sends = new Map<number, PendingSend>();
  #noticeSink: NoticeSink | null = null;
  #processed = 0;
  readonly #drainBound = (): void => this.#drain();

  constructor(thread: number, options: { maxBatch: number; clock?: Clock }) {
    this.thread = thread;
    this.#maxBatch = options.maxBatch;
    this.clock = options.clock ?? systemClock;
    this.lifecycle = new Lifecycle(this);
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
      link = new Link(null, this.#maxBatch, MAX_BUFFERED, (env) => this.#bounce(env, 'thread-down'));
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
      this.#links[thread] = new Link(null, this.#maxBatch, MAX_BUFFERED, (env) => this.#bounce(env, 'thread-down'));
    } else {
      link.detach()?.close('peer down');
    }
    for (const [id, ask] of this.#asks) {
      if (ask.thread !== thread) continue;
      this.#asks.delete(id);
      this.clock.clearTimeout(ask.timer);
      ask.reject(deserializeError(error));
    }
    for (const [id, send] of this.#sends) {
      if (send.thread !== thread) continue;
      this.#sends.delete(id);
      send.reject(deserializeError(error));
    }
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
      this.#bounce(env, 'thread-down');
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

  /** Publishes an event on the system bus (on the main thread). */
  publish(ev: ApiaryEvent): void {
    this.notify({ t: 'ev', ev });
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
      case 'r': {
        const ask = this.#asks.get(env.a);
        if (ask === undefined) return; // timed out already
        this.#asks.delete(env.a);
        this.clock.clearTimeout(ask.timer);
        if (env.e !== undefined) ask.reject(deserializeError(env.e));
        else ask.resolve(env.v);
        return;
      }
      case 'k': {
        const send = this.#sends.get(env.s);
        if (send === undefined) return;
        this.#sends.delete(env.s);
        if (env.e !== undefined) send.reject(deserializeError(env.e));
        else send.resolve();
        return;
      }
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
    if (link === undefined) this.#bounce({ t: 'm', to: target.id, from, b: message }, 'thread-down');
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
    const a = ++this.#askSeq;
    return new Promise<R>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        if (this.#asks.delete(a)) reject(new AskTimeoutError(target.path, timeoutMs));
      }, timeoutMs);
      this.#asks.set(a, { resolve: resolve as (v: unknown) => void, reject, timer, thread: target.thread });
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
    const s = ++this.#sendSeq;
    return new Promise<void>((resolve, reject) => {
      this.#sends.set(s, { resolve, reject, thread: target.thread });
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
    const cell = this.cells.get(env.to);
    if (cell === undefined) {
      this.#bounce(env, 'not-found');
      return;
    }
    if (cell.stopRequested !== null) {
      this.#bounce(env, 'stopped');
      return;
    }
    const mailbox = (cell.mailbox ??= new Deque());
    if (mailbox.size < cell.capacity && (cell.waiters === null || cell.waiters.size === 0)) {
      mailbox.push(env);
      if (env.s !== undefined) this.route(env.rt!, { t: 'k', s: env.s });
      if (!cell.scheduled && !cell.busy && cell.status === 'running') this.schedule(cell);
      return;
    }
    this.publish({ type: 'mailbox-overflow', time: Date.now(), to: cell.path, capacity: cell.capacity, policy: cell.overflow });
    switch (cell.overflow) {
      case 'reject':
        this.#refuse(env, cell, 'overflow');
        return;
      case 'drop-oldest': {
        const dropped = mailbox.shift();
        mailbox.push(env);
        if (env.s !== undefined) this.route(env.rt!, { t: 'k', s: env.s });
        if (dropped !== undefined) this.#refuse(dropped, cell, 'dropped');
        return;
      }
      case 'backpressure': {
        const waitMs = env.w;
        const waiters = (cell.waiters ??= new Deque());
        if (env.s === undefined || waitMs === undefined || waitMs <= 0 || waiters.size >= cell.capacity) {
          this.#refuse(env, cell, 'overflow');
          return;
        }
        const waiter: Waiter = { env, timer: null, done: false };
        waiter.timer = this.clock.setTimeout(() => {
          if (waiter.done) return;
          waiter.done = true;
          this.#refuse(env, cell, 'overflow');
        }, waitMs);
        waiters.push(waiter);
        return;
      }
      default: {
        const never: never = cell.overflow;
        throw new Error(`unknown overflow policy ${String(never)}`);
      }
    }
  }

  /** Moves the oldest live backpressure waiter into the mailbox (called when a slot frees). */
  admitWaiter(cell: ActorCell): void {
    const waiters = cell.waiters;
    if (waiters === null) return;
    for (let w = waiters.shift(); w !== undefined; w = waiters.shift()) {
      if (w.done) continue;
      w.done = true;
      if (w.timer !== null) this.clock.clearTimeout(w.timer);
      cell.mailbox!.push(w.env);
      this.route(w.env.rt!, { t: 'k', s: w.env.s! });
      return;
    }
  }

  #refuse(env: MessageEnvelope, cell: ActorCell, reason: 'overflow' | 'dropped'): void {
    if (env.a !== undefined || env.s !== undefined) {
      const e = serializeError(new MailboxFullError(cell.path, cell.capacity));
      if (env.a !== undefined) this.route(env.rt!, { t: 'r', a: env.a, e });
      else this.route(env.rt!, { t: 'k', s: env.s!, e });
    }
    this.deadLetter(env, reason, cell.path);
  }

  /** Fails an undeliverable envelope: asks and sends get a typed error, everything becomes a dead letter. */
  #bounce(env: Envelope, reason: DeadLetterReason): void {
    if (env.t === 'g') {
      for (const b of env.bs) this.#bounce({ t: 'm', to: env.to, from: env.from, b }, reason);
      return;
    }
    if (env.t !== 'm') return; // replies and notices to a dead thread have no one left to tell
    const error =
      reason === 'stopped' ? new ActorStoppedError(env.to, 'stopping') : reason === 'not-found' ? new ActorNotFoundError(env.to) : new ActorNotFoundError(env.to);
    if (env.a !== undefined && env.rt !== undefined && env.rt !== -1) this.#replyError(env.rt, env.a, error);
    if (env.s !== undefined && env.rt !== undefined) this.#ackError(env.rt, env.s, error);
    this.deadLetter(env, reason, env.to);
  }

  #replyError(thread: number, a: number, error: Error): void {
    if (thread === this.thread || this.#links[thread]?.up === true) this.route(thread, { t: 'r', a, e: serializeError(error) });
  }

  #ackError(thread: number, s: number, error: Error): void {
    if (thread === this.thread || this.#links[thread]?.up === true) this.route(thread, { t: 'k', s, e: serializeError(error) });
  }

  /** Publishes a dead letter (the message body is kept when it can cross to the main thread). */
  deadLetter(env: MessageEnvelope, reason: DeadLetterReason, to: string): void {
    let message = env.b;
    if (this.thread !== 0) {
      try {
        assertCloneable(message, 'dead letter');
      } catch {
        message = '[not cloneable]';
      }
    }
    this.publish({ type: 'dead-letter', time: Date.now(), to, from: env.from?.path ?? null, reason, message });
  }

  /** Replies to an ask with a handler's result ({@link ReplyFailure} replies with its error). */
  reply(env: MessageEnvelope, value: unknown): void {
    if (env.a === undefined) return;
    if (value instanceof ReplyFailure) {
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

  /** Replies to an ask with an error. */
  replyError(env: MessageEnvelope, error: unknown): void {
    if (env.a === undefined) return;
    this.route(env.rt!, { t: 'r', a: env.a, e: serializeError(error) });
  }

  // ---- scheduling -------------------------------------------------------------------------

  /** Puts a runnable actor on the run queue. */
  schedule(cell: ActorCell): void {
    if (cell.scheduled) return;
    cell.scheduled = true;
    this.#runQueue.push(cell);
    if (!this.#drainScheduled && !this.#draining) {
      this.#drainScheduled = true;
      queueMicrotask(this.#drainBound);
    }
  }

  #drain(): void {
    this.#drainScheduled = false;
    this.#draining = true;
    let budget = DRAIN_BUDGET;
    try {
      for (let cell = this.#runQueue.shift(); cell !== undefined; cell = this.#runQueue.shift()) {
        cell.scheduled = false;
        budget -= this.lifecycle.run(cell, THROUGHPUT);
        if (budget <= 0 && this.#runQueue.size > 0) {
          // Yield so timers, I/O and heartbeats get a turn, then carry on.
          this.#drainScheduled = true;
          setImmediate(this.#drainBound);
          return;
        }
      }
    } finally {
      this.#draining = false;
    }
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
    for (const ask of this.#asks.values()) {
      this.clock.clearTimeout(ask.timer);
      ask.reject(error);
    }
    this.#asks.clear();
    for (const send of this.#sends.values()) send.reject(error);
    this.#sends.clear();
  }

  /** Number of asks and sends waiting for an answer. */
  get pendingRequests(): number {
    return this.#asks.size + this.#sends.size;
  }
}

/**
 * @internal Returned by a main-thread system behavior (the supervisor) to answer an ask with an
 * error without failing the actor: a bad request is the caller's problem, not the supervisor's.
 */
export class ReplyFailure {
  constructor(readonly error: Error) {}
}

function checkRef(target: unknown): asserts target is ActorRef {
  if (!isActorRef(target)) throw new InvalidArgumentError('target', 'must be an ActorRef');
}
