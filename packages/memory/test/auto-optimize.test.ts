import * as assert from 'uvu/assert';
import { clustered, waitForEvent } from '@apiary/testkit';
import type { ActorRef } from '@apiary/runtime';
import { MemoryErrorCodes, type MemoryHit } from '../src/index.ts';
import { autoOptimizeDue, autoOptimizePolicy, type LayoutFacts } from '../src/auto-optimize.ts';
import { memorySuite, vec, DIMS } from './fixtures/suite.ts';
import { probe, type ProbeMsg } from './fixtures/behaviors.ts';

const test = memorySuite('vector memory: automatic optimize');

const policy = autoOptimizePolicy({ minEntries: 1_000, growth: 1, deletedShare: 0.25, quietMs: 500 })!;
const facts = (over: Partial<LayoutFacts>): LayoutFacts => ({
  now: 10_000,
  lastWriteAt: 9_000,
  entries: 4_000,
  laidOut: 2_000,
  insertedSince: 2_000,
  removedSince: 0,
  optimizing: false,
  written: 4_000,
  maxEntries: 100_000,
  live: 4_000,
  ...over,
});

test('the policy: quiet, big enough, and grown or worn since the last layout', () => {
  assert.ok(autoOptimizeDue(policy, facts({})), 'half the index arrived since the layout');
  assert.ok(autoOptimizeDue(policy, facts({ laidOut: 0, insertedSince: 1_000, entries: 1_000 })), 'never laid out, at minEntries');
  assert.ok(autoOptimizeDue(policy, facts({ insertedSince: 0, entries: 3_000, removedSince: 1_000 })), 'a quarter deleted');
  assert.not.ok(autoOptimizeDue(null, facts({})), 'autoOptimize: false');
  assert.not.ok(autoOptimizeDue(policy, facts({ optimizing: true })), 'a rebuild under way');
  assert.not.ok(autoOptimizeDue(policy, facts({ lastWriteAt: 9_600 })), 'a write 400 ms ago');
  assert.ok(autoOptimizeDue(policy, facts({ lastWriteAt: 9_500 })), 'a write 500 ms ago');
  assert.not.ok(autoOptimizeDue(policy, facts({ entries: 999, laidOut: 0, insertedSince: 999 })), 'below minEntries');
  assert.not.ok(autoOptimizeDue(policy, facts({ insertedSince: 1_999 })), 'grown by less than the layout');
  assert.not.ok(autoOptimizeDue(policy, facts({ insertedSince: 0, entries: 3_000, removedSince: 999 })), 'less than a quarter deleted');
  assert.not.ok(autoOptimizeDue(policy, facts({ insertedSince: 0, laidOut: 4_000 })), 'nothing changed since the layout');
  // Three quarters full with a sixteenth dead: at once, writes or not, small or not.
  const pressed = { lastWriteAt: 10_000, entries: 700, laidOut: 700, insertedSince: 0, written: 750, maxEntries: 1_000 };
  assert.ok(autoOptimizeDue(policy, facts({ ...pressed, live: 703 })), 'full and worn');
  assert.not.ok(autoOptimizeDue(policy, facts({ ...pressed, live: 704 })), 'full, not worn enough');
  assert.not.ok(autoOptimizeDue(policy, facts({ ...pressed, live: 703, written: 749 })), 'worn, not full enough');
  assert.not.ok(autoOptimizeDue(null, facts({ ...pressed, live: 600 })), 'autoOptimize: false, even then');
});

test('options: defaults, false, and bad values refused with InvalidArgumentError', () => {
  assert.equal(autoOptimizePolicy(undefined), { minEntries: 20_000, growth: 1, deletedShare: 0.25, quietMs: 2_000 });
  assert.is(autoOptimizePolicy(false), null);
  for (const bad of [{ growth: -1 }, { minEntries: 1.5 }, { quietMs: Number.NaN }, { deletedShare: 2 }, { growth: '1' as never }, 'yes' as never, null as never]) {
    try {
      autoOptimizePolicy(bad);
      assert.unreachable(`accepted ${JSON.stringify(bad)}`);
    } catch (error) {
      assert.is((error as { code?: string }).code, 'APIARY_ERR_INVALID_ARGUMENT', String(error));
    }
  }
});

test('namespace options: autoOptimize false reaches the owner as no policy; bad options fail create()', async (ctx) => {
  const off = await ctx.memory.create('auto-off', { dimensions: DIMS, autoOptimize: false });
  assert.is(off.handle.config.autoOptimize, null);
  const on = await ctx.memory.create('auto-default', { dimensions: DIMS });
  assert.is(on.handle.config.autoOptimize?.minEntries, 20_000);
  const refused = await ctx.memory.create('auto-bad', { dimensions: DIMS, autoOptimize: { quietMs: -5 } }).then(
    () => 'created',
    (e: { code?: string }) => e.code,
  );
  assert.is(refused, 'APIARY_ERR_INVALID_ARGUMENT');
  assert.not.ok(ctx.memory.names().includes('auto-bad'));
});

test('once writes pause the owner lays out a grown index on its own, and again after many deletes; searches go on finding entries', async (ctx) => {
  const name = 'auto-run';
  const ns = await ctx.memory.create(name, { dimensions: DIMS, indexThreshold: 64, snapshotEveryMs: 20, autoOptimize: { minEntries: 2_000, quietMs: 100 } });
  const data = clustered(3_500, DIMS, 16, 4);
  const first = waitForEvent(ctx.system.events, 'memory-optimized', (e) => e.namespace === name, 30_000);
  await ns.add(Array.from({ length: 3_000 }, (_, i) => ({ id: `a${i}`, vector: vec(data, i) })));
  const report = (await first).report;
  assert.is(report.trigger, 'auto');
  assert.is(report.entries, 3_000);
  assert.ok(report.groups >= 2, `${report.groups} groups`);
  // Short steps (256 entries each): 3,000 entries take 12 of inserting, where an asked-for rebuild takes 2.
  assert.ok(report.steps >= 12, `${report.steps} steps`);
  const laid = await ns.stats();
  assert.is(laid.laidOut, 3_000);
  assert.is(laid.insertedSinceLayout, 0);
  assert.is(laid.optimizing, false);

  // 500 more: a sixth of the layout, under `growth` 1; they are counted, and found.
  await ns.add(Array.from({ length: 500 }, (_, j) => ({ id: `a${3_000 + j}`, vector: vec(data, 3_000 + j) })));
  await ns.snapshot();
  const grown = await ns.stats();
  assert.is(grown.insertedSinceLayout, 500);
  assert.is(grown.laidOut, 3_000);
  const reader = (await ctx.system.spawn(probe, { props: ns.handle, placement: { thread: 2 } })) as ActorRef<ProbeMsg, unknown>;
  for (const i of [7, 1_234, 2_999, 3_100, 3_499]) {
    const [best] = (await ctx.system.ask(reader, { type: 'search', vector: vec(data, i), k: 1 })) as MemoryHit[];
    assert.is(best?.id, `a${i}`);
  }

  // 1,000 deleted: over a quarter of the index, so the owner rebuilds without the tombstones.
  const second = waitForEvent(ctx.system.events, 'memory-optimized', (e) => e.namespace === name && e.report.entries === 2_500, 30_000);
  await ns.delete(Array.from({ length: 1_000 }, (_, j) => `a${j * 3}`));
  const again = (await second).report;
  assert.is(again.trigger, 'auto');
  assert.is(again.tombstonesDropped, 1_000);
  const after = await ns.stats();
  assert.is(after.laidOut, 2_500);
  assert.is(after.removedSinceLayout, 0);
  for (const i of [1, 1_235, 3_100]) {
    const [best] = (await ctx.system.ask(reader, { type: 'search', vector: vec(data, i), k: 1 })) as MemoryHit[];
    assert.is(best?.id, `a${i}`);
  }
  const gone = (await ctx.system.ask(reader, { type: 'search', vector: vec(data, 1_233), k: 5 })) as MemoryHit[];
  assert.not.ok(gone.some((h) => h.id === 'a1233'), 'a deleted entry came back');
});

test('entries replaced without pause in a namespace near its maxEntries: the owner compacts on its own, without waiting for quiet', async (ctx) => {
  const name = 'auto-pressed';
  // Default policy (20,000 entries, 2 s of quiet): neither holds here, the pressure rule does.
  const ns = await ctx.memory.create(name, { dimensions: DIMS, maxEntries: 1_000, indexThreshold: 64 });
  const data = clustered(700, DIMS, 8, 12);
  const reports: number[] = [];
  const off = ctx.system.events.on('memory-optimized', (e) => void (e.namespace === name && reports.push(e.report.slotsReclaimed)));
  try {
    await ns.add(Array.from({ length: 700 }, (_, i) => ({ id: `r${i}`, vector: vec(data, i), metadata: { round: 0 } })));
    let refused = 0;
    // 1,000 replacements: 1,700 slots without compaction.
    for (let round = 1; round <= 20; round++) {
      const batch = Array.from({ length: 50 }, (_, j) => ({ id: `r${(round * 50 + j) % 700}`, vector: vec(data, (round * 50 + j) % 700), metadata: { round } }));
      const before = reports.length;
      const code = await ns.add(batch).then(
        () => null,
        (e: { code?: string }) => e.code ?? 'no code',
      );
      if (code === null) continue;
      // Full while a rebuild ran: once it is done, there is room again.
      assert.is(code, MemoryErrorCodes.CAPACITY);
      refused++;
      const next = waitForEvent(ctx.system.events, 'memory-optimized', (e) => e.namespace === name, 30_000);
      if (reports.length === before) await next;
      else next.catch(() => undefined); // it was over before the refusal came back
      await ns.add(batch);
    }
    assert.ok(reports.length >= 1 && reports.every((r) => r > 0), `compactions: ${JSON.stringify(reports)} (refused ${refused})`);
    const stats = await ns.stats();
    assert.is(stats.live, 700);
    assert.ok(stats.written <= 1_000, `written ${stats.written}`);
    const latest = await ns.get(['r0', 'r349', 'r699']);
    assert.equal(latest.map((r) => r?.metadata), [{ round: 14 }, { round: 20 }, { round: 13 }]);
  } finally {
    off();
  }
});

test.run();
