// Smoke test of the BUILT package: worker threads must start from dist/ with plain node.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ActorSystem, ErrorCodes, supervisor } from '../dist/index.js';
import { tally } from './behaviors.mjs';

function once(bus, type, predicate = () => true) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${type}`)), 20_000);
    const off = bus.on(type, (e) => {
      if (!predicate(e)) return;
      clearTimeout(timer);
      off();
      resolve(e);
    });
  });
}

test('the built runtime runs actors on worker threads, restarts them, and survives a thread crash', async () => {
  const system = await ActorSystem.start({ threads: 2, loader: 'none' });
  try {
    await system.spawn(
      supervisor({ children: [1, 2, 3, 4].map((i) => ({ name: `t${i}`, behavior: tally, props: { start: i }, placement: { thread: 1 + (i % 2) } })) }),
      { name: 'dist' },
    );
    const t1 = system.registry.get('/dist/t1');
    assert.equal(await system.ask(t1, 'inc'), { n: 2, thread: 2 });
    const failed = await system.ask(t1, 'throw').catch((e) => e.code);
    assert.is(failed, ErrorCodes.ACTOR_FAILED);
    const replaced = once(system.events, 'thread-replaced', (e) => e.thread === 2);
    system.tell(t1, 'crash-thread');
    await replaced;
    for (const i of [1, 2, 3, 4]) {
      const reply = await system.ask(system.registry.get(`/dist/t${i}`), 'get');
      assert.is(reply.n, i);
    }
  } finally {
    await system.stop();
  }
});

test.run();
