import * as assert from 'uvu/assert';
import { clustered, waitForEvent } from '@apiary/testkit';
import type { ActorRef } from '@apiary/runtime';
import { VectorMemory, MemoryErrorCodes, OptimizeError, type MemoryHit, type MemoryNamespace } from '../src/index.ts';
import { memorySuite, vec, DIMS, type MemoryCtx } from './fixtures/suite.ts';
import { probe, type ProbeMsg } from './fixtures/behaviors.ts';

const test = memorySuite('vector memory: optimize');

/** How many of `ids` (entry i under ids[i]) a search from `reader` with the entry's own vector finds first, at score 1. */
async function selfHits(ctx: MemoryCtx, reader: ActorRef<ProbeMsg, unknown>, data: Float32Array, entries: readonly (readonly [number, string])[]): Promise<number> {
  let found = 0;
  for (const [i, id] of entries) {
    const [best] = (await ctx.system.ask(reader, { type: 'search', vector: vec(data, i), k: 1 })) as MemoryHit[];
    if (best?.id === id && Math.abs(best.score - 1) < 1e-5) found++;
  }
  return found;
}

const probeOn = async (ctx: MemoryCtx, ns: MemoryNamespace, thread: number): Promise<ActorRef<ProbeMsg, unknown>> =>
  (await ctx.system.spawn(probe, { props: ns.handle, placement: { thread } })) as ActorRef<ProbeMsg, unknown>;

test('optimize rebuilds the index grouped: every live entry still finds itself from another thread, deleted ones are gone', async (ctx) => {
  const ns = await ctx.memory.create('opt-basic', { dimensions: DIMS, indexThreshold: 64, snapshotEveryMs: 60_000 });
  const data = clustered(4_000, DIMS, 16, 5);
  await ns.add(Array.from({ length: 4_000 }, (_, i) => ({ id: `e${i}`, vector: vec(data, i), metadata: { i } })));
  const deleted = Array.from({ length: 200 }, (_, j) => `e${j * 20}`);
  await ns.delete(deleted);
  const before = await ns.snapshot();
  const published = waitForEvent(ctx.system.events, 'memory-optimized', (e) => e.namespace === 'opt-basic', 30_000);
  const swapped = waitForEvent(ctx.system.events, 'memory-snapshot', (e) => e.namespace === 'opt-basic' && e.trigger === 'optimized', 30_000);
  const report = await ns.optimize();
  assert.equal((await published).report, report);
  assert.is((await swapped).version, report.snapshotVersion);
  assert.is(report.namespace, 'opt-basic');
  assert.is(report.trigger, 'requested');
  // 200 dead of 4,000 slots: under a sixteenth, so no compaction.
  assert.equal([report.slotsReclaimed, report.readerPauseMs], [0, 0]);
  // Steps of 2,048: grouping (one step), two of inserting, and the last (the catch-up and the swap).
  assert.ok(report.steps <= 5, `${report.steps} steps`);
  assert.is(report.entries, 3_800);
  assert.is(report.tombstonesDropped, 200);
  assert.ok(report.groups >= 2, `${report.groups} groups`);
  assert.ok(report.snapshotVersion > before.snapshotVersion);
  const after = await ns.stats();
  assert.is(after.optimizing, false);
  assert.is(after.snapshotVersion, report.snapshotVersion);
  assert.is(after.tail, 0);
  const reader = await probeOn(ctx, ns, 2);
  const live = Array.from({ length: 4_000 }, (_, i) => i).filter((i) => i % 20 !== 0 && i % 9 === 1).map((i) => [i, `e${i}`] as const);
  const found = await selfHits(ctx, reader, data, live);
  assert.ok(found >= 0.97 * live.length, `${found} of ${live.length} entries found themselves`);
  for (let j = 0; j < 200; j += 10) {
    const hits = (await ctx.system.ask(reader, { type: 'search', vector: vec(data, j * 20), k: 10 })) as MemoryHit[];
    assert.not.ok(hits.some((h) => deleted.includes(h.id)), `a deleted entry came back for e${j * 20}`);
  }
});

test('writes, replacements and deletes made while optimize runs are all in the new index; concurrent calls share one run', async (ctx) => {
  const ns = await ctx.memory.create('opt-busy', { dimensions: DIMS, indexThreshold: 64, snapshotEveryMs: 60_000 });
  const data = clustered(8_000, DIMS, 16, 9);
  await ns.add(Array.from({ length: 6_000 }, (_, i) => ({ id: `o${i}`, vector: vec(data, i) })));
  await ns.snapshot();
  const first = ns.optimize();
  const second = ns.optimize();
  // Sent after the optimize messages: the owner takes them between the rebuild's slices.
  const writes = (async () => {
    for (let at = 6_000; at < 8_000; at += 250) await ns.add(Array.from({ length: 250 }, (_, j) => ({ id: `n${at + j}`, vector: vec(data, at + j) })));
    await ns.delete(Array.from({ length: 100 }, (_, j) => `o${j * 60}`));
    // o1 now lives under the vector of row 7,999's neighbour in a new slot.
    await ns.add({ id: 'o1', vector: vec(data, 7_999) });
  })();
  const during = await ns.stats();
  const [a, b] = await Promise.all([first, second, writes]);
  assert.is(a.snapshotVersion, b!.snapshotVersion);
  assert.is(a.entries, b!.entries);
  await ns.snapshot();
  const stats = await ns.stats();
  assert.is(stats.live, 6_000 + 2_000 - 100);
  assert.ok(during.optimizing || a.entries === 6_000, 'the rebuild was under way while the writes came');
  const reader = await probeOn(ctx, ns, 1);
  const fresh = Array.from({ length: 2_000 }, (_, j) => 6_000 + j).filter((i) => i % 7 === 0 && i !== 7_999).map((i) => [i, `n${i}`] as const);
  const found = await selfHits(ctx, reader, data, fresh);
  assert.ok(found >= 0.97 * fresh.length, `${found} of ${fresh.length} entries written during the rebuild found themselves`);
  for (let j = 0; j < 100; j += 5) {
    const hits = (await ctx.system.ask(reader, { type: 'search', vector: vec(data, j * 60), k: 10 })) as MemoryHit[];
    assert.not.ok(hits.some((h) => h.id === `o${j * 60}`), `deleted o${j * 60} came back`);
  }
  const moved = (await ctx.system.ask(reader, { type: 'search', vector: vec(data, 1), k: 10 })) as MemoryHit[];
  assert.not.ok(moved.some((h) => h.id === 'o1' && Math.abs(h.score - 1) < 1e-5), 'o1 was still found under its old vector');
  const again = (await ctx.system.ask(reader, { type: 'search', vector: vec(data, 7_999), k: 2 })) as MemoryHit[];
  assert.ok(again.some((h) => h.id === 'o1'), 'o1 not found under its new vector');
});

test('a small namespace is rebuilt in slot order; an empty one gives an empty report', async (ctx) => {
  const ns = await ctx.memory.create('opt-small', { dimensions: DIMS });
  const empty = await ns.optimize();
  assert.is(empty.entries, 0);
  assert.is(empty.groups, 1);
  const data = clustered(300, DIMS, 4, 2);
  await ns.add(Array.from({ length: 300 }, (_, i) => ({ id: `s${i}`, vector: vec(data, i) })));
  const report = await ns.optimize();
  assert.is(report.entries, 300);
  assert.is(report.groups, 1);
  assert.is((await ns.search(vec(data, 123), { k: 1 }))[0]?.id, 's123');
});

test('an optimize cut short by the owner stopping fails with OptimizeError, which crosses threads as data', async (ctx) => {
  const memory = await VectorMemory.start(ctx.system);
  const ns = await memory.create('opt-stop', { dimensions: DIMS, indexThreshold: 64, snapshotEveryMs: 60_000 });
  const data = clustered(30_000, DIMS, 16, 3);
  await ns.add(Array.from({ length: 30_000 }, (_, i) => ({ id: `x${i}`, vector: vec(data, i) })));
  const pending = ns.optimize().then(
    () => 'finished',
    (e: { code?: string; name?: string }) => `${e.name}:${e.code}`,
  );
  // Wait until the owner has the rebuild under way, then stop the memory under it.
  for (let i = 0; i < 1_000 && !(await ns.stats()).optimizing; i++);
  assert.ok((await ns.stats()).optimizing, 'the rebuild never started');
  const failed = waitForEvent(ctx.system.events, 'memory-optimize-failed', (e) => e.namespace === 'opt-stop', 10_000);
  await memory.stop();
  assert.is(await pending, `OptimizeError:${MemoryErrorCodes.OPTIMIZE}`);
  const event = await failed;
  assert.is(event.error.code, MemoryErrorCodes.OPTIMIZE);
  assert.match(event.error.message, 'the owner stopped');
  const error = new OptimizeError('n', 'the owner stopped');
  assert.is(error.code, 'APIARY_ERR_MEMORY_OPTIMIZE');
});

test.run();
