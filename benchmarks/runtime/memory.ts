/**
 * Memory of the whole process, thread by thread: process RSS (one figure for all threads, which share
 * the process) and the live heap of the main thread and of every worker thread, each read after a
 * full GC of that thread.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import type { ActorRef, ActorSystem } from '@apiary/runtime';

/**
 * A full GC of the calling thread. Uses `--expose-gc` when given (pnpm bench passes it); otherwise
 * turns the flag on now, which also gives `gc` to every worker thread started afterwards, so call
 * this once before the actor system starts.
 */
export const collectGarbage: () => void = (() => {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return exposed;
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
})();

export interface MemorySnapshot {
  readonly rss: number;
  readonly mainHeap: number;
  /** Heap used per worker thread, in the order of the probes. */
  readonly workerHeaps: readonly number[];
  /** Whether the worker threads could collect before reporting (else their garbage counts). */
  readonly workersCollected: boolean;
}

type Probe = ActorRef<'measure', { heapUsed: number; gc: boolean }>;

/** Collects garbage on every worker (through one probe actor placed on each) and on main, then reads. */
export async function snapshot(system: ActorSystem, probes: readonly Probe[]): Promise<MemorySnapshot> {
  const workers = await Promise.all(probes.map((p) => system.ask(p, 'measure', { timeoutMs: 60_000 })));
  collectGarbage();
  const m = process.memoryUsage();
  return { rss: m.rss, mainHeap: m.heapUsed, workerHeaps: workers.map((w) => w.heapUsed), workersCollected: workers.every((w) => w.gc) };
}

/** Growth between two snapshots, in bytes per actor. */
export function perActor(before: MemorySnapshot, after: MemorySnapshot, actors: number): { rss: number; mainHeap: number; workerHeaps: number; heaps: number } {
  const workers = after.workerHeaps.reduce((s, v, i) => s + v - before.workerHeaps[i]!, 0);
  const main = after.mainHeap - before.mainHeap;
  return { rss: (after.rss - before.rss) / actors, mainHeap: main / actors, workerHeaps: workers / actors, heaps: (main + workers) / actors };
}
