import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defineBehavior, type ActorRef } from '@apiary/runtime';
import { BehaviorHarness, ManualClock, ProbeTimeoutError, waitForEvent } from '../src/index.ts';
import { EventBus } from '@apiary/runtime';

export const greeter = defineBehavior(import.meta.url, 'greeter', {
  setup: (props: { greeting: string }) => ({ greeting: props.greeting, count: 0 }),
  receive(state, msg: { name: string; replyTo?: ActorRef<string> }, ctx) {
    state.count++;
    const text = `${state.greeting}, ${msg.name}`;
    if (msg.replyTo !== undefined) ctx.tell(msg.replyTo, text);
    return text;
  },
});

test('the behavior harness runs handlers without threads and records what they send', async () => {
  const h = await BehaviorHarness.start(greeter, { greeting: 'hello' });
  assert.is(await h.deliver({ name: 'ada' }), 'hello, ada');
  const other = { kind: 'apiary.ref', id: 'x', path: '/x', thread: 0 } as ActorRef<string>;
  await h.deliver({ name: 'bob', replyTo: other });
  assert.equal(h.outbox, [{ kind: 'tell', to: other, message: 'hello, bob' }]);
  assert.is(h.state.count, 2);
  await h.restart();
  assert.is(h.state.count, 0);
});

export const loader = defineBehavior(import.meta.url, 'loader', {
  setup: () => ({ loaded: 0 }),
  receive(state, msg: { maxMs: number }, ctx) {
    return ctx.blocking(() => ++state.loaded, { maxMs: msg.maxMs });
  },
});

test('the behavior harness checks and records blocking sections as an actor system runs them', async () => {
  const h = await BehaviorHarness.start(loader, {});
  assert.is(await h.deliver({ maxMs: 5_000 }), 1);
  assert.equal(h.blockingSections.map((s) => s.maxMs), [5_000]);
  assert.ok(h.blockingSections[0]!.ms >= 0 && h.blockingSections[0]!.ms < 5_000);
  for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
    const error = await h.deliver({ maxMs: bad }).then(
      () => null,
      (e: { code?: string }) => e.code,
    );
    assert.is(error, 'APIARY_ERR_INVALID_ARGUMENT', `maxMs ${bad}`);
  }
  assert.is(h.state.loaded, 1, 'a refused section does not run');
  assert.is(h.blockingSections.length, 1, 'nor is it recorded');
});

test('the manual clock fires timers in due order only when advanced', async () => {
  const clock = new ManualClock();
  const fired: string[] = [];
  clock.setTimeout(() => fired.push('b'), 20);
  clock.setTimeout(() => fired.push('a'), 10);
  const cancelled = clock.setTimeout(() => fired.push('never'), 15);
  clock.clearTimeout(cancelled);
  await clock.advance(9);
  assert.equal(fired, []);
  await clock.advance(11);
  assert.equal(fired, ['a', 'b']);
  assert.is(clock.now(), 20);
});

test('waitForEvent resolves on a matching event and times out with a typed error', async () => {
  const bus = new EventBus();
  const waiting = waitForEvent(bus, 'thread-started', (e) => e.thread === 2, 1_000);
  bus.publish({ type: 'thread-started', time: 0, thread: 1 });
  bus.publish({ type: 'thread-started', time: 0, thread: 2 });
  assert.is((await waiting).thread, 2);
  const error = await waitForEvent(bus, 'thread-started', () => true, 20).catch((e: unknown) => e);
  assert.instance(error, ProbeTimeoutError);
});

test.run();
