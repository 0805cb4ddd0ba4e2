import type { StopReason, Terminated } from './behavior.js';
import type { Clock } from './clock.js';
import {
  ActorNotFoundError,
  InvalidArgumentError,
  NameTakenError,
  ShutdownTimeoutError,
  SpawnFailedError,
  StartTimeoutError,
  SystemStoppedError,
  ThreadCrashedError,
} from './errors.js';
import type { EventBus } from './events.js';
import type { ActorHost } from './host.js';
import type { IdGenerator } from './ids.js';
import type { Envelope, StartSpec } from './protocol.js';
import { makeRef, type ActorRef } from './ref.js';
import { Entry, EntryIndex, SpawnWaiter } from './registry.js';
import type { BehaviorDescriptor, Placement, WireChild, WireSupervisor } from './spec.js';
import { SupervisorPolicy } from './supervision.js';
import { SupervisionFlow, type Outcome } from './supervision-flow.js';
import { DeathWatch } from './death-watch.js';
import { StartWatchdog } from './start-watchdog.js';
import { BehaviorNumbers } from './behavior-numbers.js';
import { SUPERVISOR_EXPORT, SUPERVISOR_MODULE } from './supervisor-behavior.js';
import { handleNotice, type NoticeTarget } from './notices.js';
import type { ThreadPool } from './thread-pool.js';

/**
 * The main thread's authority over lifecycle: the registry, placement, supervision decisions
 * (carried out by hosts), DeathWatch, thread-crash recovery and ordered shutdown.
 */
export class Kernel {
  readonly index = new EntryIndex();
  readonly #host: ActorHost;
  readonly #bus: EventBus;
  readonly #clock: Clock;
  readonly #ids: IdGenerator;
  #pool: ThreadPool | null = null;
  #root!: Entry;
  #stopping = false;
  #seq = 0;
  #crashes = 0;
  /** @internal Pending backoff restarts, cleared at shutdown. */
  readonly backoffTimers = new Set<ReturnType<Clock['setTimeout']>>();
  readonly #flow: SupervisionFlow;
  readonly #numbers: BehaviorNumbers;
  readonly #deathWatch: DeathWatch;
  readonly #watchdog: StartWatchdog;
  readonly #onSystemFailure: (error: Error) => void;

  constructor(host: ActorHost, bus: EventBus, clock: Clock, ids: IdGenerator, onSystemFailure: (error: Error) => void) {
    this.#host = host;
    this.#bus = bus;
    this.#clock = clock;
    this.#ids = ids;
    this.#onSystemFailure = onSystemFailure;
    this.#flow = new SupervisionFlow(this);
    this.#watchdog = new StartWatchdog(clock, (entry) => this.#startTimedOut(entry));
    this.#numbers = new BehaviorNumbers((thread, env) => this.#host.route(thread, env));
    this.#deathWatch = new DeathWatch(this.index, (thread, env) => {
      if (this.isUp(thread)) this.#host.route(thread, env);
    });
    const notices: NoticeTarget = { index: this.index, bus, flow: this.#flow, nextSeq: () => this.nextSeq(), watch: (watcher, target, on) => this.watch(watcher, target, on) };
    host.setNoticeSink((env) => handleNotice(env, notices));
  }

  /** Starts the root guardian (path `/`), which supervises every top-level actor. */
  async boot(pool: ThreadPool | null, guardian: WireSupervisor): Promise<void> {
    this.#pool = pool;
    const wire: WireChild = {
      name: '',
      behavior: guardian,
      props: undefined,
      placement: 'main',
      capacity: Number.MAX_SAFE_INTEGER,
      overflow: 'reject',
      tags: [],
      restart: 'permanent',
      shutdownTimeoutMs: Number.POSITIVE_INFINITY,
      startTimeoutMs: Number.POSITIVE_INFINITY,
    };
    this.#root = new Entry(makeRef(this.#ids.next(), '/', 0), wire, null);
    this.index.add(this.#root);
    await this.#startEntry(this.#root);
  }

  /** The root guardian's ref. */
  get root(): ActorRef {
    return this.#root.ref;
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  /** @internal */
  get bus(): EventBus {
    return this.#bus;
  }

  /** @internal */
  get clock(): Clock {
    return this.#clock;
  }

  /** @internal A fresh number for incident ids. */
  nextSeq(): number {
    return ++this.#seq;
  }

  /** @internal Resolves when `thread` is up. */
  whenUp(thread: number): Promise<void> {
    return this.#pool?.whenUp(thread) ?? Promise.resolve();
  }

  /** @internal A failure reached past the root: stop the system. */
  failSystem(error: Error): void {
    if (this.#stopping) return;
    this.#onSystemFailure(error);
  }

  // ---- placement and start ----------------------------------------------------------------

  #place(placement: Placement): number {
    const size = this.#pool?.size ?? 0;
    if (placement === 'main' || size === 0) return 0;
    if (placement === 'least-loaded') {
      let best = 1;
      let bestLoad = Number.POSITIVE_INFINITY;
      for (let t = 1; t <= size; t++) {
        // Prefer live threads; a thread being replaced still takes work, after a penalty.
        const load = this.index.load(t) + (this.#pool!.isUp(t) ? 0 : 1e9);
        if (load < bestLoad) {
          best = t;
          bestLoad = load;
        }
      }
      return best;
    }
    if (placement.thread > size) throw new InvalidArgumentError('placement.thread', `must be within 0..${size}`);
    return placement.thread;
  }

  /** Starts a new child under `sup` (OTP start_child). Registration is synchronous, so order holds. */
  startChild(supRef: ActorRef | Entry, wire: WireChild): Promise<ActorRef> {
    if (this.#stopping) return Promise.reject(new SystemStoppedError());
    const sup = supRef instanceof Entry ? supRef : this.index.byId.get(supRef.id);
    if (sup === undefined || !sup.isSupervisor || sup.children === null) {
      return Promise.reject(new InvalidArgumentError('supervisor', 'is not a running supervisor'));
    }
    const id = this.#ids.next();
    const finalName = wire.name === '' ? id : wire.name;
    const path = sup.ref.path === '/' ? `/${finalName}` : `${sup.ref.path}/${finalName}`;
    // An unnamed child is named by its fresh id, which no sibling can have.
    if (wire.name !== '' && sup.children.has(finalName)) return Promise.reject(new NameTakenError(path));
    let thread: number;
    try {
      thread = wire.behavior.kind === 'apiary.supervisor' ? 0 : this.#place(wire.placement);
    } catch (error) {
      return Promise.reject(error);
    }
    const entry = new Entry(makeRef(id, path, thread), wire, sup);
    this.index.add(entry);
    sup.children.set(finalName, entry);
    if (wire.behavior.kind !== 'apiary.supervisor' && this.isUp(thread)) {
      // Fast path for the common case (a leaf on a live thread): one promise and one waiter object
      // per spawn, because spawning 100 k actors a second is a stated goal and GC shows every allocation.
      return new Promise<ActorRef>((resolve, reject) => {
        entry.onStarted = new SpawnWaiter(this, entry, resolve, reject);
        this.#watchdog.watch(entry);
        const b = wire.behavior as BehaviorDescriptor;
        const n = this.#numbers.define(thread, b.module, b.exportName, b);
        this.#host.start(thread, n, wire.capacity, wire.overflow, id, path, wire.props);
      });
    }
    return this.#startEntry(entry).then(
      () => this.spawned(entry),
      (error: unknown) => {
        throw this.spawnFailed(entry, error);
      },
    );
  }

  /** @internal A spawn completed: publish it and hand out the ref. */
  spawned(entry: Entry): ActorRef {
    entry.status = 'running';
    entry.needsFullStart = false;
    if (this.#bus.wants('actor-spawned')) this.#bus.publish({ type: 'actor-spawned', time: Date.now(), ref: entry.ref, parent: entry.parent!.ref.path });
    return entry.ref;
  }

  /** @internal A spawn failed: undo the registration and wrap the cause. */
  spawnFailed(entry: Entry, error: unknown): Error {
    this.#forget(entry);
    if (this.isUp(entry.thread)) this.#host.route(entry.thread, { t: 'kill', id: entry.id });
    return error instanceof SpawnFailedError ? error : new SpawnFailedError(entry.ref.path, error);
  }

  async #startEntry(entry: Entry): Promise<void> {
    const wire = entry.wire;
    if (wire.behavior.kind === 'apiary.supervisor') {
      const spec = wire.behavior;
      const outcome = await this.command(entry, { t: 'start', spec: this.startSpec(entry) }, 'started');
      if (outcome !== null) throw outcome;
      entry.policy = new SupervisorPolicy(spec, this.#clock);
      entry.children = new Map();
      entry.status = 'running';
      for (const child of spec.children) {
        try {
          await this.startChild(entry, child);
        } catch (error) {
          // OTP: a supervisor whose init cannot start a child fails to start; undo what started.
          for (const started of [...entry.children.values()].reverse()) await this.stopEntry(started, 'shutdown', false);
          throw error;
        }
      }
      return;
    }
    await this.#pool?.whenUp(entry.thread);
    const outcome = await this.command(entry, { t: 'start', spec: this.startSpec(entry) }, 'started');
    if (outcome !== null) throw outcome;
    entry.status = 'running';
    entry.needsFullStart = false;
  }

  /** @internal */
  startSpec(entry: Entry): StartSpec {
    const b = entry.wire.behavior;
    const isSup = b.kind === 'apiary.supervisor';
    return {
      id: entry.id,
      path: entry.ref.path,
      b: isSup ? this.#numbers.define(entry.thread, SUPERVISOR_MODULE, SUPERVISOR_EXPORT) : this.#numbers.define(entry.thread, b.module, b.exportName, b),
      props: isSup ? { id: entry.id } : entry.wire.props,
      capacity: entry.wire.capacity,
      overflow: entry.wire.overflow,
    };
  }

  /** @internal Sends a command to the entry's host and waits for the matching notice. */
  command(entry: Entry, env: Envelope, notice: 'started' | 'halted' | 'stopped'): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      const resolver = { resolve: () => resolve(null), reject: (error: Error) => resolve(error) };
      if (notice === 'started') {
        entry.onStarted = resolver;
        this.#watchdog.watch(entry);
      }
      else if (notice === 'halted') entry.onHalted = resolver;
      else entry.onStopped = resolver;
      this.#host.route(entry.thread, env);
    });
  }

  /** A start that did not finish in time: drop the actor on its host and fail the waiter. */
  #startTimedOut(entry: Entry): void {
    const waiter = entry.onStarted;
    if (waiter === null) return;
    entry.onStarted = null;
    if (this.isUp(entry.thread)) {
      entry.onStopped = { resolve: () => undefined, reject: () => undefined }; // the kill's notice is expected
      this.#host.route(entry.thread, { t: 'kill', id: entry.id });
    }
    entry.needsFullStart = true;
    waiter.reject(new StartTimeoutError(entry.ref.path, entry.wire.startTimeoutMs));
  }

  // ---- stop -------------------------------------------------------------------------------

  /**
   * Stops an entry in order: a supervisor's children first, in reverse start order, each within its
   * shutdown timeout. `keep` leaves it registered (stopped, to be started again by a restart).
   */
  async stopEntry(entry: Entry, reason: StopReason, keep: boolean): Promise<void> {
    if (!keep) entry.terminating = true;
    if (entry.status === 'stopped' && keep) return;
    entry.status = 'stopping';
    if (entry.children !== null) {
      for (const child of [...entry.children.values()].reverse()) await this.stopEntry(child, reason, keep);
    }
    if (this.isUp(entry.thread) && !entry.needsFullStart) {
      const timeoutMs = entry.wire.shutdownTimeoutMs;
      let timer: ReturnType<Clock['setTimeout']> | null = null;
      const stopped = this.command(entry, { t: 'stop', id: entry.id, reason }, 'stopped');
      const outcome = Number.isFinite(timeoutMs)
        ? await Promise.race([
            stopped,
            new Promise<Outcome>((resolve) => {
              timer = this.#clock.setTimeout(() => resolve(new ShutdownTimeoutError(entry.ref.path, timeoutMs)), timeoutMs);
            }),
          ])
        : await stopped;
      if (timer !== null) this.#clock.clearTimeout(timer);
      if (outcome instanceof ShutdownTimeoutError) {
        reason = 'killed';
        await this.command(entry, { t: 'kill', id: entry.id }, 'stopped');
      }
    }
    entry.needsFullStart = true;
    entry.status = 'stopped';
    if (!keep) this.#retire(entry, reason);
  }

  /** Removes a stopped entry for good: registry, parent, watchers. */
  #retire(entry: Entry, reason: StopReason): void {
    this.#forget(entry);
    this.#bus.publish({ type: 'actor-stopped', time: Date.now(), ref: entry.ref, reason, error: reason === 'failed' ? entry.lastError : undefined });
    const signal: Terminated = { type: 'terminated', ref: entry.ref, reason, error: reason === 'failed' ? entry.lastError?.message : undefined };
    this.#deathWatch.terminated(entry, signal);
  }

  #forget(entry: Entry): void {
    this.index.remove(entry);
    const parent = entry.parent;
    if (parent?.children != null && parent.children.get(entry.name) === entry) {
      parent.children.delete(entry.name);
      parent.policy?.forget(entry.id);
    }
  }

  /** Stops an actor for good (and, for a supervisor, its subtree), through its parent's chain. */
  stop(ref: ActorRef, reason: StopReason = 'normal'): Promise<void> {
    const entry = this.index.byId.get(ref.id);
    if (entry === undefined) return Promise.reject(new ActorNotFoundError(ref.path));
    if (entry === this.#root) return Promise.reject(new InvalidArgumentError('ref', 'is the root guardian; use system.stop()'));
    const sup = entry.parent!;
    const run = (): Promise<void> => this.stopEntry(entry, reason, false);
    const done = (sup.chain ?? Promise.resolve()).then(run, run);
    sup.chain = done.catch(() => undefined);
    return done;
  }

  /** Stops everything in order, root last. */
  async shutdown(): Promise<void> {
    this.#stopping = true;
    this.#watchdog.stop();
    for (const timer of this.backoffTimers) this.#clock.clearTimeout(timer);
    this.backoffTimers.clear();
    await this.stopEntry(this.#root, 'shutdown', false);
  }

  /** @internal True while `thread` runs. */
  isUp(thread: number): boolean {
    return this.#pool === null || this.#pool.isUp(thread);
  }

  // ---- DeathWatch -------------------------------------------------------------------------

  /** Registers (or cancels) `watcher` watching `targetId`. */
  watch(watcherId: string, targetId: string, on: boolean): void {
    this.#deathWatch.watch(watcherId, targetId, on);
  }

  /** Resolves when `ref` stops for good (immediately with `not-found` if it is unknown). */
  whenTerminated(ref: ActorRef): Promise<Terminated> {
    return this.#deathWatch.whenTerminated(ref);
  }

  // ---- thread crashes ---------------------------------------------------------------------

  /** How many actors a thread hosts (supervisors never live on worker threads). */
  actorsOnThread(thread: number): number {
    return this.index.onThread(thread).length;
  }

  /** A worker thread died: every actor on it failed with one shared incident. */
  threadCrashed(thread: number, error: ThreadCrashedError): void {
    this.#numbers.forget(thread); // the replacement knows no behavior numbers yet
    this.#flow.threadCrashed(this.index.onThread(thread), error, `thread:${thread}:${++this.#crashes}`);
  }

  /** Reservations the replacement thread gets first, so mail buffered for its actors waits for them. */
  preamble(thread: number): Envelope[] {
    const actors = this.index.onThread(thread).filter((e) => !e.terminating && e.wire.behavior.kind !== 'apiary.supervisor');
    return this.#numbers.preamble(
      thread,
      actors.map((e) => {
        const b = e.wire.behavior as BehaviorDescriptor;
        return { module: b.module, exportName: b.exportName, spec: (n: number) => ({ id: e.id, path: e.ref.path, b: n, props: e.wire.props, capacity: e.wire.capacity, overflow: e.wire.overflow }) };
      }),
    );
  }
}
