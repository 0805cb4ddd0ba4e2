import type { ActorHost } from './host.js';
import type { Kernel } from './kernel.js';
import type { ActorStats } from './protocol.js';
import type { ActorRef } from './ref.js';
import type { ActorInfo, Entry, RegistryQuery } from './registry.js';
import type { ThreadPool } from './thread-pool.js';

/**
 * Finds actors by id, path or tag, and reports what each is doing: status, thread, mailbox depth,
 * messages processed, restarts. Look-ups are synchronous (the kernel's indexes on the main thread);
 * live counters are gathered from each host over its control channel.
 */
export class Registry {
  readonly #kernel: Kernel;
  readonly #host: ActorHost;
  readonly #pool: () => ThreadPool | null;

  /** @internal */
  constructor(kernel: Kernel, host: ActorHost, pool: () => ThreadPool | null) {
    this.#kernel = kernel;
    this.#host = host;
    this.#pool = pool;
  }

  /** Number of live actors (supervisors included, root guardian included). */
  get size(): number {
    return this.#kernel.index.byId.size;
  }

  /** The actor with this id or path, if it is alive. */
  get(idOrPath: string): ActorRef | undefined {
    const index = this.#kernel.index;
    return (idOrPath.startsWith('/') ? index.byPathLookup(idOrPath) : index.byId.get(idOrPath))?.ref;
  }

  /** Every live actor carrying `tag`. */
  byTag(tag: string): ActorRef[] {
    return this.#kernel.index.tagged(tag).map((e) => e.ref);
  }

  /** Everything known about one actor, with live counters; undefined when it is not alive. */
  async describe(ref: ActorRef): Promise<ActorInfo | undefined> {
    const entry = this.#kernel.index.byId.get(ref.id);
    if (entry === undefined) return undefined;
    const [info] = await this.#describeAll([entry]);
    return info;
  }

  /** Actors matching the query, with live counters. */
  async list(query: RegistryQuery = {}): Promise<ActorInfo[]> {
    const entries: Entry[] = [];
    const candidates = query.tag !== undefined ? this.#kernel.index.tagged(query.tag) : this.#kernel.index.byId.values();
    for (const e of candidates) {
      if (query.status !== undefined && e.status !== query.status) continue;
      if (query.thread !== undefined && e.thread !== query.thread) continue;
      if (query.under !== undefined && e.ref.path !== query.under && !e.ref.path.startsWith(query.under === '/' ? '/' : `${query.under}/`)) continue;
      entries.push(e);
    }
    return this.#describeAll(entries);
  }

  async #describeAll(entries: Entry[]): Promise<ActorInfo[]> {
    const byThread = new Map<number, string[]>();
    for (const e of entries) {
      const ids = byThread.get(e.thread) ?? [];
      ids.push(e.id);
      byThread.set(e.thread, ids);
    }
    const stats = new Map<string, ActorStats>();
    await Promise.all(
      [...byThread].map(async ([thread, ids]) => {
        let rows: ActorStats[] = [];
        if (thread === 0) rows = this.#host.stats(ids);
        else {
          const control = this.#pool()?.control(thread);
          if (control != null) rows = await control.stats(ids).catch(() => []);
        }
        for (const row of rows) stats.set(row.id, row);
      }),
    );
    return entries.map((e) => {
      const live = stats.get(e.id);
      return {
        ref: e.ref,
        name: e.name,
        parent: e.parent?.ref.path ?? null,
        status: e.status,
        thread: e.thread,
        tags: e.wire.tags,
        restarts: e.restarts,
        supervisor: e.isSupervisor,
        mailboxDepth: live?.mailboxDepth ?? 0,
        processed: live?.processed ?? 0,
        lastError: e.lastError,
      };
    });
  }
}
