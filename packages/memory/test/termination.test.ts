import { spawn } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ActorSystem, type ActorRef } from '@apiary/runtime';
import { clustered, row, waitForEvent, within } from '@apiary/testkit';
import { VectorMemory } from '../src/index.ts';
import { probe, type ProbeMsg } from './fixtures/behaviors.ts';

const test = suite('vector memory: threads terminated in the middle of USearch calls');
const DIMS = 64;
const vec = (m: Float32Array, i: number): number[] => [...row(m, DIMS, i)];

/** Resolves once `counter[0]` has moved past `seen` (bounded). */
async function movedPast(counter: Int32Array, seen: number): Promise<void> {
  for (;;) {
    const now = Atomics.load(counter, 0);
    if (now > seen) return;
    const waited = Atomics.waitAsync(counter, 0, now, 20_000);
    if (waited.async && (await waited.value) === 'timed-out') throw new Error('the probe stopped searching');
  }
}

// Unfenced, a terminated thread's USearch call aborts the whole process ("terminate called after
// throwing an instance of 'Napi::Error'"): a loop like this one died within 10-60 terminations here.
test('readers terminated mid-search and the owner terminated mid-write, again and again: the process lives on, nothing acknowledged is lost', async () => {
  // Two restarts a round: more than the root guardian's default intensity (5 in 30 s) allows, and no backoff.
  const system = await ActorSystem.start({ threads: 2, guardian: { intensity: 100, periodMs: 60_000, backoff: false } });
  const memory = await VectorMemory.start(system, { placement: { thread: 1 } });
  try {
    const ns = await memory.create('terminated', { dimensions: DIMS, indexThreshold: 16, snapshotEveryMs: 60_000, autoOptimize: false });
    const total = 6_000;
    const data = clustered(total, DIMS, 12, 43);
    await ns.add(Array.from({ length: 3_000 }, (_, i) => ({ id: `t${i}`, vector: vec(data, i) })));
    await ns.snapshot();
    const reader = (await system.spawn(probe, { props: ns.handle, placement: { thread: 2 } })) as ActorRef<ProbeMsg, unknown>;
    const counter = new Int32Array(new SharedArrayBuffer(4));
    const acknowledged = new Set(Array.from({ length: 3_000 }, (_, i) => i));
    const rounds = 12;
    for (let round = 0; round < rounds; round++) {
      // The reader's thread, while it searches the viewed snapshot without a break.
      const readerBack = waitForEvent(system.events, 'thread-replaced', (e) => e.thread === 2, 20_000);
      const seen = Atomics.load(counter, 0);
      const searching = system.ask(reader, { type: 'search-on', vector: vec(data, round), counter: counter.buffer as SharedArrayBuffer, maxMs: 20_000 }, { timeoutMs: 30_000 }).catch(() => null);
      await movedPast(counter, seen);
      await system.terminateThread(2);
      await Promise.all([searching, readerBack]);
      // The owner's thread, with a batch of writes on its way in (the owner indexes them into USearch).
      const from = 3_000 + round * 250;
      const ownerBack = waitForEvent(system.events, 'memory-recovered', (e) => e.namespace === 'terminated', 20_000);
      const writing = ns.add(Array.from({ length: 250 }, (_, j) => ({ id: `t${from + j}`, vector: vec(data, from + j) }))).then(
        () => Array.from({ length: 250 }, (_, j) => acknowledged.add(from + j)),
        () => null, // the owner died first: not acknowledged
      );
      await ns.snapshot().catch(() => null);
      await system.terminateThread(1);
      await Promise.all([writing, ownerBack]);
    }
    const stats = await within(ns.snapshot(), 20_000, 'a snapshot after the last recovery');
    assert.ok(stats.incarnation === rounds + 1, `incarnation ${stats.incarnation}`);
    const ids = [...acknowledged].map((i) => `t${i}`);
    const records = await ns.get(ids);
    assert.equal(records.filter((r) => r === null).length, 0, 'acknowledged writes lost');
    let found = 0;
    const sample = [...acknowledged].filter((_, n) => n % 25 === 0);
    for (const i of sample) if ((await ns.search(vec(data, i), { k: 1 }))[0]?.id === `t${i}`) found++;
    assert.ok(found >= 0.95 * sample.length, `${found} of ${sample.length} found themselves`);
  } finally {
    await memory.stop();
    await system.stop();
  }
});

test('process.exit() in the middle of searches on a worker thread exits cleanly: Node terminates the threads once their USearch calls returned', async () => {
  // Unfenced, 11 exits of 12 aborted here. Three runs of the child process.
  for (let run = 0; run < 3; run++) {
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', new URL('./fixtures/exit-searcher.ts', import.meta.url).pathname], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const [code, signal] = await within(new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s]))), 60_000, 'the searching process');
    assert.equal([code, signal], [0, null], `run ${run}: exit ${code} ${signal}: ${err.slice(0, 400)}`);
    assert.ok(Number(out.trim()) >= 300, `run ${run}: ${out.trim()} searches`);
    assert.not.match(err, /Napi::Error|terminate called/);
  }
});

test.run();
