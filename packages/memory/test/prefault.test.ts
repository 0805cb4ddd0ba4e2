import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createShared } from '../src/shared-state.ts';
import { SharedWriter } from '../src/writer.ts';
import { RowPrefaulter } from '../src/prefault.ts';

const test = suite('vector memory: rows touched ahead of the writes');

// 100 floats a row: the committed rows end in the middle of a 4 KiB page (1,024 floats).
const DIMS = 100;
const PAGE = 1_024;
const FILL = 7;

function writerWith(entries: number): SharedWriter {
  const writer = new SharedWriter(createShared({ dimensions: DIMS, maxEntries: 5_000, maxRecordBytes: 1 << 20 }), DIMS);
  const vector = new Float32Array(DIMS).fill(0.1);
  writer.append('prefault', Array.from({ length: entries }, (_, i) => ({ vector, record: { id: `e${i}`, metadata: {}, origin: null, at: 0 } })));
  // What lies above the committed rows: any value; the prefaulter may overwrite it with a 0.
  writer.vectors.fill(FILL, entries * DIMS);
  return writer;
}

/** Lets the prefaulter run its turns (each one setImmediate), at most `turns` of them. */
async function settle(prefaulter: RowPrefaulter, turns = 1_000): Promise<void> {
  for (let i = 0; i < turns && prefaulter.busy; i++) await new Promise((resolve) => setImmediate(resolve));
  assert.is(prefaulter.busy, false, `still touching after ${turns} turns`);
}

test('touches one float a page above the committed rows, up to two writes like the last, and never a committed row', async () => {
  const writer = writerWith(37); // committed rows end at float 3,700, inside the page that starts at 3,072
  const before = writer.vectors.slice(0, 37 * DIMS);
  const prefaulter = new RowPrefaulter(writer);
  prefaulter.ahead(100); // rows 37-236: floats up to 23,700
  await settle(prefaulter);
  assert.equal(writer.vectors.slice(0, 37 * DIMS), before, 'committed rows unchanged');
  for (let at = 4 * PAGE; at < 237 * DIMS; at += PAGE) assert.is(writer.vectors[at], 0, `page at float ${at} touched`);
  assert.is(writer.vectors[4 * PAGE + 1], FILL, 'one float a page, no more');
  assert.is(writer.vectors[Math.ceil((237 * DIMS) / PAGE) * PAGE], FILL, 'nothing past two writes ahead');
  assert.ok(prefaulter.touched >= 237 * DIMS);
});

test('stops at the end of the buffer as it is (no growth, no error), and after stop() touches nothing more', async () => {
  const writer = writerWith(10);
  const length = writer.vectors.length; // 1,024 slots at first
  const prefaulter = new RowPrefaulter(writer);
  prefaulter.ahead(4_000);
  await settle(prefaulter);
  assert.is(writer.handles.vectors.byteLength, length * 4, 'not grown');
  assert.is(prefaulter.touched, length);
  assert.is(writer.vectors[length - PAGE], 0);

  const stopped = writerWith(10);
  const idle = new RowPrefaulter(stopped);
  idle.ahead(500);
  idle.stop();
  await settle(idle);
  assert.ok(stopped.vectors.subarray(10 * DIMS).every((x) => x === FILL), 'nothing touched after stop()');
});

test.run();
