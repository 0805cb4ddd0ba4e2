import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ActorSystem, IdGenerator, idTime } from '../src/index.ts';
import { echo } from './fixtures/behaviors.ts';

test('ids are 26-character ULIDs, unique and sorted by creation even within one millisecond', () => {
  const gen = new IdGenerator(() => 1_700_000_000_000);
  const ids = Array.from({ length: 10_000 }, () => gen.next());
  assert.ok(ids.every((id) => /^[0-9A-HJKMNP-TV-Z]{26}$/.test(id)));
  assert.is(new Set(ids).size, ids.length);
  assert.equal([...ids].sort(), ids);
  assert.is(idTime(ids[0]!), 1_700_000_000_000);
});

test('ids from separate generators (threads, processes) do not collide', () => {
  const a = new IdGenerator(() => 42);
  const b = new IdGenerator(() => 42);
  const seen = new Set<string>();
  for (let i = 0; i < 5_000; i++) {
    seen.add(a.next());
    seen.add(b.next());
  }
  assert.is(seen.size, 10_000);
});

test('every actor gets a unique id and a path, and ids sort by spawn time', async () => {
  const system = await ActorSystem.start({ threads: 2 });
  try {
    const refs = [];
    for (let i = 0; i < 200; i++) refs.push(await system.spawn(echo, { name: `e${i}` }));
    assert.is(new Set(refs.map((r) => r.id)).size, 200);
    assert.equal(refs.map((r) => r.id), [...refs.map((r) => r.id)].sort());
    assert.is(refs[7]!.path, '/e7');
  } finally {
    await system.stop();
  }
});

test.run();
