import { MessageChannel, Worker, type MessagePort, type ResourceLimits } from 'node:worker_threads';
import * as Comlink from 'comlink';
import type { Clock } from './clock.js';
import { ThreadCrashedError, serializeError } from './errors.js';
import type { ActorHost } from './host.js';
import { BLOCKING_CELL_BYTES, silentSince } from './blocking.js';
import { NATIVE_CELL_BYTES, closeNativeFence, closeNativeFenceSync } from './native-calls.js';
import { comlinkEndpoint } from './comlink-endpoint.js';
import type { Envelope, HostControl, HostWorkerData } from './protocol.js';
import { MessagePortTransport } from './transport.js';

/** Settings of the worker-thread pool. */
export interface ThreadPoolOptions {
  readonly threads: number;
  readonly resourceLimits: ResourceLimits | undefined;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatTimeoutMs: number;
  readonly maxBatch: number;
  /** Register tsx in workers (running from TypeScript sources). */
  readonly tsx: boolean;
}

/** What the pool reports to the kernel. */
export interface ThreadPoolEvents {
  /** A thread died; everything it hosted is gone. Returns nothing; replacement starts at once. */
  crashed(thread: number, error: ThreadCrashedError): void;
  /** Envelopes the replacement for `thread` must receive before anything else (actor reservations). */
  preamble(thread: number): Envelope[];
  /** A thread is up and linked (first start or replacement). */
  ready(thread: number, replaced: boolean, downtimeMs: number): void;
}

interface Slot {
  worker: Worker | null;
  control: Comlink.Remote<HostControl> | null;
  controlPort: MessagePort | null;
  up: boolean;
  ready: Promise<void>;
  markReady: () => void;
  crashReason: string | null;
  downSince: number;
  generation: number;
  /** The thread's blocking cell (see blocking.ts); a fresh one per worker started. */
  blocking: SharedArrayBuffer;
  /** The thread's native-call cell (see native-calls.ts); a fresh one per worker started. */
  native: SharedArrayBuffer;
  missed: boolean;
}

const ENTRY_EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/**
 * The worker threads of one actor system: starts them, links every pair with a MessageChannel (a
 * full mesh, so actor-to-actor traffic never detours through the main thread), watches them with
 * heartbeats and replaces any that dies, keeping its index so ActorRefs stay valid.
 */
export class ThreadPool {
  readonly #host: ActorHost;
  readonly #options: ThreadPoolOptions;
  readonly #events: ThreadPoolEvents;
  readonly #clock: Clock;
  readonly #slots: Slot[] = [];
  #heartbeat: ReturnType<typeof setInterval> | null = null;
  #stopping = false;

  constructor(host: ActorHost, options: ThreadPoolOptions, events: ThreadPoolEvents, clock: Clock) {
    this.#host = host;
    this.#options = options;
    this.#events = events;
    this.#clock = clock;
  }

  /** Number of worker threads (threads are numbered 1..size; 0 is the main thread). */
  get size(): number {
    return this.#options.threads;
  }

  /** Starts every thread and links them; resolves when all answer. */
  async start(): Promise<void> {
    for (let t = 1; t <= this.#options.threads; t++) this.#slots[t] = this.#newSlot();
    atExit(this, true);
    await Promise.all(this.#slots.slice(1).map((_, i) => this.#spawn(i + 1, false)));
    if (this.#options.heartbeatIntervalMs > 0) {
      this.#heartbeat = setInterval(() => this.#beat(), this.#options.heartbeatIntervalMs);
      this.#heartbeat.unref();
    }
  }

  /** True while `thread` is running (the main thread always is). */
  isUp(thread: number): boolean {
    return thread === 0 || this.#slots[thread]?.up === true;
  }

  /** Resolves when `thread` is up (at once if it is). */
  whenUp(thread: number): Promise<void> {
    if (thread === 0) return Promise.resolve();
    const slot = this.#slots[thread];
    return slot === undefined ? Promise.reject(new RangeError(`no thread ${thread}`)) : slot.ready;
  }

  /** The control API of a worker thread, or null while it is down. */
  control(thread: number): Comlink.Remote<HostControl> | null {
    return this.#slots[thread]?.control ?? null;
  }

  /** Kills a thread as if it had crashed (tests, chaos drills). */
  async terminate(thread: number): Promise<void> {
    const slot = this.#slots[thread];
    if (slot?.worker != null) {
      slot.crashReason ??= 'terminated on request';
      await terminateFenced(slot.worker, slot.native);
    }
  }

  /** Terminates every thread; the pool is unusable afterwards. */
  async stop(): Promise<void> {
    this.#stopping = true;
    atExit(this, false);
    if (this.#heartbeat !== null) clearInterval(this.#heartbeat);
    await Promise.all(
      this.#slots.slice(1).map(async (slot) => {
        slot.control?.[Comlink.releaseProxy]();
        slot.control = null;
        slot.controlPort?.close();
        slot.controlPort = null;
        slot.up = false;
        if (slot.worker !== null) await terminateFenced(slot.worker, slot.native);
        slot.worker = null;
      }),
    );
  }

  #newSlot(): Slot {
    let markReady!: () => void;
    const ready = new Promise<void>((resolve) => {
      markReady = resolve;
    });
    return { worker: null, control: null, controlPort: null, up: false, ready, markReady, crashReason: null, downSince: 0, generation: 0, missed: false, blocking: new SharedArrayBuffer(BLOCKING_CELL_BYTES), native: new SharedArrayBuffer(NATIVE_CELL_BYTES) };
  }

  async #spawn(thread: number, replaced: boolean): Promise<void> {
    const slot = this.#slots[thread]!;
    const generation = ++slot.generation;
    const data = new MessageChannel();
    const control = new MessageChannel();
    const workerData: HostWorkerData = {
      thread,
      data: data.port2,
      control: control.port2,
      entry: new URL(`./worker-entry${ENTRY_EXT}`, import.meta.url).href,
      tsx: this.#options.tsx,
      maxBatch: this.#options.maxBatch,
      blocking: (slot.blocking = new SharedArrayBuffer(BLOCKING_CELL_BYTES)),
      native: (slot.native = new SharedArrayBuffer(NATIVE_CELL_BYTES)),
    };
    const worker = new Worker(new URL('./bootstrap.mjs', import.meta.url), {
      workerData,
      transferList: [data.port2, control.port2],
      resourceLimits: this.#options.resourceLimits,
      // execArgv is inherited (passing it explicitly rejects per-process flags such as --expose-gc).
      name: `apiary-thread-${thread}`,
    });
    slot.worker = worker;
    slot.crashReason = null;
    let lastError: unknown;
    worker.on('error', (error) => {
      lastError = error;
      slot.crashReason ??= `uncaught error: ${error instanceof Error ? error.message : String(error)}`;
    });
    worker.on('exit', (code) => {
      if (slot.generation !== generation) return;
      this.#onExit(thread, code, lastError);
    });
    slot.controlPort = control.port1;
    slot.control = Comlink.wrap<HostControl>(comlinkEndpoint(control.port1));
    // The data link goes up with the preamble first: reservations for the actors this thread must
    // bring back, so messages buffered for them while it was down wait in their mailboxes.
    this.#host.attach(thread, new MessagePortTransport(data.port1), replaced ? this.#events.preamble(thread) : []);
    await slot.control.ping();
    if (slot.generation !== generation || this.#stopping) return;
    this.#linkPeers(thread);
    slot.up = true;
    slot.missed = false;
    const downtimeMs = replaced ? this.#clock.now() - slot.downSince : 0;
    this.#events.ready(thread, replaced, downtimeMs);
    slot.markReady();
  }

  /** Gives `thread` and every other live worker a direct channel to each other. */
  #linkPeers(thread: number): void {
    for (let peer = 1; peer < this.#slots.length; peer++) {
      if (peer === thread || !this.#slots[peer]!.up) continue;
      const channel = new MessageChannel();
      this.#host.sendLink(thread, peer, channel.port1);
      this.#host.sendLink(peer, thread, channel.port2);
    }
  }

  #onExit(thread: number, code: number, lastError: unknown): void {
    const slot = this.#slots[thread]!;
    slot.up = false;
    slot.worker = null;
    slot.control?.[Comlink.releaseProxy]();
    slot.control = null;
    slot.controlPort?.close();
    slot.controlPort = null;
    if (this.#stopping) return;
    slot.downSince = this.#clock.now();
    const reason = slot.crashReason ?? `exited with code ${code}`;
    const error = new ThreadCrashedError(thread, reason, lastError);
    // A fresh ready promise for those who wait on the replacement.
    const fresh = this.#newSlot();
    slot.ready = fresh.ready;
    slot.markReady = fresh.markReady;
    this.#host.detach(thread, serializeError(error));
    for (let peer = 1; peer < this.#slots.length; peer++) {
      if (peer !== thread && this.#slots[peer]!.up) this.#host.route(peer, { t: 'down', thread, e: serializeError(error) });
    }
    this.#events.crashed(thread, error);
    this.#spawn(thread, true).catch(() => {
      // The replacement died during start; its own exit handler starts the next attempt.
    });
  }

  /** At process exit: lets the native calls under way return before Node terminates the threads (see {@link atExit}). */
  fenceForExit(): void {
    const until = Date.now() + this.#options.heartbeatTimeoutMs;
    for (const slot of this.#slots.slice(1)) {
      if (slot.worker !== null) closeNativeFenceSync(slot.native, silentSince(slot.blocking, until));
    }
  }

  #beat(): void {
    for (let thread = 1; thread < this.#slots.length; thread++) {
      const slot = this.#slots[thread]!;
      if (!slot.up || slot.control === null || slot.worker === null) continue;
      if (slot.missed) continue; // a ping is still out; its timer decides
      slot.missed = true;
      const worker = slot.worker;
      const sent = Date.now();
      let timer: ReturnType<typeof setTimeout>;
      const check = (): void => {
        // Timers run before incoming messages in an event-loop turn: after this (main) thread was
        // blocked, an answer that came in time would be read only after this timer. Look once more
        // after the poll phase (setImmediate) so a busy main thread does not kill a healthy worker.
        setImmediate(() => {
          if (slot.worker !== worker || !slot.missed) return;
          // Silence inside a declared blocking section does not count (see blocking.ts).
          const since = silentSince(slot.blocking, sent);
          const left = since + this.#options.heartbeatTimeoutMs - Date.now();
          if (left > 0) {
            timer = setTimeout(check, left);
            timer.unref();
            return;
          }
          slot.crashReason ??= `no heartbeat for ${Date.now() - sent} ms` + (since > sent ? `, ${Date.now() - since} ms of it outside blocking sections` : '');
          void terminateFenced(worker, slot.native);
        });
      };
      timer = setTimeout(check, this.#options.heartbeatTimeoutMs);
      timer.unref();
      slot.control.ping().then(
        () => {
          clearTimeout(timer);
          if (slot.worker === worker) slot.missed = false;
        },
        () => clearTimeout(timer),
      );
    }
  }
}

/** Terminates `worker` once no native call is under way on it (see native-calls.ts). */
async function terminateFenced(worker: Worker, native: SharedArrayBuffer): Promise<void> {
  await closeNativeFence(native);
  await worker.terminate();
}

/**
 * At process exit (`process.exit()`, the end of the event loop, an uncaught error) Node terminates
 * the workers itself: each running pool first lets their native calls return, for up to its
 * heartbeat timeout or a longer blocking section under way (see native-calls.ts). Measured here,
 * `process.exit()` during a worker's USearch searches aborted the process 11 times of 12. One
 * 'exit' listener serves every pool of the process, however many systems run.
 */
const running = new Set<ThreadPool>();
const fenceAll = (): void => running.forEach((pool) => pool.fenceForExit());

function atExit(pool: ThreadPool, on: boolean): void {
  if (on) {
    if (running.size === 0) process.on('exit', fenceAll);
    running.add(pool);
  } else if (running.delete(pool) && running.size === 0) {
    process.off('exit', fenceAll);
  }
}
