import * as assert from 'uvu/assert';
import { clustered, waitForEvent } from '@apiary/testkit';
import type { ActorRef } from '@apiary/runtime';
import { VectorMemory, MemoryErrorCodes, type MemoryHit } from '../src/index.ts';
import { memorySuite, vec, DIMS } from './fixtures/suite.ts';
import { H, readStable } from '../src/shared-state.ts';
import { probe, type HammerResult, type ProbeMsg } from './fixtures/behaviors.ts';

const test = memorySuite('vector memory: compaction');

test('the sequence lock: a read that a compaction overlapped runs again; one that threw then too; a compaction that never ends fails the read', () => {
  const header = new Int32Array(new SharedArrayBuffer(64));
  const timedOut = (): Error => new Error('timed out');
  let runs = 0;
  assert.is(readStable(header, () => (++runs, 'calm'), 1_000, timedOut), 'calm');
  assert.is(runs, 1);
  runs = 0;
  // A whole compaction (odd, then even again) during the first run: its result may be torn.
  const overlapped = readStable(header, () => (++runs === 1 ? (Atomics.add(header, H.LAYOUT_SEQ, 2), 'torn') : 'whole'), 1_000, timedOut);
  assert.equal([overlapped, runs], ['whole', 2]);
  runs = 0;
  const halfRecord = (): string => {
    if (++runs > 1) return 'whole';
    Atomics.add(header, H.LAYOUT_SEQ, 2);
    throw new SyntaxError('half a record');
  };
  const threw = readStable(header, halfRecord, 1_000, timedOut);
  assert.equal([threw, runs], ['whole', 2]);
  const broken = (): never => {
    throw new RangeError('a real error');
  };
  assert.throws(() => readStable(header, broken, 1_000, timedOut), /a real error/);
  Atomics.add(header, H.LAYOUT_SEQ, 1); // odd, and nobody will end it
  let read = false;
  assert.throws(() => readStable(header, () => (read = true), 20, timedOut), /timed out/);
  assert.is(read, false);
});

const codeOf = async (p: Promise<unknown>): Promise<string> => p.then(() => 'no error', (e: { code?: string }) => e.code ?? 'no code');

test('optimize gives back the slots of deleted and replaced entries: a full namespace takes writes again, every entry found as it is now', async (ctx) => {
  const ns = await ctx.memory.create('compact-full', { dimensions: DIMS, maxEntries: 1_000, indexThreshold: 64, snapshotEveryMs: 60_000, autoOptimize: false });
  const data = clustered(1_200, DIMS, 12, 17);
  await ns.add(Array.from({ length: 600 }, (_, i) => ({ id: `c${i}`, vector: vec(data, i), metadata: { i, v: 1 } })));
  // c0..c299 replaced (new vectors, rows 600..899), c300..c349 deleted: 350 dead slots of 900.
  await ns.add(Array.from({ length: 300 }, (_, i) => ({ id: `c${i}`, vector: vec(data, 600 + i), metadata: { i, v: 2 } })));
  await ns.delete(Array.from({ length: 50 }, (_, j) => `c${300 + j}`));
  const before = await ns.stats();
  assert.equal([before.written, before.live], [900, 550]);
  const more = Array.from({ length: 200 }, (_, j) => ({ id: `n${j}`, vector: vec(data, 900 + j), metadata: { v: 3 } }));
  assert.is(await codeOf(ns.add(more)), MemoryErrorCodes.CAPACITY);

  const report = await ns.optimize();
  assert.is(report.slotsReclaimed, 350);
  assert.ok(report.readerPauseMs > 0, `readers paused ${report.readerPauseMs} ms`);
  assert.is(report.entries, 550);
  const after = await ns.stats();
  assert.equal([after.written, after.live, after.tail], [550, 550, 0]);
  assert.ok(after.recordBytes < before.recordBytes, `record bytes ${after.recordBytes} against ${before.recordBytes}`);
  await ns.add(more);
  await ns.snapshot();
  assert.equal([(await ns.stats()).written, (await ns.stats()).live], [750, 750]);

  const reader = (await ctx.system.spawn(probe, { props: ns.handle, placement: { thread: 2 } })) as ActorRef<ProbeMsg, unknown>;
  const first = async (row: number): Promise<MemoryHit | undefined> => ((await ctx.system.ask(reader, { type: 'search', vector: vec(data, row), k: 1 })) as MemoryHit[])[0];
  for (let i = 0; i < 300; i += 13) {
    const hit = await first(600 + i);
    assert.equal([hit?.id, hit?.metadata], [`c${i}`, { i, v: 2 }], `replaced c${i}`);
    assert.ok(Math.abs(hit!.score - 1) < 1e-5);
    const old = await first(i);
    assert.not.ok(old?.id === `c${i}` && Math.abs(old.score - 1) < 1e-5, `c${i} found under its old vector`);
  }
  for (let i = 350; i < 600; i += 11) assert.equal([(await first(i))?.id, (await first(i))?.metadata], [`c${i}`, { i, v: 1 }]);
  for (let j = 0; j < 200; j += 17) assert.is((await first(900 + j))?.id, `n${j}`);
  for (let j = 0; j < 50; j += 7) {
    const hits = (await ctx.system.ask(reader, { type: 'search', vector: vec(data, 300 + j), k: 5 })) as MemoryHit[];
    assert.not.ok(hits.some((h) => h.id === `c${300 + j}`), `deleted c${300 + j} came back`);
  }
  const records = await ns.get(['c0', 'c350', 'c300', 'n5']);
  assert.equal(records.map((r) => r?.metadata ?? null), [{ i: 0, v: 2 }, { i: 350, v: 1 }, null, { v: 3 }]);
});

test('searches on another thread during a compacting rebuild, with writes and deletes arriving meanwhile, never see a torn state', async (ctx) => {
  // The owner on thread 1, the searching probe on thread 2: its loop holds its thread.
  const memory = await VectorMemory.start(ctx.system, { placement: { thread: 1 } });
  try {
    const ns = await memory.create('compact-live', { dimensions: DIMS, indexThreshold: 64, snapshotEveryMs: 60_000, autoOptimize: false });
    const n = 12_000;
    const data = clustered(n + 2_000, DIMS, 24, 29);
    await ns.add(Array.from({ length: n }, (_, i) => ({ id: `l${i}`, vector: vec(data, i), metadata: { i } })));
    // Every fourth entry deleted: a quarter of the slots go, and every slot above the first moves.
    await ns.delete(Array.from({ length: n / 4 }, (_, j) => `l${j * 4}`));
    await ns.snapshot();
    const queries = Array.from({ length: 600 }, (_, j) => 2 + j * 23);
    const reader = (await ctx.system.spawn(probe, { props: ns.handle, placement: { thread: 2 } })) as ActorRef<ProbeMsg, unknown>;
    const seq = new Int32Array(ns.handle.config.shared.header)[7]!;
    const hammer = ctx.system.ask(
      reader,
      { type: 'hammer', data, dims: DIMS, queries, untilSeq: seq + 2, after: 2_000, maxMs: 60_000 },
      { timeoutMs: 90_000 },
    ) as Promise<HammerResult>;
    const compacted = waitForEvent(ctx.system.events, 'memory-optimized', (e) => e.namespace === 'compact-live', 60_000);
    const optimized = ns.optimize();
    const writes = (async () => {
      for (let at = n; at < n + 2_000; at += 250) await ns.add(Array.from({ length: 250 }, (_, j) => ({ id: `w${at + j}`, vector: vec(data, at + j), metadata: { i: at + j } })));
      await ns.delete(['l1', 'w12001']);
    })();
    const [report, , seen] = await Promise.all([optimized, writes, hammer]);
    assert.is((await compacted).report.slotsReclaimed, n / 4);
    assert.is(report.slotsReclaimed, n / 4);
    assert.ok(seen.reachedSeq, 'the probe never saw the compaction end');
    assert.is(seen.wrong, 0, `${seen.wrong} hits of ${seen.searches} searches disagreed with their records: ${seen.examples.join('; ')}`);
    // Deleted queries (every fourth row, then l1) find a neighbour instead: most find themselves.
    assert.ok(seen.selfFirst >= 0.6 * seen.searches, `${seen.selfFirst} of ${seen.searches} searches found their own entry first`);
    await ns.snapshot();
    const stats = await ns.stats();
    assert.is(stats.live, n - n / 4 + 2_000 - 2);
    assert.ok(stats.written <= n - n / 4 + 2_000, `written ${stats.written}`);
    const records = await ns.get(['l2', 'l4', 'l1', 'w12001', 'w12002', 'l11999']);
    assert.equal(records.map((r) => r?.id ?? null), ['l2', null, null, null, 'w12002', 'l11999']);
    for (const i of [2, 3, 5, 11_999]) assert.is((await ns.search(vec(data, i), { k: 1 }))[0]?.id, `l${i}`);
    for (const i of [n + 2, n + 777, n + 1_999]) assert.is((await ns.search(vec(data, i), { k: 1 }))[0]?.id, `w${i}`);
  } finally {
    await memory.stop();
  }
});

test('an owner whose thread dies after a compaction comes back from shared memory under the new numbering', async (ctx) => {
  const memory = await VectorMemory.start(ctx.system, { placement: { thread: 1 } });
  try {
    const ns = await memory.create('compact-crash', { dimensions: DIMS, indexThreshold: 16, snapshotEveryMs: 60_000, autoOptimize: false });
    const data = clustered(500, DIMS, 6, 31);
    await ns.add(Array.from({ length: 400 }, (_, i) => ({ id: `k${i}`, vector: vec(data, i) })));
    await ns.delete(Array.from({ length: 100 }, (_, j) => `k${j * 4}`));
    assert.is((await ns.optimize()).slotsReclaimed, 100);
    await ns.add(Array.from({ length: 100 }, (_, i) => ({ id: `k${400 + i}`, vector: vec(data, 400 + i) }))); // tail only
    const recovered = waitForEvent(ctx.system.events, 'memory-recovered', (e) => e.namespace === 'compact-crash', 20_000);
    await ctx.system.terminateThread(1);
    const recovery = await recovered;
    assert.equal([recovery.source, recovery.live, recovery.written, recovery.indexed], ['shared-memory', 400, 400, 300]);
    // The automatic optimize's counts are kept (a tail indexed before the crash is counted again).
    const counts = await ns.snapshot();
    assert.equal([counts.laidOut, counts.removedSinceLayout], [300, 0]);
    assert.ok(counts.insertedSinceLayout >= 100, `${counts.insertedSinceLayout} inserted since the layout`);
    const alive = Array.from({ length: 500 }, (_, i) => i).filter((i) => i >= 400 || i % 4 !== 0);
    const records = await ns.get(alive.map((i) => `k${i}`));
    assert.equal(records.map((r) => r?.id), alive.map((i) => `k${i}`));
    let found = 0;
    for (const i of alive) if ((await ns.search(vec(data, i), { k: 1 }))[0]?.id === `k${i}`) found++;
    assert.ok(found >= 0.98 * alive.length, `${found} of ${alive.length} found themselves after the crash`);
  } finally {
    await memory.stop();
  }
});

test.run();
