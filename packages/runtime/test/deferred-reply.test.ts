import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ActorSystem, ErrorCodes, type ActorRef } from '../src/index.ts';
import { BehaviorHarness } from '@apiary/testkit';
import { deferrer, type DeferMsg } from './fixtures/behaviors.ts';

for (const placement of ['main', { thread: 1 }] as const) {
  test(`a deferred reply answers later while the actor serves other messages (${placement === 'main' ? 'main thread' : 'worker thread'})`, async () => {
    const system = await ActorSystem.start({ threads: 1 });
    try {
      const ref = (await system.spawn(deferrer, { placement })) as ActorRef<DeferMsg, number | string>;
      const first = system.ask(ref, { type: 'hold', key: 'a' });
      const second = system.ask(ref, { type: 'hold', key: 'b' });
      // Both asks are open, and the actor still answers at once: it did not wait on them.
      assert.is(await system.ask(ref, { type: 'ping' }), 'pong');
      assert.is(await system.ask(ref, { type: 'release', key: 'b', value: 2 }), 1);
      assert.is(await second, 2);
      assert.is(await system.ask(ref, { type: 'release', key: 'a', fail: true }), 0);
      const error = (await first.catch((e: unknown) => e)) as { code?: string; message?: string };
      assert.is(error.code, ErrorCodes.INVALID_ARGUMENT);
      assert.match(String(error.message), /a was refused/);
      // The actor was not failed by the error reply.
      const info = await system.registry.describe(ref);
      assert.is(info?.restarts, 0);
      // A deferred ask nobody answers times out at the asker, like any ask.
      const never = await system.ask(ref, { type: 'hold', key: 'c' }, { timeoutMs: 50 }).catch((e: { code?: string }) => e.code);
      assert.is(never, ErrorCodes.ASK_TIMEOUT);
    } finally {
      await system.stop();
    }
  });
}

test('BehaviorHarness.deliver waits for a deferred reply', async () => {
  const h = await BehaviorHarness.start(deferrer, undefined);
  const held = h.deliver({ type: 'hold', key: 'x' });
  assert.is(await h.deliver({ type: 'ping' }), 'pong');
  await h.deliver({ type: 'release', key: 'x', value: 7 });
  assert.is(await held, 7);
});

test.run();
