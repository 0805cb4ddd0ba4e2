import type { Waiter } from './cell.js';
import type { ActorCell } from './cell.js';
import { assertCloneable } from './cloneable.js';
import { ActorNotFoundError, ActorStoppedError, MailboxFullError, serializeError } from './errors.js';
import type { DeadLetterReason } from './events.js';
import type { ActorHost } from './host.js';
import { Deque } from './mailbox.js';
import type { Envelope, MessageEnvelope } from './protocol.js';

/**
 * Admission of messages into bounded mailboxes on one host: the capacity check, the overflow
 * policies (reject, drop-oldest, backpressure waiters), and what happens to what cannot be delivered
 * (a typed error to a waiting asker or sender, and a dead-letter event either way).
 */
export class Admission {
  readonly #host: ActorHost;

  constructor(host: ActorHost) {
    this.#host = host;
  }

  /** Admits a message into its target's mailbox, applying the overflow policy. */
  admit(env: MessageEnvelope): void {
    const host = this.#host;
    const cell = host.cells.get(env.to);
    if (cell === undefined) {
      this.bounce(env, 'not-found');
      return;
    }
    if (cell.stopRequested !== null) {
      this.bounce(env, 'stopped');
      return;
    }
    const mailbox = (cell.mailbox ??= new Deque());
    if (mailbox.size < cell.capacity && (cell.waiters === null || cell.waiters.size === 0)) {
      mailbox.push(env);
      if (env.s !== undefined) this.#host.route(env.rt!, { t: 'k', s: env.s });
      if (!cell.scheduled && !cell.busy && cell.status === 'running') this.#host.schedule(cell);
      return;
    }
    if (this.#host.wants('mailbox-overflow')) this.#host.publish({ type: 'mailbox-overflow', time: Date.now(), to: cell.path, capacity: cell.capacity, policy: cell.overflow });
    switch (cell.overflow) {
      case 'reject':
        this.#refuse(env, cell, 'overflow');
        return;
      case 'drop-oldest': {
        const dropped = mailbox.shift();
        mailbox.push(env);
        if (env.s !== undefined) this.#host.route(env.rt!, { t: 'k', s: env.s });
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
        waiter.timer = this.#host.clock.setTimeout(() => {
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
      if (w.timer !== null) this.#host.clock.clearTimeout(w.timer);
      cell.mailbox!.push(w.env);
      this.#host.route(w.env.rt!, { t: 'k', s: w.env.s! });
      return;
    }
  }

  #refuse(env: MessageEnvelope, cell: ActorCell, reason: 'overflow' | 'dropped'): void {
    if (env.a !== undefined || env.s !== undefined) {
      const e = serializeError(new MailboxFullError(cell.path, cell.capacity));
      if (env.a !== undefined) this.#host.route(env.rt!, { t: 'r', a: env.a, e });
      else this.#host.route(env.rt!, { t: 'k', s: env.s!, e });
    }
    this.deadLetter(env, reason, cell.path);
  }

  /** Fails an undeliverable envelope: asks and sends get a typed error, everything becomes a dead letter. */
  bounce(env: Envelope, reason: DeadLetterReason): void {
    if (env.t === 'g') {
      for (const b of env.bs) this.bounce({ t: 'm', to: env.to, from: env.from, b }, reason);
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
    if (this.#host.isLinkUp(thread)) this.#host.route(thread, { t: 'r', a, e: serializeError(error) });
  }

  #ackError(thread: number, s: number, error: Error): void {
    if (this.#host.isLinkUp(thread)) this.#host.route(thread, { t: 'k', s, e: serializeError(error) });
  }

  /** Publishes a dead letter (the message body is kept when it can cross to the main thread). */
  deadLetter(env: MessageEnvelope, reason: DeadLetterReason, to: string): void {
    if (!this.#host.wants('dead-letter')) return;
    let message = env.b;
    if (this.#host.thread !== 0) {
      try {
        assertCloneable(message, 'dead letter');
      } catch {
        message = '[not cloneable]';
      }
    }
    this.#host.publish({ type: 'dead-letter', time: Date.now(), to, from: env.from?.path ?? null, reason, message });
  }
}
