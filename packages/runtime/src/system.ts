import { availableParallelism } from 'node:os';
import type { ResourceLimits } from 'node:worker_threads';
import type { AskOptions, Behavior, SendOptions, Terminated } from './behavior.js';
import { systemClock, type Clock } from './clock.js';
import { InvalidArgumentError, SystemFailedError, SystemStoppedError, serializeError } from './errors.js';
import { EventBus, type ApiaryEventType } from './events.js';
import type { Replied } from './error-reply.js';
import { ActorHost } from './host.js';
import { IdGenerator } from './ids.js';
import { Kernel } from './kernel.js';
import type { ActorRef } from './ref.js';
import { Registry } from './registry-view.js';
import {
  supervisor,
  supervisorOp,
  toWire,
  toWireChild,
  type ChildSpec,
  type SpawnOptions,
  type SupervisorOp,
  type SupervisorOptions,
  type SupervisorSpec,
  type WireChild,
  validateName,
} from './spec.js';
import { createSupervisorBehavior, SUPERVISOR_EXPORT, SUPERVISOR_MODULE, type ChildInfo } from './supervisor-behavior.js';
import { ThreadPool } from './thread-pool.js';

/** Options of {@link ActorSystem.start}. Every default is listed. */
export interface ActorSystemOptions {
  /** Worker threads hosting actors. Default: `os.availableParallelism()`. 0 runs everything on the main thread. */
  readonly threads?: number;
  /** V8 limits per worker thread; a thread that hits them is replaced like any crashed thread. Default: none. */
  readonly resourceLimits?: ResourceLimits;
  /** How often each thread is pinged. Default 1000 ms; 0 disables heartbeats. */
  readonly heartbeatIntervalMs?: number;
  /** A thread that does not answer a ping within this is terminated and replaced. Default 5000 ms. */
  readonly heartbeatTimeoutMs?: number;
  /** Most envelopes per cross-thread postMessage. Default 1024. */
  readonly maxBatch?: number;
  /** Time source for supervisors, backoff and ask timeouts on the main thread. Default: the real clock. */
  readonly clock?: Clock;
  /**
   * How the root guardian supervises top-level actors (strategy, intensity, period, backoff).
   * Default: one-for-one, intensity 5 per 30000 ms, default backoff. Past it the system stops with
   * SystemFailedError.
   */
  readonly guardian?: Omit<SupervisorOptions, 'children'>;
  /**
   * Whether worker threads register tsx to import TypeScript behavior modules. Default `auto`: on
   * when the runtime itself runs from `.ts` sources or the process was started with a tsx loader.
   */
  readonly loader?: 'auto' | 'tsx' | 'none';
}

/** How the system ended. */
export interface SystemTermination {
  readonly reason: 'stopped' | 'failed';
  readonly error?: Error | undefined;
}

/**
 * An actor system: a main-thread host plus a pool of worker-thread hosts, a kernel that owns
 * lifecycle and supervision, a registry and one event bus.
 *
 * ```ts
 * const system = await ActorSystem.start({ threads: 2 });
 * const counter = await system.spawn(counterBehavior, { name: 'counter', props: { start: 0 } });
 * system.tell(counter, 'inc');
 * console.log(await system.ask(counter, 'get')); // 1
 * await system.stop();
 * ```
 */
export class ActorSystem {
  /** Every lifecycle, failure, thread and dead-letter event. */
  readonly events: EventBus;
  /** Look-ups by id, path and tag, and live per-actor counters. */
  readonly registry: Registry;
  readonly #host: ActorHost;
  readonly #kernel: Kernel;
  readonly #defaultWires = new WeakMap<object, WireChild>();
  #pool: ThreadPool | null = null;
  #state: 'running' | 'stopping' | 'stopped' = 'running';
  #stopPromise: Promise<void> | null = null;
  readonly #terminated: Promise<SystemTermination>;
  #resolveTerminated!: (t: SystemTermination) => void;

  private constructor(clock: Clock, maxBatch: number) {
    this.events = new EventBus();
    this.#host = new ActorHost(0, { maxBatch, clock });
    this.#kernel = new Kernel(this.#host, this.events, clock, new IdGenerator(), (error) => {
      void this.#shutdown({ reason: 'failed', error: new SystemFailedError(error) });
    });
    this.#host.lifecycle.behaviors.register(SUPERVISOR_MODULE, SUPERVISOR_EXPORT, createSupervisorBehavior(this.#kernel) as Behavior);
    // Threads build and post only the events someone listens to; tell them whenever that changes.
    this.#host.setInterestSource((type) => this.events.wants(type as ApiaryEventType));
    this.events.setInterestListener((interest) => {
      for (let t = 1; t <= this.threads; t++) this.#host.route(t, { t: 'interest', all: interest.all, types: interest.types });
    });
    this.registry = new Registry(this.#kernel, this.#host, () => this.#pool);
    this.#terminated = new Promise((resolve) => {
      this.#resolveTerminated = resolve;
    });
  }

  /** Starts the worker threads and the root guardian. Rejects with InvalidArgumentError on bad options. */
  static async start(options: ActorSystemOptions = {}): Promise<ActorSystem> {
    const threads = options.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 0 || threads > 256) throw new InvalidArgumentError('threads', 'must be an integer in 0..256');
    const maxBatch = options.maxBatch ?? 1024;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new InvalidArgumentError('maxBatch', 'must be an integer >= 1');
    const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 1000;
    const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 5000;
    if (!(heartbeatIntervalMs >= 0)) throw new InvalidArgumentError('heartbeatIntervalMs', 'must be >= 0');
    if (!(heartbeatTimeoutMs > 0)) throw new InvalidArgumentError('heartbeatTimeoutMs', 'must be > 0');
    const loader = options.loader ?? 'auto';
    if (!['auto', 'tsx', 'none'].includes(loader)) throw new InvalidArgumentError('loader', "must be 'auto', 'tsx' or 'none'");
    const guardian = supervisor({ ...(options.guardian ?? {}), children: [] });
    const clock = options.clock ?? systemClock;

    const system = new ActorSystem(clock, maxBatch);
    if (threads > 0) {
      system.#pool = new ThreadPool(
        system.#host,
        { threads, resourceLimits: options.resourceLimits, heartbeatIntervalMs, heartbeatTimeoutMs, maxBatch, tsx: wantsTsx(loader) },
        {
          crashed: (thread, error) => {
            // The cause is published before its effects (each victim's actor-failed, then restarts).
            const actors = system.#kernel.actorsOnThread(thread);
            system.events.publish({ type: 'thread-crashed', time: Date.now(), thread, reason: String(error.data.reason), actors, error: serializeError(error) });
            system.#kernel.threadCrashed(thread, error);
          },
          preamble: (thread) => system.#kernel.preamble(thread),
          ready: (thread, replaced, downtimeMs) => {
            const interest = system.events.interest;
            system.#host.route(thread, { t: 'interest', all: interest.all, types: interest.types });
            system.events.publish(
              replaced
                ? { type: 'thread-replaced', time: Date.now(), thread, downtimeMs }
                : { type: 'thread-started', time: Date.now(), thread },
            );
          },
        },
        systemClock,
      );
      await system.#pool.start();
    }
    await system.#kernel.boot(system.#pool, {
      kind: 'apiary.supervisor',
      strategy: guardian.strategy,
      intensity: guardian.intensity,
      periodMs: guardian.periodMs,
      backoff: guardian.backoff,
      children: [],
    });
    return system;
  }

  /** Number of worker threads (0 = everything on the main thread). */
  get threads(): number {
    return this.#pool?.size ?? 0;
  }

  /** The root guardian, parent of every top-level actor. */
  get root(): ActorRef<SupervisorOp> {
    return this.#kernel.root as ActorRef<SupervisorOp>;
  }

  /**
   * Spawns a top-level actor (a child of the root guardian) from a behavior or a supervisor spec.
   * Resolves once its `setup` finished; rejects with a typed error (InvalidArgumentError,
   * MessageNotCloneableError for props, NameTakenError, SpawnFailedError, SystemStoppedError).
   */
  spawn<P, M, S, R>(behavior: Behavior<P, M, S, R>, options?: SpawnOptions<P>): Promise<ActorRef<M, Replied<R>>>;
  spawn(spec: SupervisorSpec, options?: SpawnOptions<never>): Promise<ActorRef<SupervisorOp>>;
  spawn(behavior: Behavior | SupervisorSpec, options?: SpawnOptions): Promise<ActorRef> {
    if (this.#state !== 'running') return Promise.reject(new SystemStoppedError());
    try {
      let wire: WireChild | undefined;
      if (options === undefined && typeof behavior === 'object' && behavior !== null) {
        // Spawning many default actors of one behavior shares one (immutable) wire spec.
        wire = this.#defaultWires.get(behavior);
        if (wire === undefined) this.#defaultWires.set(behavior, (wire = toWire('', behavior as Behavior<never, unknown, unknown, unknown>, {}, 'options')));
      } else {
        const opts = options ?? {};
        if (opts.name !== undefined) validateName(opts.name, 'options.name');
        wire = toWire(opts.name ?? '', behavior as Behavior<never, unknown, unknown, unknown>, opts, 'options');
      }
      return this.#kernel.startChild(this.#kernel.root, wire);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Fire and forget from outside any actor. Throws MessageNotCloneableError / InvalidArgumentError. */
  tell<M>(target: ActorRef<M, unknown>, message: M): void {
    if (this.#state === 'stopped') throw new SystemStoppedError();
    this.#host.tell(target, message, null);
  }

  /** Request/reply: resolves with the handler's return value; AskTimeoutError, ActorNotFoundError, ActorFailedError... */
  ask<M, R>(target: ActorRef<M, R>, message: M, options?: AskOptions): Promise<Replied<R>> {
    if (this.#state === 'stopped') return Promise.reject(new SystemStoppedError());
    return this.#host.ask<Replied<R>>(target, message, options, null);
  }

  /** Tell that resolves once the target's mailbox accepted the message (waits under `backpressure`). */
  send<M>(target: ActorRef<M, unknown>, message: M, options?: SendOptions): Promise<void> {
    if (this.#state === 'stopped') return Promise.reject(new SystemStoppedError());
    return this.#host.send(target, message, options, null);
  }

  /** DeathWatch from outside: resolves when `ref` stops for good. */
  watch(ref: ActorRef): Promise<Terminated> {
    return this.#kernel.whenTerminated(ref);
  }

  /** Starts a child under a supervisor (OTP start_child). */
  startChild<M = unknown, R = unknown>(supervisorRef: ActorRef, spec: ChildSpec<M, R>): Promise<ActorRef<M, R>> {
    try {
      return this.#kernel.startChild(supervisorRef, toWireChild(spec as ChildSpec, 'spec')) as Promise<ActorRef<M, R>>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Stops and removes a supervisor's child by name (OTP terminate_child + delete_child). */
  terminateChild(supervisorRef: ActorRef, name: string): Promise<void> {
    return this.#host.ask<void>(supervisorRef, supervisorOp({ op: 'terminate-child', name }), { timeoutMs: 60_000 }, null);
  }

  /** A supervisor's children in start order (OTP which_children). */
  whichChildren(supervisorRef: ActorRef): Promise<ChildInfo[]> {
    return this.#host.ask<ChildInfo[]>(supervisorRef, supervisorOp({ op: 'which-children' }), undefined, null);
  }

  /** Kills a worker thread as if it crashed (chaos drills, tests); its actors are restarted per their specs. */
  terminateThread(thread: number): Promise<void> {
    if (this.#pool === null || !Number.isInteger(thread) || thread < 1 || thread > this.#pool.size) {
      return Promise.reject(new InvalidArgumentError('thread', `must be within 1..${this.threads}`));
    }
    return this.#pool.terminate(thread);
  }

  /**
   * `stop(ref)` stops one actor for good (a supervisor with its subtree), in order. `stop()` shuts
   * the whole system down in order, terminates the threads, and lets the process exit.
   */
  stop(ref?: ActorRef): Promise<void> {
    if (ref !== undefined) return this.#kernel.stop(ref);
    return this.#shutdown({ reason: 'stopped' });
  }

  /** Resolves when the system has stopped, by `stop()` or by a failure at the root. */
  whenTerminated(): Promise<SystemTermination> {
    return this.#terminated;
  }

  #shutdown(termination: SystemTermination): Promise<void> {
    if (this.#stopPromise !== null) return this.#stopPromise;
    this.#state = 'stopping';
    this.#stopPromise = (async () => {
      try {
        await this.#kernel.shutdown();
      } finally {
        this.#host.flushAll();
        await this.#pool?.stop();
        this.#host.closeLinks();
        this.#host.failPending(new SystemStoppedError());
        this.#state = 'stopped';
        this.events.publish({
          type: 'system-stopped',
          time: Date.now(),
          reason: termination.reason,
          error: termination.error === undefined ? undefined : serializeError(termination.error),
        });
        this.#resolveTerminated(termination);
      }
    })();
    return this.#stopPromise;
  }
}

function wantsTsx(loader: 'auto' | 'tsx' | 'none'): boolean {
  if (loader !== 'auto') return loader === 'tsx';
  if (import.meta.url.endsWith('.ts')) return true;
  const flags = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ');
  return /tsx/.test(flags);
}
