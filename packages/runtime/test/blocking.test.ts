import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { recordEvents, waitForEvent } from '@apiary/testkit';
import { ActorSystem, ErrorCodes, type ActorRef } from '../src/index.ts';
import { blocker, type BlockerMsg } from './fixtures/behaviors.ts';

const test = suite('declared blocking sections (ctx.blocking)');

// Heartbeats every 50 ms, a thread silent for 300 ms is dead: the sections below last 1.2 s.
const options = { threads: 2, heartbeatIntervalMs: 50, heartbeatTimeoutMs: 300 } as const;

async function withBlocker(run: (system: ActorSystem, ref: ActorRef<BlockerMsg, unknown>) => Promise<void>): Promise<void> {
  const system = await ActorSystem.start(options);
  try {
    const ref = (await system.spawn(blocker, { placement: { thread: 1 } })) as ActorRef<BlockerMsg, unknown>;
    await run(system, ref);
  } finally {
    await system.stop();
  }
}

test('a thread silent for four heartbeat timeouts inside a declared section is not killed, and answers after it', async () => {
  await withBlocker(async (system, ref) => {
    const events = recordEvents(system.events);
    assert.is(await system.ask(ref, { type: 'block', ms: 1200, maxMs: 10_000 }, { timeoutMs: 20_000 }), 1200);
    assert.is(await system.ask(ref, { type: 'ping' }), 1);
    assert.equal(events.ofType('thread-crashed'), []);
  });
});

test('a section that outlasts its bound costs the thread, with a reason that says so; the actor comes back', async () => {
  await withBlocker(async (system, ref) => {
    const crashed = waitForEvent(system.events, 'thread-crashed', (e) => e.thread === 1, 20_000);
    const replaced = waitForEvent(system.events, 'thread-replaced', (e) => e.thread === 1, 20_000);
    const answer = system.ask(ref, { type: 'block', ms: 5000, maxMs: 400 }, { timeoutMs: 20_000 }).then(
      () => null,
      (error: { code?: string }) => error.code ?? 'no code',
    );
    const crash = await crashed;
    assert.match(crash.reason, /no heartbeat for \d+ ms, \d+ ms of it outside blocking sections/);
    assert.ok(await answer, 'the ask fails: its thread died under it');
    await replaced;
    assert.is(await system.ask(ref, { type: 'ping' }, { timeoutMs: 10_000 }), 1);
  });
});

test('silence outside sections is what counts: a section then half a timeout of work in the same turn is not fatal', async () => {
  await withBlocker(async (system, ref) => {
    const events = recordEvents(system.events);
    // 450 ms silent in all (past the 300 ms timeout), 150 ms of it outside the section: half the
    // timeout left for the ping's answer to cross a busy two-core machine.
    for (let round = 0; round < 5; round++) assert.is(await system.ask(ref, { type: 'then', ms: 300, maxMs: 10_000, afterMs: 150 }, { timeoutMs: 20_000 }), 450);
    assert.equal(events.ofType('thread-crashed'), []);
  });
});

test('a short section nested in a long one does not shorten the long one', async () => {
  await withBlocker(async (system, ref) => {
    const events = recordEvents(system.events);
    assert.is(await system.ask(ref, { type: 'nested', ms: 1200, outerMs: 10_000, innerMs: 1 }, { timeoutMs: 20_000 }), 1200);
    assert.equal(events.ofType('thread-crashed'), []);
  });
});

test('a bound that is not a positive finite number of milliseconds is refused with InvalidArgumentError', async () => {
  await withBlocker(async (system, ref) => {
    for (const maxMs of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
      try {
        await system.ask(ref, { type: 'bad', maxMs });
        assert.unreachable(`maxMs ${maxMs} was taken`);
      } catch (error) {
        // The handler threw it: the ask fails with ActorFailedError, the cause crossing the thread typed.
        const failed = error as { code?: string; cause?: { code?: string; message?: string } };
        assert.is(failed.code, ErrorCodes.ACTOR_FAILED, `maxMs ${maxMs}`);
        assert.is(failed.cause?.code, ErrorCodes.INVALID_ARGUMENT, `maxMs ${maxMs}`);
        assert.match(failed.cause?.message ?? '', /invalid maxMs/);
      }
    }
    assert.is(await system.ask(ref, { type: 'ping' }), 1);
  });
});

test.run();
