import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { recordEvents, waitForEvent, waitForEvents, within } from '@apiary/testkit';
import { ActorSystem, ErrorCodes, type ActorRef, type ActorSystemOptions } from '../src/index.ts';
import { chaos, counter, type ChaosMsg, type CounterMsg } from './fixtures/behaviors.ts';

interface Cause {
  readonly name: string;
  readonly message: ChaosMsg;
  readonly options: ActorSystemOptions;
  readonly reason: RegExp;
}

const causes: Cause[] = [
  { name: 'process.exit inside the thread', message: 'exit', options: {}, reason: /exited with code 3/ },
  { name: 'an uncaught error outside any actor', message: 'uncaught', options: {}, reason: /uncaught error: uncaught outside any actor/ },
  {
    name: 'a memory limit hit through resourceLimits',
    message: 'oom',
    options: { resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 } },
    reason: /memory|ERR_WORKER_OUT_OF_MEMORY/i,
  },
  { name: 'a blocked event loop that stops answering heartbeats', message: 'spin', options: { heartbeatIntervalMs: 50, heartbeatTimeoutMs: 400 }, reason: /no heartbeat/ },
];

for (const cause of causes) {
  test(`a thread killed by ${cause.name} is replaced and every actor it hosted answers again`, async () => {
    const system = await ActorSystem.start({ threads: 2, ...cause.options });
    try {
      const victims: ActorRef<CounterMsg, number>[] = [];
      for (let i = 0; i < 50; i++) victims.push(await system.spawn(counter, { placement: { thread: 1 }, props: { start: i } }));
      for (const v of victims) system.tell(v, { type: 'inc', by: 1000 });
      const bystander = await system.spawn(counter, { placement: { thread: 2 }, props: { start: 7 } });
      system.tell(bystander, { type: 'inc' });
      const bomb = await system.spawn(chaos, { placement: { thread: 1 } });

      const crashed = waitForEvent(system.events, 'thread-crashed', (e) => e.thread === 1, 20_000);
      const replaced = waitForEvent(system.events, 'thread-replaced', (e) => e.thread === 1, 20_000);
      system.tell(bomb, cause.message);
      const crash = await crashed;
      assert.match(crash.reason, cause.reason);
      assert.is(crash.actors, 51); // 50 counters and the bomb
      // Sent while the thread is down: held for the replacement, not lost.
      const early = system.ask(victims[3]!, { type: 'get' }, { timeoutMs: 20_000 });
      await replaced;
      assert.is(await early, 3);
      const answers = await within(Promise.all(victims.map((v) => system.ask(v, { type: 'get' }))), 10_000, 'all victims to answer');
      assert.equal(answers, victims.map((_, i) => i)); // restarted from their props: state reset
      assert.is(await system.ask(bystander, { type: 'get' }), 8); // the other thread was not touched
      assert.is(await system.ask(bomb, 'ping'), 1);
      const info = await system.registry.describe(victims[0]!);
      assert.is(info?.restarts, 1);
      assert.is(info?.thread, 1);
    } finally {
      await system.stop();
    }
  });
}

for (const strategy of ['one-for-all', 'rest-for-one'] as const) {
  test(`a thread crash under ${strategy} restarts each affected child exactly once`, async () => {
    const { supervisor } = await import('../src/index.ts');
    const system = await ActorSystem.start({ threads: 2 });
    try {
      const events = recordEvents(system.events);
      await system.spawn(
        supervisor({
          strategy,
          backoff: false,
          children: [
            { name: 'x', behavior: counter, placement: { thread: 2 } },
            ...[1, 2, 3].map((i) => ({ name: `v${i}`, behavior: counter, placement: { thread: 1 } })),
          ],
        }),
        { name: 'once' },
      );
      const expected = strategy === 'one-for-all' ? 4 : 3;
      const restarted = waitForEvents(system.events, 'actor-restarted', expected);
      await system.terminateThread(1);
      await restarted;
      const refs = ['x', 'v1', 'v2', 'v3'].map((n) => system.registry.get(`/once/${n}`) as ActorRef<CounterMsg, number>);
      await Promise.all(refs.map((r) => system.ask(r, { type: 'get' })));
      const infos = await Promise.all(refs.map((r) => system.registry.describe(r)));
      // one-for-all also restarts x (another thread); rest-for-one only the ones after v1.
      assert.equal(infos.map((i) => i?.restarts), strategy === 'one-for-all' ? [1, 1, 1, 1] : [0, 1, 1, 1]);
      assert.is(events.ofType('actor-restarted').length, expected);
      // The cause comes first on the bus: thread-crashed, then the actor-failed events it caused.
      const order = events.events.filter((e) => e.type === 'thread-crashed' || e.type === 'actor-failed').map((e) => e.type);
      assert.equal(order, ['thread-crashed', 'actor-failed', 'actor-failed', 'actor-failed']);
      events.stop();
    } finally {
      await system.stop();
    }
  });
}

test('an actor that throws restarts inside its own thread; its neighbours keep their state', async () => {
  const system = await ActorSystem.start({ threads: 1 });
  try {
    const events = recordEvents(system.events);
    const a = await system.spawn(counter, { placement: { thread: 1 }, props: { start: 1 } });
    const b = await system.spawn(counter, { placement: { thread: 1 }, props: { start: 1 } });
    system.tell(a, { type: 'inc' });
    system.tell(b, { type: 'inc' });
    const restarted = waitForEvent(system.events, 'actor-restarted', (e) => e.ref.id === a.id);
    system.tell(a, { type: 'crash' });
    await restarted;
    assert.is(await system.ask(a, { type: 'get' }), 1);
    assert.is(await system.ask(b, { type: 'get' }), 2);
    assert.is(events.ofType('thread-crashed').length, 0);
    events.stop();
  } finally {
    await system.stop();
  }
});

test('asks waiting on a thread that dies fail with ThreadCrashedError instead of hanging', async () => {
  const system = await ActorSystem.start({ threads: 1 });
  try {
    const { gated, makeGate, whenBlocked } = await import('./fixtures/behaviors.ts');
    const gate = makeGate();
    const g = await system.spawn(gated, { placement: { thread: 1 }, props: { gate } });
    const pending = system.ask(g, 'block', { timeoutMs: 30_000 });
    await whenBlocked(gate);
    await system.terminateThread(1);
    const error = await pending.catch((e: { code: string }) => e);
    assert.is((error as { code: string }).code, ErrorCodes.THREAD_CRASHED);
    await waitForEvent(system.events, 'thread-replaced', (e) => e.thread === 1);
  } finally {
    await system.stop();
  }
});

test.run();
