import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ActorSystem, supervisor, type ActorRef } from '../src/index.ts';
import { counter, type CounterMsg } from './fixtures/behaviors.ts';

test('the registry finds actors by id, path and tag and reports live counters', async () => {
  const system = await ActorSystem.start({ threads: 2 });
  try {
    await system.spawn(
      supervisor({
        children: [
          { name: 'w1', behavior: counter, tags: ['worker', 'gpu'], placement: { thread: 1 } },
          { name: 'w2', behavior: counter, tags: ['worker'], placement: { thread: 2 } },
        ],
      }),
      { name: 'swarm', tags: ['swarm'] },
    );
    const w1 = system.registry.get('/swarm/w1') as ActorRef<CounterMsg, number>;
    assert.ok(w1);
    assert.equal(system.registry.get(w1.id), w1);
    assert.equal(system.registry.byTag('worker').map((r) => r.path).sort(), ['/swarm/w1', '/swarm/w2']);
    assert.equal(system.registry.byTag('gpu'), [w1]);
    for (let i = 0; i < 5; i++) system.tell(w1, { type: 'inc' });
    await system.ask(w1, { type: 'get' });
    const info = await system.registry.describe(w1);
    assert.is(info?.status, 'running');
    assert.is(info?.thread, 1);
    assert.is(info?.processed, 6);
    assert.is(info?.mailboxDepth, 0);
    assert.is(info?.parent, '/swarm');
    const under = await system.registry.list({ under: '/swarm' });
    assert.equal(under.map((i) => i.ref.path).sort(), ['/swarm', '/swarm/w1', '/swarm/w2']);
    const onTwo = await system.registry.list({ thread: 2 });
    assert.equal(onTwo.map((i) => i.ref.path), ['/swarm/w2']);
    assert.is((await system.registry.list({ tag: 'swarm' }))[0]?.supervisor, true);
  } finally {
    await system.stop();
  }
});

test.run();
