import * as assert from 'uvu/assert';
import { clustered, recordEvents, waitForEvent } from '@apiary/testkit';
import { memorySuite, vec, DIMS } from './fixtures/suite.ts';

const test = memorySuite('vector memory: snapshots');

test('a forced snapshot saves only an index that changed since the last one (a delete counts); each save is a memory-snapshot event', async (ctx) => {
  const recorded = recordEvents(ctx.system.events);
  const ns = await ctx.memory.create('resave', { dimensions: DIMS, indexThreshold: 64, snapshotEveryMs: 60_000 });
  const data = clustered(300, DIMS, 4, 5);
  await ns.add(Array.from({ length: 300 }, (_, i) => ({ id: `r${i}`, vector: vec(data, i) })));
  const first = await ns.snapshot();
  assert.is(first.snapshotCovered, 300);
  const again = await ns.snapshot();
  assert.is(again.snapshotVersion, first.snapshotVersion); // nothing new: no file written
  await ns.delete('r9');
  const afterDelete = await ns.snapshot();
  assert.is(afterDelete.snapshotVersion, first.snapshotVersion + 1);
  assert.is(afterDelete.snapshotCovered, 300);
  assert.not.ok((await ns.search(vec(data, 9), { k: 3 })).some((h) => h.id === 'r9'));
  await ns.add({ id: 'r300', vector: vec(data, 9) });
  const afterAdd = await ns.snapshot();
  assert.is(afterAdd.snapshotVersion, first.snapshotVersion + 2);
  assert.is(afterAdd.snapshotCovered, 301);
  assert.is((await ns.search(vec(data, 9), { k: 1 }))[0]?.id, 'r300');
  // Events from one thread arrive in order: once the last one is here, every earlier one is too.
  await waitForEvent(ctx.system.events, 'memory-snapshot', (e) => e.namespace === 'resave' && e.version === afterAdd.snapshotVersion, 5_000).catch(() => undefined);
  recorded.stop();
  const saves = recorded.ofType('memory-snapshot').filter((e) => e.namespace === 'resave');
  assert.equal(
    saves.map((e) => [e.version, e.covered, e.trigger]),
    [first.snapshotVersion, first.snapshotVersion + 1, first.snapshotVersion + 2].map((v, i) => [v, i === 2 ? 301 : 300, 'requested']),
  );
  assert.ok(saves.every((e) => e.ms >= 0 && e.time > 0));
});

test('a snapshot the policy wants goes behind the writes already waiting, which it then covers', async (ctx) => {
  const recorded = recordEvents(ctx.system.events);
  const ns = await ctx.memory.create('group-commit', { dimensions: DIMS, indexThreshold: 64, snapshotEveryWrites: 64, snapshotEveryMs: 60_000 });
  const data = clustered(400, DIMS, 4, 9);
  const entries = (from: number, to: number) => Array.from({ length: to - from }, (_, j) => ({ id: `g${from + j}`, vector: vec(data, from + j) }));
  // Straight to the owner, without waiting in between: a write, a flush that finds a snapshot due,
  // and a second write all reach its mailbox in this order (a bulk load's next message comes while
  // the owner indexes the first). The snapshot must wait for the second write and cover both.
  const { owner } = ns.handle;
  ctx.system.tell(owner, { type: 'add', entries: entries(0, 200) });
  ctx.system.tell(owner, { type: 'flush' });
  ctx.system.tell(owner, { type: 'add', entries: entries(200, 400) });
  const snapshot = await waitForEvent(ctx.system.events, 'memory-snapshot', (e) => e.namespace === 'group-commit', 10_000);
  assert.equal([snapshot.trigger, snapshot.covered], ['policy', 400]);
  // And it was the only one: a requested snapshot finds nothing new to save.
  const stats = await ns.snapshot();
  assert.equal([stats.snapshotVersion, stats.snapshotCovered, stats.tail], [snapshot.version, 400, 0]);
  recorded.stop();
  assert.is(recorded.ofType('memory-snapshot').filter((e) => e.namespace === 'group-commit').length, 1);
  assert.is((await ns.search(vec(data, 333), { k: 1 }))[0]?.id, 'g333');
});

test.run();
