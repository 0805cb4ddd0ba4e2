import { accessSync, constants, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { InvalidArgumentError, type ActorRef, type ActorSystem, type Placement } from '@apiary/runtime';
import { INDEX_QUANTIZATIONS, type NamespaceConfig, type NamespaceOptions } from './config.js';
import { createShared, defaultMaxEntries, H } from './shared-state.js';
import { autoOptimizePolicy } from './auto-optimize.js';
import { memoryOwner, type OwnerMessage } from './owner.js';
import { forgetReader, MemoryNamespace, type NamespaceHandle } from './namespace.js';
import { NamespaceExistsError, UnknownNamespaceError } from './errors.js';
import type { ThreadContext } from './native-index.js';

/** Options of a {@link VectorMemory}. Every default is listed. */
export interface VectorMemoryOptions {
  /** Where snapshots go for the readers: `/dev/shm` when writable (a tmpfs), else the OS temp dir. */
  readonly snapshotDir?: string;
  /** Persistence root: each namespace keeps its checkpoint and write log in a subdirectory. Default: none (memory dies with the process). */
  readonly dir?: string;
  /** Where the namespaces' owner actors run. Default `'least-loaded'` (a worker thread). */
  readonly placement?: Placement;
  /**
   * Time an owner may take to start: restoring a persistent namespace of millions of entries takes
   * a while (it reads the directory and rebuilds the shared memory, the event loop turning between
   * blocks). Past it the start fails (StartTimeoutError). Default 600,000 ms.
   */
  readonly startTimeoutMs?: number;
  /**
   * Time an owner may take to stop: a persistent namespace writes its checkpoint then (seconds per
   * million entries). Past it the owner is dropped and the next start replays the write log instead
   * (nothing is lost, the start takes longer). Default 120,000 ms.
   */
  readonly stopTimeoutMs?: number;
}

const NAMESPACE = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,100}$/;

/** How the main thread's clients run their calls (see `VectorMemory.get`). */
const MAIN_THREAD: ThreadContext = { blocking: (fn) => fn(), nativeCall: (fn) => fn() };

/**
 * The shared vector memory of an actor system: namespaces (per agent, per swarm, a global one), each
 * with one owner actor that writes and readers on every thread that search locally.
 *
 * ```ts
 * const memory = await VectorMemory.start(system);
 * const global = await memory.create('global', { dimensions: 384 });
 * await global.add({ id: 'f1', vector, metadata: { kind: 'finding' } });
 * const hits = await global.search(query, { k: 5, filter: { kind: 'finding' } });
 * ```
 */
export class VectorMemory {
  readonly #system: ActorSystem;
  readonly #options: VectorMemoryOptions;
  readonly #root: string;
  readonly #namespaces = new Map<string, NamespaceHandle>();
  /**
   * The create or drop under way on a name (its name is reserved meanwhile: null in #namespaces),
   * settled either way: a drop or stop waits for it, so neither misses an owner still starting.
   */
  readonly #settling = new Map<string, Promise<void>>();

  private constructor(system: ActorSystem, options: VectorMemoryOptions, root: string) {
    this.#system = system;
    this.#options = options;
    this.#root = root;
  }

  /** Sets up the memory's snapshot directory. Namespaces come with `create`. */
  static async start(system: ActorSystem, options: VectorMemoryOptions = {}): Promise<VectorMemory> {
    for (const field of ['startTimeoutMs', 'stopTimeoutMs'] as const) {
      const ms = options[field];
      if (ms !== undefined && (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0)) throw new InvalidArgumentError(field, 'must be a positive finite number of milliseconds');
    }
    const base = options.snapshotDir ?? (writable('/dev/shm') ? '/dev/shm' : tmpdir());
    removeOrphans(base);
    const root = mkdtempSync(join(base, `apiary-memory-${process.pid}-`));
    return new VectorMemory(system, options, root);
  }

  /** Where this memory's snapshot files live. */
  get snapshotDir(): string {
    return this.#root;
  }

  /**
   * Creates a namespace and starts its owner (restoring it from the persistence directory when there
   * is one), then publishes `memory-created`. A name that exists fails with NamespaceExistsError.
   */
  async create(name: string, options: NamespaceOptions): Promise<MemoryNamespace> {
    if (typeof name !== 'string' || !NAMESPACE.test(name)) throw new InvalidArgumentError('name', `must match ${NAMESPACE.source}`);
    if (this.#namespaces.has(name)) throw new NamespaceExistsError(name, 'create it once, then get() it');
    const config = this.#config(name, options);
    this.#namespaces.set(name, null as never); // reserve the name while the owner starts
    const started = Date.now();
    const creating = (async (): Promise<NamespaceHandle> => {
      try {
        const owner = (await this.#system.spawn(memoryOwner, {
          name: `memory.${name}`,
          props: config,
          placement: this.#options.placement ?? 'least-loaded',
          startTimeoutMs: this.#options.startTimeoutMs ?? 600_000,
          shutdownTimeoutMs: this.#options.stopTimeoutMs ?? 120_000,
        })) as ActorRef<OwnerMessage, unknown>;
        const handle: NamespaceHandle = { config, owner };
        this.#namespaces.set(name, handle);
        const { events } = this.#system;
        if (events.wants('memory-created')) {
          events.publish({ type: 'memory-created', time: Date.now(), namespace: name, dimensions: config.dimensions, persistent: config.persistDir !== null, owner, ms: Date.now() - started });
        }
        return handle;
      } catch (error) {
        this.#namespaces.delete(name);
        throw error;
      }
    })();
    this.#settle(name, creating);
    return this.#client(await creating);
  }

  /** A client of an existing namespace; UnknownNamespaceError if there is none of that name. */
  get(name: string): MemoryNamespace {
    return this.#client(this.handle(name));
  }

  /** The plain-data handle of a namespace, for actors on any thread (`openNamespace(handle, ctx)`). */
  handle(name: string): NamespaceHandle {
    const handle = this.#namespaces.get(name);
    if (handle === undefined || handle === null) throw new UnknownNamespaceError(name);
    return handle;
  }

  /**
   * Drops a namespace: stops its owner (a persistent one writes its checkpoint first, unless its
   * data goes too), closes it to every thread (their searches then fail with UnknownNamespaceError,
   * and each thread lets go of its reader and viewed snapshot at its next one), and removes its
   * snapshot files. `deleteData: true` also deletes its persistence directory, so that a namespace
   * created again under the name starts empty; without it, one created again takes the entries
   * back. Writes not yet answered fail (the owner stopped). The name stays taken until the drop is
   * done. A namespace still being created is dropped once it is (a client the create returns is
   * then closed); an unknown name, or one whose create failed or that another drop took first,
   * fails with UnknownNamespaceError. Publishes `memory-dropped` once the name is free again.
   */
  async drop(name: string, options: { readonly deleteData?: boolean } = {}): Promise<void> {
    if (options.deleteData !== undefined && typeof options.deleteData !== 'boolean') throw new InvalidArgumentError('deleteData', 'must be a boolean');
    await this.#settling.get(name);
    const handle = this.handle(name);
    this.#namespaces.set(name, null as never); // taken while it stops: a create() now would race its files
    const started = Date.now();
    const dropping = (async (): Promise<void> => {
      let dataDeleted = false;
      try {
        await this.#system.stop(handle.owner).catch(() => undefined);
        close(handle);
        const { snapshotDir, fileStem, persistDir } = handle.config;
        for (const file of readdirSync(snapshotDir)) {
          if (file.startsWith(`${fileStem}.`)) rmSync(join(snapshotDir, file), { force: true });
        }
        if (options.deleteData === true && persistDir !== null) {
          rmSync(persistDir, { recursive: true, force: true });
          dataDeleted = true;
        }
      } finally {
        this.#namespaces.delete(name);
      }
      // Once the name is free: a listener may create the namespace again at once.
      const { events } = this.#system;
      if (events.wants('memory-dropped')) events.publish({ type: 'memory-dropped', time: Date.now(), namespace: name, dataDeleted, ms: Date.now() - started });
    })();
    this.#settle(name, dropping);
    await dropping;
  }

  /** Names of the namespaces. */
  names(): string[] {
    return [...this.#namespaces.keys()];
  }

  /**
   * Stops every owner (each writes its checkpoint when persistent) and removes the snapshot files,
   * after the creates and drops under way (a namespace being created is stopped with the others).
   */
  async stop(): Promise<void> {
    while (this.#settling.size > 0) await Promise.all(this.#settling.values());
    for (const handle of this.#namespaces.values()) {
      if (handle === null) continue;
      await this.#system.stop(handle.owner).catch(() => undefined);
      close(handle);
    }
    this.#namespaces.clear();
    if (existsSync(this.#root)) rmSync(this.#root, { recursive: true, force: true });
  }

  /** Registers `work` as the operation under way on `name` until it settles (whether it succeeds or fails). */
  #settle(name: string, work: Promise<unknown>): void {
    const settled: Promise<void> = work.then(
      () => undefined,
      () => undefined,
    );
    this.#settling.set(name, settled);
    void settled.then(() => {
      if (this.#settling.get(name) === settled) this.#settling.delete(name);
    });
  }

  #client(handle: NamespaceHandle): MemoryNamespace {
    // The main thread answers no heartbeat, so its calls need no blocking sections.
    return new MemoryNamespace(handle, (target, message, options) => this.#system.ask(target, message, options), null, MAIN_THREAD);
  }

  #config(name: string, o: NamespaceOptions): NamespaceConfig {
    const int = (field: keyof NamespaceOptions, value: number | undefined, fallback: number, min = 1): number => {
      const v = value ?? fallback;
      if (!Number.isInteger(v) || v < min) throw new InvalidArgumentError(field, `must be an integer >= ${min}`);
      return v;
    };
    const dimensions = int('dimensions', o?.dimensions, NaN);
    const tailCapacity = int('tailCapacity', o.tailCapacity, 16_384, 64);
    // Defaults from measurements (README, "Shared vector memory"): a tail scan of ~131k floats (341
    // vectors at 384-d) costs about what an index search does (~0.2 ms p50), so below that a namespace
    // needs no index; ~393k floats (1,024 at 384-d) bounds the scan a search pays between snapshots.
    const indexThreshold = int('indexThreshold', o.indexThreshold, Math.min(Math.floor(131_072 / dimensions), tailCapacity / 2), 0);
    if (indexThreshold > tailCapacity / 2) throw new InvalidArgumentError('indexThreshold', 'must be at most half of tailCapacity');
    const snapshotEveryWrites = int('snapshotEveryWrites', o.snapshotEveryWrites, Math.max(64, Math.min(Math.floor(393_216 / dimensions), tailCapacity / 2)));
    if (snapshotEveryWrites > tailCapacity / 2) throw new InvalidArgumentError('snapshotEveryWrites', 'must be at most half of tailCapacity');
    const maxEntries = int('maxEntries', o.maxEntries, defaultMaxEntries(dimensions));
    const quantization = o.quantization ?? 'bf16';
    if (!INDEX_QUANTIZATIONS.includes(quantization)) throw new InvalidArgumentError('quantization', `must be one of ${INDEX_QUANTIZATIONS.join(', ')}`);
    return {
      name,
      dimensions,
      connectivity: int('connectivity', o.connectivity, 16, 2),
      expansionAdd: int('expansionAdd', o.expansionAdd, 128),
      expansionSearch: int('expansionSearch', o.expansionSearch, 64),
      quantization,
      indexThreshold,
      tailCapacity,
      snapshotEveryWrites,
      snapshotEveryMs: int('snapshotEveryMs', o.snapshotEveryMs, 1_000),
      autoOptimize: autoOptimizePolicy(o.autoOptimize),
      snapshotDir: this.#root,
      fileStem: `${name.replace(/[^A-Za-z0-9_.-]/g, '_')}-${randomBytes(4).toString('hex')}`,
      persistDir: this.#options.dir === undefined ? null : join(this.#options.dir, encodeURIComponent(name)),
      shared: createShared({ dimensions, maxEntries, maxRecordBytes: int('maxRecordBytes', o.maxRecordBytes, 2 ** 30) }),
    };
  }
}

/** Closes a stopped namespace to every thread, and lets go of this thread's reader. */
function close(handle: NamespaceHandle): void {
  Atomics.store(new Int32Array(handle.config.shared.header), H.CLOSED, 1);
  forgetReader(handle.config.fileStem);
}

/**
 * Snapshot directories of processes that died without stopping their memory (SIGKILL, a crash) would
 * hold RAM in /dev/shm until reboot: remove those whose process is gone.
 */
function removeOrphans(base: string): void {
  for (const name of readdirSync(base)) {
    const pid = Number(/^apiary-memory-(\d+)-/.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid || alive(pid)) continue;
    rmSync(join(base, name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
