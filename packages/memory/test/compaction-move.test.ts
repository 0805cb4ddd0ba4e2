import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FencedIndex } from '../src/native-index.ts';
import { clustered } from '@apiary/testkit';
import { indexOptions, type NamespaceConfig } from '../src/config.ts';
import { createShared, H } from '../src/shared-state.ts';
import { SharedWriter } from '../src/writer.ts';
import { moveBoundMs, publishCompacted, SlotRenumbering } from '../src/compaction.ts';
import type { OwnerState } from '../src/owner-state.ts';
import { recordingContext } from './fixtures/blocking.ts';

const test = suite('vector memory: the move of a compaction in a blocking section');

const DIMS = 16;

test('the move and the renumbering run inside one blocking section, bounded above what they copy at 200 MB/s; readers are held off only inside it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'apiary-compaction-move-'));
  try {
    const config = {
      name: 'move',
      dimensions: DIMS,
      connectivity: 16,
      expansionAdd: 64,
      expansionSearch: 32,
      quantization: 'f32',
      snapshotDir: dir,
      fileStem: 'move',
      persistDir: null,
      shared: createShared({ dimensions: DIMS, maxEntries: 1_000, maxRecordBytes: 1 << 20 }),
    } as NamespaceConfig;
    const writer = new SharedWriter(config.shared, DIMS);
    const data = clustered(600, DIMS, 6, 3);
    const slots = writer.append(
      'move',
      Array.from({ length: 600 }, (_, i) => ({ vector: data.subarray(i * DIMS, (i + 1) * DIMS), record: { id: `e${i}`, metadata: { i }, origin: null, at: 0 } })),
    );
    for (let slot = 0; slot < 600; slot += 3) writer.delete(slot); // 200 dead slots
    const numbering = new SlotRenumbering(writer, 600);
    const ctx = recordingContext();
    const index = new FencedIndex(indexOptions(config), ctx);
    for (let slot = 0; slot < 600; slot++) {
      const key = numbering.keyOf(slot);
      if (key >= 0) index.add(BigInt(key), data.subarray(slot * DIMS, (slot + 1) * DIMS), 1);
    }
    const { sections } = ctx;
    const seqInside: number[] = [];
    const ids = new Map(slots.filter((slot) => slot % 3 !== 0).map((slot) => [`e${slot}`, slot]));
    const state = {
      config,
      writer,
      ids,
      index: new FencedIndex(indexOptions(config), ctx),
      indexed: 600,
      ctx: { blocking: ctx.blocking, nativeCall: ctx.nativeCall, publish: () => undefined, wants: () => false },
    } as unknown as OwnerState;
    const bytesBefore = Atomics.load(writer.header, H.RECORD_BYTES);
    const move = writer.moveSlots.bind(writer);
    writer.moveSlots = (committed, newSlot) => {
      assert.ok(ctx.inside, 'the slots moved inside the section');
      assert.ok(ctx.insideNative, 'and inside the native fence: no termination cuts the move');
      seqInside.push(Atomics.load(writer.header, H.LAYOUT_SEQ));
      move(committed, newSlot);
    };
    publishCompacted(state, index, numbering);
    // One section (the snapshot's save is one more: it goes through the same context).
    const moveSections = sections.filter((ms) => ms === moveBoundMs(600, DIMS, bytesBefore));
    assert.is(moveSections.length, 1, `sections ${sections.join(', ')}`);
    assert.ok(moveBoundMs(600, DIMS, bytesBefore) >= 1_000 + (600 * DIMS * 4 + bytesBefore) / 200_000);
    assert.equal(seqInside, [1], 'the sequence was odd (readers held off) during the move');
    assert.is(Atomics.load(writer.header, H.LAYOUT_SEQ) % 2, 0, 'and even again after it');
    // What moved is right: 400 live slots, each id at its new number with its own vector.
    assert.is(writer.committed(), 400);
    assert.is(state.indexed, 400);
    assert.is(ids.size, 400);
    for (const [id, slot] of ids) {
      const old = Number(id.slice(1));
      assert.is(slot, numbering.keyOf(old));
      assert.equal(Array.from(writer.vectors.subarray(slot * DIMS, (slot + 1) * DIMS)), Array.from(data.subarray(old * DIMS, (old + 1) * DIMS)));
    }
    // A full 384-d namespace of Node 20's largest buffer gets a bound of seconds, not the default 5 s heartbeat.
    const full = moveBoundMs(2_796_202, 384, 1 << 30);
    assert.ok(full > 20_000 && full < 60_000, `bound ${full} ms`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
