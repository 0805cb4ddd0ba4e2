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

/** The fields most actors never use, kept apart so 100 k idle actors cost less memory and GC. */
class EntryExtra {
  lastError: SerializedError | undefined = undefined;
  children: Map<string, Entry> | null = null;
  policy: SupervisorPolicy | null = null;
  chain: Promise<void> | null = null;
  watchers: Set<string> | null = null;
  onHalted: Resolver | null = null;
  onStopped: Resolver | null = null;
  incident: string | null = null;
}

/** @internal The kernel's record of one actor. */
export class Entry {
  status: ActorStatus = 'starting';
  restarts = 0;
  /** The host lost the actor (thread crash, or it stopped itself): the next start must be a full start. */
  needsFullStart = false;
  /** Stopping for good (not for a restart): exits are not handled as failures. */
  terminating = false;
  onStarted: Resolver | null = null;
  #x: EntryExtra | null = null;

  #extra(): EntryExtra {
    return (this.#x ??= new EntryExtra());
  }

  get lastError(): SerializedError | undefined {
    return this.#x?.lastError;
  }
  set lastError(v: SerializedError | undefined) {
    this.#extra().lastError = v;
  }
  /** Child entries by name, in start order (supervisors only). */
  get children(): Map<string, Entry> | null {
    return this.#x?.children ?? null;
  }
  set children(v: Map<string, Entry> | null) {
    this.#extra().children = v;
  }
  get policy(): SupervisorPolicy | null {
    return this.#x?.policy ?? null;
  }
  set policy(v: SupervisorPolicy | null) {
    this.#extra().policy = v;
  }
  /** Serializes this supervisor's restart sequences. */
  get chain(): Promise<void> | null {
    return this.#x?.chain ?? null;
  }
  set chain(v: Promise<void> | null) {
    this.#extra().chain = v;
  }
  get watchers(): Set<string> | null {
    return this.#x?.watchers ?? null;
  }
  set watchers(v: Set<string> | null) {
    this.#extra().watchers = v;
  }
  get onHalted(): Resolver | null {
    return this.#x?.onHalted ?? null;
  }
  set onHalted(v: Resolver | null) {
    if (v !== null || this.#x !== null) this.#extra().onHalted = v;
  }
  get onStopped(): Resolver | null {
    return this.#x?.onStopped ?? null;
  }
  set onStopped(v: Resolver | null) {
    if (v !== null || this.#x !== null) this.#extra().onStopped = v;
  }
  /** The incident whose restart this entry last went through. */
  get incident(): string | null {
    return this.#x?.incident ?? null;
  }
  set incident(v: string | null) {
    this.#extra().incident = v;
  }

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
