import { DeferredReply } from './error-reply.js';
import type { Signal, StopReason } from './behavior.js';
import { BehaviorLoader } from './behavior-loader.js';
import {
  ActorFailedError,
  ActorNotFoundError,
  ActorStoppedError,
  deserializeError,
  serializeError,
  toError,
  type SerializedError,
} from './errors.js';
import type { ActorHost } from './host.js';
import type { Envelope, MessageEnvelope, StartSpec } from './protocol.js';
import { ActorCell } from './cell.js';
import { Deque } from './mailbox.js';

type Command = Extract<Envelope, { t: 'def' | 'start' | 'reserve' | 'halt' | 'restart' | 'stop' | 'kill' | 'sig' }>;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/**
 * Runs one host's side of the actor lifecycle: start (setup), message and signal processing, halt
 * (preRestart) and restart, orderly stop (postStop, remaining mail to dead letters) and kill. The
 * kernel on the main thread decides; this carries out and reports back with notices.
 */
export class Lifecycle {
  readonly #host: ActorHost;
  /** Behaviors of this thread, by the numbers the kernel gave them. */
  readonly behaviors = new BehaviorLoader();

  constructor(host: ActorHost) {
    this.#host = host;
  }

  /** Executes a kernel command. */
  command(env: Command): void {
    switch (env.t) {
      case 'def':
        this.behaviors.define(env.b, env.module, env.exportName);
        return;
      case 'start':
        this.#start(env.spec);
        return;
      case 'reserve':
        if (!this.#host.cells.has(env.spec.id)) this.#host.cells.set(env.spec.id, new ActorCell(this.#host, env.spec));
        return;
      case 'halt':
        this.#halt(env.id, env.e);
        return;
      case 'restart':
        this.#restart(env.id, env.props);
        return;
      case 'stop': {
        const cell = this.#host.cells.get(env.id);
        if (cell === undefined) this.#host.notify({ t: 'stopped', id: env.id, reason: env.reason, self: false });
        else this.requestStop(cell, env.reason, false);
        return;
      }
      case 'kill':
        this.#kill(env.id);
        return;
      case 'sig': {
        const cell = this.#host.cells.get(env.to);
        if (cell === undefined) return;
        (cell.signals ??= new Deque()).push(env.sig);
        if (cell.status === 'running' && !cell.busy && cell.current === null) this.#host.schedule(cell);
        return;
      }
      default: {
        const never: never = env;
        throw new Error(`unknown command ${JSON.stringify(never)}`);
      }
    }
  }

  /** Processes up to `throughput` messages of one actor; returns how many. */
  run(cell: ActorCell, throughput: number): number {
    if (cell.status !== 'running' || cell.busy) return 0;
    const signals = cell.signals;
    while (signals !== null && signals.size > 0 && this.#ready(cell)) this.#invokeSignal(cell, signals.shift()!);
    let n = 0;
    const mailbox = cell.mailbox;
    while (mailbox !== null && n < throughput && this.#ready(cell)) {
      const env = mailbox.shift();
      if (env === undefined) break;
      if (cell.waiters !== null && cell.waiters.size > 0) this.#host.admission.admitWaiter(cell);
      n++;
      this.#invoke(cell, env);
    }
    if (n > 0) this.#host.countProcessed(n);
    this.#afterTurn(cell);
    return n;
  }

  #ready(cell: ActorCell): boolean {
    return cell.status === 'running' && !cell.busy && cell.stopRequested === null && !cell.haltRequested;
  }

  #invoke(cell: ActorCell, env: MessageEnvelope): void {
    cell.current = env;
    let result: unknown;
    try {
      result = cell.behavior!.receive(cell.state, env.b, cell.ctx);
    } catch (error) {
      cell.current = null;
      this.#fail(cell, error, env);
      return;
    }
    if (isThenable(result)) {
      cell.busy = true;
      const incarnation = cell.incarnation;
      result.then(
        (value) => {
          if (cell.incarnation !== incarnation) return; // killed or restarted meanwhile
          cell.busy = false;
          cell.current = null;
          cell.processed++;
          if (!(value instanceof DeferredReply)) this.#host.reply(env, value);
          this.#afterTurn(cell);
        },
        (error: unknown) => {
          if (cell.incarnation !== incarnation) return;
          cell.busy = false;
          cell.current = null;
          this.#fail(cell, error, env);
          this.#afterTurn(cell);
        },
      );
      return;
    }
    cell.current = null;
    cell.processed++;
    // A deferred reply is answered when the actor resolves it, not now.
    if (env.a !== undefined && !(result instanceof DeferredReply)) this.#host.reply(env, result);
  }

  #invokeSignal(cell: ActorCell, signal: Signal): void {
    const handler = cell.behavior!.onSignal;
    if (handler === undefined) return;
    let result: unknown;
    try {
      result = handler.call(cell.behavior, cell.state, signal, cell.ctx);
    } catch (error) {
      this.#fail(cell, error, null);
      return;
    }
    if (isThenable(result)) {
      cell.busy = true;
      const incarnation = cell.incarnation;
      result.then(
        () => {
          if (cell.incarnation !== incarnation) return;
          cell.busy = false;
          this.#afterTurn(cell);
        },
        (error: unknown) => {
          if (cell.incarnation !== incarnation) return;
          cell.busy = false;
          this.#fail(cell, error, null);
          this.#afterTurn(cell);
        },
      );
    }
  }

  /** After a message (or a batch): carry out a pending stop or halt, or reschedule. */
  #afterTurn(cell: ActorCell): void {
    if (cell.busy || cell.current !== null) return;
    if (cell.stopRequested !== null && cell.status !== 'stopping') {
      this.#finishStop(cell);
      return;
    }
    if (cell.status === 'halted') return;
    if (cell.haltRequested) {
      this.#completeHalt(cell);
      return;
    }
    if (cell.status === 'running' && ((cell.mailbox?.size ?? 0) > 0 || (cell.signals?.size ?? 0) > 0)) this.#host.schedule(cell);
  }

  /** The actor failed: answer the ask that caused it, halt, and tell the kernel (its supervisor decides). */
  #fail(cell: ActorCell, thrown: unknown, env: MessageEnvelope | null): void {
    const error = toError(thrown);
    if (env !== null && env.a !== undefined) this.#host.replyError(env, new ActorFailedError(cell.path, error));
    cell.status = 'halted';
    cell.haltError = error;
    cell.preRestartDone = false;
    this.#host.notify({ t: 'failed', id: cell.id, e: serializeError(error) });
    // The kernel may be waiting for a halt it asked for before this failure: answer it too.
    if (cell.haltRequested) this.#completeHalt(cell);
  }

  // ---- start / restart --------------------------------------------------------------------

  #start(spec: StartSpec): void {
    let cell = this.#host.cells.get(spec.id);
    if (cell === undefined) {
      cell = new ActorCell(this.#host, spec);
      this.#host.cells.set(spec.id, cell);
    } else {
      cell.respec(spec);
    }
    const known = this.behaviors.loaded(spec.b);
    if (known !== undefined) {
      cell.behavior = known;
      this.#setup(cell, spec.props);
      return;
    }
    const target = cell;
    this.behaviors.load(spec.b).then(
      (behavior) => {
        if (this.#host.cells.get(spec.id) !== target) return; // killed while loading
        target.behavior = behavior;
        this.#setup(target, spec.props);
      },
      (error: unknown) => {
        if (this.#host.cells.get(spec.id) !== target) return;
        target.status = 'halted';
        this.#host.notify({ t: 'started', id: spec.id, e: serializeError(error) });
      },
    );
  }

  #setup(cell: ActorCell, props: unknown): void {
    const incarnation = ++cell.incarnation;
    cell.status = 'starting';
    cell.busy = false;
    cell.current = null;
    let result: unknown;
    try {
      result = cell.behavior!.setup(props, cell.ctx);
    } catch (error) {
      this.#setupFailed(cell, error);
      return;
    }
    if (isThenable(result)) {
      result.then(
        (state) => {
          if (cell.incarnation === incarnation && cell.status === 'starting') this.#started(cell, state);
        },
        (error: unknown) => {
          if (cell.incarnation === incarnation && cell.status === 'starting') this.#setupFailed(cell, error);
        },
      );
    } else {
      this.#started(cell, result);
    }
  }

  #started(cell: ActorCell, state: unknown): void {
    cell.state = state;
    cell.status = 'running';
    cell.preRestartDone = false;
    cell.haltError = null;
    cell.haltRequested = false;
    this.#host.notifyStarted(cell.id);
    if (cell.stopRequested !== null) this.#finishStop(cell);
    else this.#afterTurn(cell);
  }

  #setupFailed(cell: ActorCell, error: unknown): void {
    cell.status = 'halted';
    cell.haltError = toError(error);
    cell.preRestartDone = true; // setup never produced a state to clean up
    this.#host.notify({ t: 'started', id: cell.id, e: serializeError(error) });
  }

  #halt(id: string, e: SerializedError): void {
    const cell = this.#host.cells.get(id);
    if (cell === undefined) {
      this.#host.notify({ t: 'halted', id });
      return;
    }
    cell.haltError ??= deserializeError(e);
    if (cell.busy || cell.current !== null) {
      cell.haltRequested = true; // completes when the current message finishes
      return;
    }
    this.#completeHalt(cell);
  }

  #completeHalt(cell: ActorCell): void {
    cell.haltRequested = false;
    cell.status = 'halted';
    this.#preRestart(cell, () => this.#host.notify({ t: 'halted', id: cell.id }));
  }

  #preRestart(cell: ActorCell, then: () => void): void {
    const hook = cell.behavior?.preRestart;
    if (cell.preRestartDone || hook === undefined) {
      cell.preRestartDone = true;
      then();
      return;
    }
    cell.preRestartDone = true;
    let result: unknown;
    try {
      result = hook.call(cell.behavior, cell.state, cell.haltError ?? new Error('restart'), cell.ctx);
    } catch {
      // A failing preRestart must not block the restart; the original failure was already reported.
    }
    if (isThenable(result)) result.then(then, then);
    else then();
  }

  #restart(id: string, props: unknown): void {
    const cell = this.#host.cells.get(id);
    if (cell === undefined) {
      this.#host.notify({ t: 'started', id, e: serializeError(new ActorNotFoundError(id)) });
      return;
    }
    cell.status = 'halted';
    this.#preRestart(cell, () => {
      if (this.#host.cells.get(id) === cell) this.#setup(cell, props);
    });
  }

  // ---- stop -------------------------------------------------------------------------------

  /** Stops after the current message (at once when idle). */
  requestStop(cell: ActorCell, reason: StopReason, self: boolean): void {
    if (cell.stopRequested === null) cell.stopRequested = { reason, self };
    if (!cell.busy && cell.current === null) this.#finishStop(cell);
  }

  #finishStop(cell: ActorCell): void {
    if (cell.status === 'stopping') return;
    const hadState = cell.status === 'running' || cell.status === 'halted';
    cell.status = 'stopping';
    const incarnation = ++cell.incarnation;
    const done = (): void => {
      if (cell.incarnation === incarnation && this.#host.cells.get(cell.id) === cell) this.#remove(cell, cell.stopRequested!.reason, cell.stopRequested!.self);
    };
    const hook = cell.behavior?.postStop;
    if (!hadState || hook === undefined) {
      done();
      return;
    }
    let result: unknown;
    try {
      result = hook.call(cell.behavior, cell.state, cell.ctx);
    } catch {
      // postStop errors cannot undo the stop.
    }
    if (isThenable(result)) result.then(done, done);
    else done();
  }

  #kill(id: string): void {
    const cell = this.#host.cells.get(id);
    if (cell === undefined) {
      this.#host.notify({ t: 'stopped', id, reason: 'killed', self: false });
      return;
    }
    cell.incarnation++;
    this.#remove(cell, 'killed', false);
  }

  /** Removes the actor: queued asks fail, queued mail becomes dead letters, the kernel is told. */
  #remove(cell: ActorCell, reason: StopReason, self: boolean): void {
    this.#host.cells.delete(cell.id);
    cell.status = 'stopping';
    let stoppedError: ActorStoppedError | null = null;
    // Built only when someone is waiting: capturing a stack per stopped actor is not free.
    const error = (): ActorStoppedError => (stoppedError ??= new ActorStoppedError(cell.path, reason));
    if (cell.mailbox !== null) {
      for (const env of cell.mailbox.drain()) {
        if (env.a !== undefined) this.#host.replyError(env, error());
        this.#host.deadLetter(env, 'stopped', cell.path);
      }
    }
    if (cell.waiters !== null) {
      for (const w of cell.waiters.drain()) {
        if (w.done) continue;
        w.done = true;
        if (w.timer !== null) this.#host.clock.clearTimeout(w.timer);
        this.#host.route(w.env.rt!, { t: 'k', s: w.env.s!, e: serializeError(error()) });
        this.#host.deadLetter(w.env, 'stopped', cell.path);
      }
    }
    this.#host.notify({ t: 'stopped', id: cell.id, reason, self });
  }
}
