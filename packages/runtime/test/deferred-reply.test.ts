import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ActorSystem, ErrorCodes, type ActorRef, type ReplyToken } from '../src/index.ts';
import { BehaviorHarness } from '@apiary/testkit';
import { deferrer, tokenKeeper, type DeferMsg, type TokenMsg } from './fixtures/behaviors.ts';
import { waitForEvent } from '@apiary/testkit';

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

for (const placement of ['main', { thread: 1 }] as const) {
  test(`a reply token kept as plain data answers the ask from the next incarnation (${placement === 'main' ? 'main thread' : 'worker thread'})`, async () => {
    const system = await ActorSystem.start({ threads: 1 });
    try {
      const ref = (await system.spawn(tokenKeeper, { placement })) as ActorRef<TokenMsg, unknown>;
      const held = system.ask(ref, { type: 'hold' }, { timeoutMs: 10_000 });
      const token = (await system.ask(ref, { type: 'token' })) as ReplyToken<number>;
      assert.equal(JSON.parse(JSON.stringify(token)), token); // plain data
      // The actor fails and is restarted: its state (and the DeferredReply object) is gone, the ask is not.
      const restarted = waitForEvent(system.events, 'actor-restarted', (e) => e.ref.id === ref.id, 5_000);
      system.tell(ref, { type: 'crash' });
      await restarted;
      assert.is(await system.ask(ref, { type: 'token' }), null);
      system.tell(ref, { type: 'answer', token, value: 42 });
      assert.is(await held, 42);
      // A token whose ask is no longer waiting: the answer is dropped, the actor carries on.
      const late = system.ask(ref, { type: 'hold' }, { timeoutMs: 30 });
      const lateToken = (await system.ask(ref, { type: 'token' })) as ReplyToken<number>;
      assert.is(await late.catch((e: { code?: string }) => e.code), ErrorCodes.ASK_TIMEOUT);
      system.tell(ref, { type: 'answer', token: lateToken, value: 1 });
      assert.equal(await system.ask(ref, { type: 'token' }), lateToken);
      assert.is((await system.registry.describe(ref))?.restarts, 1);
    } finally {
      await system.stop();
    }
  });
}

test('BehaviorHarness.deliver waits for a deferred reply'
, async () => {
  const h = await BehaviorHarness.start(deferrer, undefined);
  const held = h.deliver({ type: 'hold', key: 'x' });
  assert.is(await h.deliver({ type: 'ping' }), 'pong');
  await h.deliver({ type: 'release', key: 'x', value: 7 });
  assert.is(await held, 7);
});

test.run();
