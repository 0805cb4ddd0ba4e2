import type { SerializedError } from './errors.js';
import type { ActorRef } from './ref.js';
import type { WireChild } from './spec.js';
import type { SupervisorPolicy } from './supervision.js';
import type { Kernel } from './kernel.js';

/** Lifecycle status of an actor, as the kernel tracks it. */
export type ActorStatus = 'starting' | 'running' | 'failed' | 'restarting' | 'stopping' | 'stopped';

/** What the registry knows about one actor. */
export interface ActorInfo {
  readonly ref: ActorRef;
  readonly name: string;
  /** Path of the supervising parent (`/` for top-level actors). */
  readonly parent: string | null;
  readonly status: ActorStatus;
  readonly thread: number;
  readonly tags: readonly string[];
  readonly restarts: number;
  readonly supervisor: boolean;
  /** Messages queued now (live, from the host). */
  readonly mailboxDepth: number;
  /** Messages processed since spawn, across restarts on a live thread (live, from the host). */
  readonly processed: number;
  readonly lastError?: SerializedError | undefined;
}

/** Filter for {@link ActorInfo} listings. */
export interface RegistryQuery {
  readonly tag?: string;
  readonly status?: ActorStatus;
  readonly thread?: number;
  /** Only actors under this path (inclusive). */
  readonly under?: string;
}

type Resolver = { resolve(): void; reject(error: Error): void };

/** @internal The kernel's record of one actor. */
export class Entry {
  status: ActorStatus = 'starting';
  restarts = 0;
  lastError: SerializedError | undefined = undefined;
  /** The host lost the actor (thread crash, or it stopped itself): the next start must be a full start. */
  needsFullStart = false;
  /** Child entries by name, in start order (supervisors only). */
  children: Map<string, Entry> | null = null;
  policy: SupervisorPolicy | null = null;
  /** Serializes this supervisor's restart sequences (made on first use: most entries never need one). */
  chain: Promise<void> | null = null;
  watchers: Set<string> | null = null;
  onStarted: Resolver | null = null;
  onHalted: Resolver | null = null;
  onStopped: Resolver | null = null;
  /** The incident whose restart this entry last went through. */
  incident: string | null = null;
  /** Stopping for good (not for a restart): exits are not handled as failures. */
  terminating = false;

  constructor(
    readonly ref: ActorRef,
    readonly wire: WireChild,
    readonly parent: Entry | null,
  ) {}

  get id(): string {
    return this.ref.id;
  }

  /** Name among its siblings (the id when it was spawned without one). */
  get name(): string {
    return this.wire.name === '' ? this.ref.id : this.wire.name;
  }

  get thread(): number {
    return this.ref.thread;
  }

  get isSupervisor(): boolean {
    return this.wire.behavior.kind === 'apiary.supervisor';
  }
}

/** @internal Indexes of live entries by id, path, tag and thread. */
export class EntryIndex {
  readonly byId = new Map<string, Entry>();
  readonly byPath = new Map<string, Entry>();
  readonly #byTag = new Map<string, Set<Entry>>();
  readonly #perThread: number[] = [];

  add(entry: Entry): void {
    this.byId.set(entry.id, entry);
    // An unnamed actor's path ends in its id, so `find` needs no path entry for it (less memory per actor).
    if (entry.wire.name !== '') this.byPath.set(entry.ref.path, entry);
    for (const tag of entry.wire.tags) {
      let set = this.#byTag.get(tag);
      if (set === undefined) this.#byTag.set(tag, (set = new Set()));
      set.add(entry);
    }
    this.#perThread[entry.thread] = (this.#perThread[entry.thread] ?? 0) + 1;
  }

  remove(entry: Entry): void {
    if (this.byId.get(entry.id) !== entry) return;
    this.byId.delete(entry.id);
    if (entry.wire.name !== '') this.byPath.delete(entry.ref.path);
    for (const tag of entry.wire.tags) this.#byTag.get(tag)?.delete(entry);
    this.#perThread[entry.thread] = (this.#perThread[entry.thread] ?? 1) - 1;
  }

  /** The live entry at `path`. */
  byPathLookup(path: string): Entry | undefined {
    const named = this.byPath.get(path);
    if (named !== undefined) return named;
    const last = path.slice(path.lastIndexOf('/') + 1);
    const entry = this.byId.get(last);
    return entry !== undefined && entry.ref.path === path ? entry : undefined;
  }

  tagged(tag: string): Entry[] {
    return [...(this.#byTag.get(tag) ?? [])];
  }

  /** Actors placed on `thread`. */
  load(thread: number): number {
    return this.#perThread[thread] ?? 0;
  }

  onThread(thread: number): Entry[] {
    const out: Entry[] = [];
    for (const e of this.byId.values()) if (e.thread === thread) out.push(e);
    return out;
  }
}

/** @internal Resolves a fast-path spawn when its host reports the start (see Kernel.startChild). */
export class SpawnWaiter {
  constructor(
    readonly kernel: Kernel,
    readonly entry: Entry,
    readonly onRef: (ref: ActorRef) => void,
    readonly onError: (error: Error) => void,
  ) {}

  resolve(): void {
    this.onRef(this.kernel.spawned(this.entry));
  }

  reject(error: Error): void {
    this.onError(this.kernel.spawnFailed(this.entry, error));
  }
}
