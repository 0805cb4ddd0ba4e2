import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock, recordEvents, waitForEvent } from '@apiary/testkit';
import { ActorSystem, ErrorCodes, supervisor, type ActorRef } from '../src/index.ts';
import { SupervisorPolicy } from '../src/supervision.ts';
import { counter, type CounterMsg } from './fixtures/behaviors.ts';

test('backoff doubles from minMs up to maxMs and resets after a stable period (policy, manual clock)', async () => {
  const clock = new ManualClock();
  const policy = new SupervisorPolicy(
    { strategy: 'one-for-one', intensity: 100, periodMs: 1000, backoff: { minMs: 100, maxMs: 500, factor: 2, jitter: 0, resetAfterMs: 10_000 } },
    clock,
  );
  const delays = Array.from({ length: 6 }, () => policy.nextDelay('c'));
  assert.equal(delays, [0, 100, 200, 400, 500, 500]);
  policy.started('c');
  await clock.advance(10_000);
  assert.is(policy.nextDelay('c'), 0);
});

test('jitter spreads the delay within +-jitter of the base', () => {
  const clock = new ManualClock();
  const lows = new SupervisorPolicy({ strategy: 'one-for-one', intensity: 9, periodMs: 1, backoff: { minMs: 1000, maxMs: 1000, factor: 2, jitter: 0.5, resetAfterMs: 1e9 } }, clock, () => 0);
  const highs = new SupervisorPolicy({ strategy: 'one-for-one', intensity: 9, periodMs: 1, backoff: { minMs: 1000, maxMs: 1000, factor: 2, jitter: 0.5, resetAfterMs: 1e9 } }, clock, () => 1);
  lows.nextDelay('x');
  highs.nextDelay('x');
  assert.is(lows.nextDelay('x'), 500);
  assert.is(highs.nextDelay('x'), 1500);
});

test('intensity counts restarts in a sliding period; one incident counts once', async () => {
  const clock = new ManualClock();
  const policy = new SupervisorPolicy({ strategy: 'one-for-one', intensity: 2, periodMs: 1000, backoff: null }, clock);
  assert.ok(policy.allowRestart('i1'));
  assert.ok(policy.allowRestart('thread-crash'));
  assert.ok(policy.allowRestart('thread-crash')); // same incident, many children
  assert.not.ok(policy.allowRestart('i3'));
  await clock.advance(1001);
  assert.ok(policy.allowRestart('i4'));
});

test('a supervisor waits out the backoff on the injected clock before restarting', async () => {
  const clock = new ManualClock();
  const system = await ActorSystem.start({ threads: 1, clock, heartbeatIntervalMs: 0 });
  try {
    await system.spawn(
      supervisor({
        intensity: 100,
        periodMs: 1e9,
        backoff: { minMs: 100, maxMs: 1000, factor: 2, jitter: 0, resetAfterMs: 5_000 },
        children: [{ name: 'w', behavior: counter }],
      }),
      { name: 'slow' },
    );
    const w = system.registry.get('/slow/w') as ActorRef<CounterMsg, number>;
    const events = recordEvents(system.events);

    const crashAndRestart = async (expectedDelay: number): Promise<void> => {
      const failed = waitForEvent(system.events, 'actor-failed', (e) => e.ref.id === w.id);
      const restarted = waitForEvent(system.events, 'actor-restarted', (e) => e.ref.id === w.id);
      const before = events.ofType('actor-restarted').length;
      system.tell(w, { type: 'crash' });
      await failed;
      if (expectedDelay > 0) {
        await clock.advance(expectedDelay - 1);
        assert.is(events.ofType('actor-restarted').length, before, `restarted before ${expectedDelay} ms`);
        await clock.advance(1);
      }
      const event = await restarted;
      assert.is(event.delayMs, expectedDelay);
      assert.is(await system.ask(w, { type: 'get' }), 0);
    };

    await crashAndRestart(0);
    await crashAndRestart(100);
    await crashAndRestart(200);
    await clock.advance(5_000); // stable long enough: the streak resets
    await crashAndRestart(0);
    events.stop();
  } finally {
    await system.stop();
  }
});

test('a backoff timer from an older incident does not restart a child a newer incident already restarted', async () => {
  const clock = new ManualClock();
  const system = await ActorSystem.start({ threads: 1, clock, heartbeatIntervalMs: 0 });
  try {
    await system.spawn(
      supervisor({
        strategy: 'one-for-all',
        intensity: 100,
        periodMs: 1e9,
        backoff: { minMs: 100, maxMs: 1000, factor: 2, jitter: 0, resetAfterMs: 1e9 },
        children: [
          { name: 'a', behavior: counter },
          { name: 'b', behavior: counter },
        ],
      }),
      { name: 'pair' },
    );
    const a = system.registry.get('/pair/a') as ActorRef<CounterMsg, number>;
    const b = system.registry.get('/pair/b') as ActorRef<CounterMsg, number>;
    const events = recordEvents(system.events);
    const restartOf = (ref: ActorRef) => waitForEvent(system.events, 'actor-restarted', (e) => e.ref.id === ref.id);

    // a fails twice: the first restart is immediate, the second waits 100 ms on the clock.
    let restarted = restartOf(a);
    system.tell(a, { type: 'crash' });
    await restarted;
    const failed = waitForEvent(system.events, 'actor-failed', (e) => e.ref.id === a.id);
    system.tell(a, { type: 'crash' });
    await failed;
    // Meanwhile b fails for the first time (no backoff): one-for-all restarts a and b at once.
    restarted = restartOf(a);
    const bBack = restartOf(b);
    system.tell(b, { type: 'crash' });
    await Promise.all([restarted, bBack]);
    assert.is(await system.ask(a, { type: 'inc', by: 7 }), 7);
    const before = events.ofType('actor-restarted').length;

    // The stale timer of a's second failure fires: a is healthy and must keep its state.
    await clock.advance(1_000);
    assert.is(await system.ask(a, { type: 'get' }), 7);
    assert.is(events.ofType('actor-restarted').length, before);
    events.stop();
  } finally {
    await system.stop();
  }
});

test('a failure past the root guardian intensity stops the system with SystemFailedError', async () => {
  const system = await ActorSystem.start({ threads: 1, guardian: { intensity: 1, periodMs: 60_000, backoff: false } });
  const c = await system.spawn(counter, { name: 'fragile' });
  const restarted = waitForEvent(system.events, 'actor-restarted', (e) => e.ref.id === c.id);
  system.tell(c, { type: 'crash' });
  await restarted;
  system.tell(c, { type: 'crash' });
  const termination = await system.whenTerminated();
  assert.is(termination.reason, 'failed');
  assert.is((termination.error as Error & { code?: string }).code, ErrorCodes.SYSTEM_FAILED);
  const cause = (termination.error as Error).cause as { code: string };
  assert.is(cause.code, ErrorCodes.ESCALATED);
  const late = await system.spawn(counter).catch((e: { code: string }) => e.code);
  assert.is(late, ErrorCodes.SYSTEM_STOPPED);
});

test.run();
