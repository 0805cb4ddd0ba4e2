import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActorSystem, type ActorRef } from '@apiary/runtime';
import { clustered, row } from '@apiary/testkit';
import { MemoryErrorCodes, VectorMemory, type MemoryHit } from '../src/index.ts';
import { runCrashWriter, selfRecall } from './fixtures/suite.ts';
import { probe, type ProbeMsg } from './fixtures/behaviors.ts';

const test = suite('vector memory: persistence directories');

test('drop(): the namespace closes on every thread, its files go; created again it takes its entries back, or starts empty after deleteData', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'apiary-memory-test-'));
  const system = await ActorSystem.start({ threads: 2 });
  const memory = await VectorMemory.start(system, { dir });
  const codeOf = async (p: Promise<unknown>): Promise<string> => p.then(() => 'no error', (e: { code?: string }) => e.code ?? 'no code');
  try {
    const data = clustered(200, 16, 4, 21);
    const options = { dimensions: 16, indexThreshold: 32, autoOptimize: false } as const;
    const ns = await memory.create('dropped', options);
    await ns.add(Array.from({ length: 200 }, (_, i) => ({ id: `p${i}`, vector: row(data, 16, i) })));
    await ns.snapshot();
    const other = await memory.create('kept', options);
    await other.add({ id: 'k0', vector: row(data, 16, 0) });
    // Readers on both worker threads view the snapshot before the drop.
    const remote = (await system.spawn(probe, { props: ns.handle, placement: { thread: 1 } })) as ActorRef<ProbeMsg, unknown>;
    const idle = (await system.spawn(probe, { props: ns.handle, placement: { thread: 2 } })) as ActorRef<ProbeMsg, unknown>;
    for (const ref of [remote, idle]) assert.is(((await system.ask(ref, { type: 'search', vector: [...row(data, 16, 9)], k: 1 })) as MemoryHit[])[0]?.id, 'p9');
    const stem = ns.handle.config.fileStem;
    assert.ok(readdirSync(memory.snapshotDir).some((f) => f.startsWith(`${stem}.`)), 'a snapshot file before the drop');

    assert.is(await codeOf(memory.drop('no-such')), MemoryErrorCodes.UNKNOWN_NAMESPACE);
    const lifecycle: string[] = [];
    system.events.on('memory-created', (e) => lifecycle.push(`created ${e.namespace} ${e.dimensions} ${e.persistent} ${e.owner.path}`));
    // A listener may create the name again at once: the event comes once the name is free.
    system.events.on('memory-dropped', (e) => lifecycle.push(`dropped ${e.namespace} ${e.dataDeleted} ${memory.names().includes(e.namespace) ? 'taken' : 'free'}`));
    await memory.drop('dropped');
    assert.equal(lifecycle, ['dropped dropped false free']);
    assert.equal(memory.names(), ['kept']);
    assert.is(await codeOf(Promise.resolve().then(() => memory.get('dropped'))), MemoryErrorCodes.UNKNOWN_NAMESPACE);
    assert.is(await codeOf(Promise.resolve().then(() => ns.searchNow(row(data, 16, 9)))), MemoryErrorCodes.UNKNOWN_NAMESPACE);
    // The actor's search on thread 1 fails as its handler's error: the namespace is gone there too.
    const remoteError = (await system.ask(remote, { type: 'search', vector: [...row(data, 16, 9)], k: 1 }).then(
      () => null,
      (e: { cause?: { code?: string } }) => e.cause?.code ?? 'no code',
    )) as string | null;
    assert.is(remoteError, MemoryErrorCodes.UNKNOWN_NAMESPACE);
    assert.not.ok(readdirSync(memory.snapshotDir).some((f) => f.startsWith(`${stem}.`)), 'its snapshot files are gone');
    assert.is((await other.search(row(data, 16, 0), { k: 1 }))[0]?.id, 'k0', 'the other namespace is untouched');
    // Thread 1 let go of its reader at that failed search; thread 2, which never searches the
    // dropped namespace again, lets go of it when it opens a reader of another one.
    assert.not.ok(((await system.ask(remote, { type: 'readers' })) as string[]).includes(stem));
    assert.ok(((await system.ask(idle, { type: 'readers' })) as string[]).includes(stem));
    const keptProbe = (await system.spawn(probe, { props: other.handle, placement: { thread: 2 } })) as ActorRef<ProbeMsg, unknown>;
    assert.is(((await system.ask(keptProbe, { type: 'search', vector: [...row(data, 16, 0)], k: 1 })) as MemoryHit[])[0]?.id, 'k0');
    assert.equal((await system.ask(idle, { type: 'readers' })) as string[], [other.handle.config.fileStem]);

    // Created again: the checkpoint its owner wrote at the drop brings every entry back.
    const again = await memory.create('dropped', options);
    assert.is((await again.stats()).live, 200);
    assert.is((await again.search(row(data, 16, 77), { k: 1 }))[0]?.id, 'p77');
    // Dropped with its data: created again, it is empty.
    await memory.drop('dropped', { deleteData: true });
    assert.not.ok(existsSync(join(dir, 'dropped')), 'its persistence directory is gone');
    const fresh = await memory.create('dropped', options);
    assert.is((await fresh.stats()).live, 0);
    assert.equal(lifecycle, [
      'dropped dropped false free',
      'created dropped 16 true /memory.dropped',
      'dropped dropped true free',
      'created dropped 16 true /memory.dropped',
    ]);
    assert.is(await codeOf(memory.drop('no-such')), MemoryErrorCodes.UNKNOWN_NAMESPACE);
    assert.is(lifecycle.length, 4, 'a failed drop publishes nothing');
    assert.is(await codeOf(memory.drop('dropped', { deleteData: 'yes' as unknown as boolean })), 'APIARY_ERR_INVALID_ARGUMENT');
  } finally {
    await memory.stop();
    await system.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('drop() and stop() wait for a create under way: its owner is stopped, not left running, and its client is closed', async () => {
  const system = await ActorSystem.start({ threads: 2 });
  const memory = await VectorMemory.start(system);
  const codeOf = async (p: Promise<unknown>): Promise<string> => p.then(() => 'no error', (e: { code?: string }) => e.code ?? 'no code');
  const options = { dimensions: 16, autoOptimize: false } as const;
  const vector = Array.from({ length: 16 }, (_, i) => i + 1);
  try {
    const live = await memory.create('live', options);
    assert.ok(system.registry.get(live.handle.owner.id) !== undefined, 'a running owner is in the registry');
    await memory.drop('live');
    assert.is(system.registry.get(live.handle.owner.id), undefined, 'a dropped one is not');
    // Not awaited: the drop comes while the owner starts (it used to fail with UnknownNamespaceError
    // and leave the owner running under a name nobody could drop).
    const creating = memory.create('early', options);
    const dropping = memory.drop('early');
    const again = codeOf(memory.drop('early')); // the second drop finds it gone
    const ns = await creating;
    await dropping;
    assert.is(await again, MemoryErrorCodes.UNKNOWN_NAMESPACE);
    assert.not.ok(memory.names().includes('early'));
    assert.is(system.registry.get(ns.handle.owner.id), undefined, 'its owner stopped');
    assert.is(await codeOf(ns.search(vector, { k: 1 })), MemoryErrorCodes.UNKNOWN_NAMESPACE);
    // A failed create leaves nothing to drop.
    const failing = codeOf(memory.create('bad', { dimensions: 16, quantization: 'i4' as 'f32' }));
    assert.is(await codeOf(memory.drop('bad')), MemoryErrorCodes.UNKNOWN_NAMESPACE);
    assert.is(await failing, 'APIARY_ERR_INVALID_ARGUMENT');
    // stop() while a create is under way stops that owner too.
    const late = memory.create('late', options);
    await memory.stop();
    const lateNs = await late;
    assert.is(memory.names().length, 0);
    assert.is(await codeOf(lateNs.search(vector, { k: 1 })), MemoryErrorCodes.UNKNOWN_NAMESPACE);
  } finally {
    await memory.stop();
    await system.stop();
  }
});

test('a persistent namespace compacted by optimize() and then killed comes back whole: checkpoint and log agree on the new numbering', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'apiary-memory-test-'));
  try {
    const writer = await runCrashWriter([dir, '230', 'compact']);
    assert.is(writer.signal, 'SIGKILL');
    // 51 dead slots (d5 and the 50 replaced) of 280: compacted.
    assert.equal(writer.printed, ['230', '51']);
    const data = clustered(230, 16, 4, 9);
    const fresh = clustered(50, 16, 4, 10);
    for (const round of [1, 2]) {
      const system = await ActorSystem.start({ threads: 1 });
      const memory = await VectorMemory.start(system, { dir });
      try {
        const ns = await memory.create('durable', { dimensions: 16, indexThreshold: 32, snapshotEveryWrites: 50, autoOptimize: false });
        const stats = await ns.stats();
        assert.equal([stats.live, stats.written], [238, 239], `round ${round}`); // 229 kept, 10 late; d7's slot is dead
        // The layout of 229 from the optimize() checkpoint, then the log: 10 inserted, d7 removed.
        assert.equal([stats.laidOut, stats.insertedSinceLayout, stats.removedSinceLayout], [229, 10, 1], `round ${round}`);
        const ids = [...Array.from({ length: 230 }, (_, i) => `d${i}`), ...Array.from({ length: 10 }, (_, j) => `late${j}`)];
        const records = await ns.get(ids);
        records.forEach((r, k) => assert.is(r?.id ?? null, ids[k] === 'd5' || ids[k] === 'd7' ? null : ids[k], `round ${round}: ${ids[k]}`));
        assert.equal([records[10]?.metadata, records[60]?.metadata, records[233]?.metadata], [{ i: 10, v: 2 }, { i: 60 }, { late: 3 }]);
        for (let j = 0; j < 50; j += 7) assert.is((await ns.search(row(fresh, 16, j), { k: 1 }))[0]?.id, `d${10 + j}`, `round ${round}: replaced d${10 + j}`);
        const kept = Array.from({ length: 230 }, (_, i) => i).filter((i) => i !== 5 && i !== 7 && (i < 10 || i >= 60));
        const recall = await selfRecall(ns, data, kept, 'd', 16);
        assert.ok(recall >= 0.98, `round ${round}: self-recall ${recall}`);
      } finally {
        await memory.stop();
        await system.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a directory of the layout before checkpoint directories is read, then replaced by a checkpoint directory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'apiary-memory-test-'));
  try {
    // What an older Apiary wrote: records, vectors and the log in the namespace's directory, no index file.
    const at = join(dir, 'legacy');
    mkdirSync(at);
    const data = clustered(40, 8, 2, 3);
    const unit = (i: number): number[] => {
      const v = [...row(data, 8, i)];
      const norm = Math.hypot(...v);
      return v.map((x) => x / norm);
    };
    const record = (i: number): object => ({ id: `o${i}`, metadata: { i }, origin: null, at: 1_700_000_000_000 + i });
    writeFileSync(join(at, 'records.ndjson'), Array.from({ length: 30 }, (_, i) => JSON.stringify({ record: record(i), deleted: i === 3 }) + '\n').join(''));
    writeFileSync(join(at, 'vectors.f32'), Buffer.from(Float32Array.from(Array.from({ length: 30 }, (_, i) => unit(i)).flat()).buffer));
    const logged = (i: number): string => JSON.stringify({ op: 'add', slot: i, record: record(i), vector: Buffer.from(Float32Array.from(unit(i)).buffer).toString('base64') });
    writeFileSync(join(at, 'writes.log'), [logged(30), logged(31), JSON.stringify({ op: 'del', slot: 4 })].join('\n') + '\n');

    const system = await ActorSystem.start({ threads: 1 });
    const memory = await VectorMemory.start(system, { dir });
    try {
      const ns = await memory.create('legacy', { dimensions: 8, indexThreshold: 8 });
      assert.equal([(await ns.stats()).live, (await ns.stats()).written], [30, 32]);
      const ids = Array.from({ length: 32 }, (_, i) => `o${i}`);
      assert.equal((await ns.get(ids)).map((r) => r?.id ?? null), ids.map((id, i) => (i === 3 || i === 4 ? null : id)));
      assert.ok((await selfRecall(ns, data, [0, 1, 2, 5, 17, 29, 30, 31], 'o', 8)) === 1);
      // Migrated at start: CURRENT names the one checkpoint directory, the old files are gone.
      assert.equal(readdirSync(at).sort(), ['CURRENT', 'cp-1']);
      assert.equal(readdirSync(join(at, 'cp-1')).sort(), ['index.usearch', 'layout.json', 'records.ndjson', 'vectors.f32', 'writes.log']);
    } finally {
      await memory.stop();
      await system.stop();
    }
    // A clean stop checkpoints again, into a new directory.
    assert.equal(readdirSync(at).sort(), ['CURRENT', 'cp-2']);
    assert.ok(!existsSync(join(at, 'records.ndjson')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a checkpoint cut short by a crash (its directory half written, CURRENT.tmp not renamed) is ignored and cleared', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'apiary-memory-test-'));
  const at = join(dir, 'cut');
  const data = clustered(50, 8, 2, 4);
  const start = async (): Promise<{ system: ActorSystem; memory: VectorMemory }> => {
    const system = await ActorSystem.start({ threads: 1 });
    return { system, memory: await VectorMemory.start(system, { dir }) };
  };
  try {
    let { system, memory } = await start();
    const ns = await memory.create('cut', { dimensions: 8, indexThreshold: 8 });
    await ns.add(Array.from({ length: 50 }, (_, i) => ({ id: `c${i}`, vector: [...row(data, 8, i)] })));
    await memory.stop();
    await system.stop();
    const current = readdirSync(at).filter((name) => name.startsWith('cp-'));
    assert.is(current.length, 1);
    // What a crash in the middle of the next checkpoint leaves: a newer directory with a torn file, the switch not made.
    mkdirSync(join(at, 'cp-9'));
    writeFileSync(join(at, 'cp-9', 'records.ndjson'), '{"record": {"id": "ghost"');
    writeFileSync(join(at, 'CURRENT.tmp'), 'cp-9');
    ({ system, memory } = await start());
    try {
      const again = await memory.create('cut', { dimensions: 8, indexThreshold: 8 });
      assert.is((await again.stats()).live, 50);
      assert.equal((await again.get(['c0', 'c49', 'ghost'])).map((r) => r?.id ?? null), ['c0', 'c49', null]);
      // The start's checkpoint took a number past the leftover and cleared it.
      assert.equal(readdirSync(at).sort(), ['CURRENT', 'cp-10']);
    } finally {
      await memory.stop();
      await system.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the automatic optimize's counts survive a restart of the process", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'apiary-memory-test-'));
  const data = clustered(400, 8, 4, 6);
  const counts = async (ns: { stats(): Promise<{ laidOut: number; insertedSinceLayout: number; removedSinceLayout: number }> }): Promise<number[]> => {
    const s = await ns.stats();
    return [s.laidOut, s.insertedSinceLayout, s.removedSinceLayout];
  };
  const session = async (work: (ns: Awaited<ReturnType<VectorMemory['create']>>) => Promise<void>): Promise<void> => {
    const system = await ActorSystem.start({ threads: 1 });
    const memory = await VectorMemory.start(system, { dir });
    try {
      await work(await memory.create('counted', { dimensions: 8, indexThreshold: 8, autoOptimize: false }));
    } finally {
      await memory.stop();
      await system.stop();
    }
  };
  try {
    await session(async (ns) => {
      await ns.add(Array.from({ length: 300 }, (_, i) => ({ id: `p${i}`, vector: [...row(data, 8, i)] })));
      await ns.snapshot();
      await ns.delete(Array.from({ length: 10 }, (_, j) => `p${j}`));
      assert.equal(await counts(ns), [0, 300, 10]);
    });
    await session(async (ns) => {
      assert.equal(await counts(ns), [0, 300, 10], 'after the first restart');
      assert.is((await ns.optimize()).entries, 290);
      await ns.add(Array.from({ length: 50 }, (_, i) => ({ id: `q${i}`, vector: [...row(data, 8, 300 + i)] })));
      await ns.snapshot();
      assert.equal(await counts(ns), [290, 50, 0]);
    });
    await session(async (ns) => assert.equal(await counts(ns), [290, 50, 0], 'after the second restart'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
