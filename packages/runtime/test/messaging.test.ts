import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { eventually, waitForEvent } from '@apiary/testkit';
import { ActorSystem, ErrorCodes, type ActorRef } from '../src/index.ts';
import { counter, echo, forwarder, gated, makeGate, openGate, recorder, relay } from './fixtures/behaviors.ts';

const test = suite<{ system: ActorSystem }>('messaging', {} as { system: ActorSystem });

test.before(async (ctx) => {
  ctx.system = await ActorSystem.start({ threads: 2 });
});

test.after(async (ctx) => {
  await ctx.system.stop();
});

async function rejection(promise: Promise<unknown>): Promise<{ code?: string; name: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; name: string };
  }
  throw new Error('expected a rejection');
}

test('tell and ask reach an actor on a worker thread and on the main thread', async ({ system }) => {
  const remote = await system.spawn(echo, { placement: { thread: 1 } });
  const local = await system.spawn(echo, { placement: 'main' });
  assert.equal(await system.ask(remote, 'hi'), { msg: 'hi', thread: 1 });
  assert.equal(await system.ask(local, 'yo'), { msg: 'yo', thread: 0 });
  const c = await system.spawn(counter, { placement: { thread: 2 }, props: { start: 10 } });
  system.tell(c, { type: 'inc', by: 5 });
  assert.is(await system.ask(c, { type: 'get' }), 15);
});

test('least-loaded placement spreads actors over the worker threads', async ({ system }) => {
  const refs = await Promise.all(Array.from({ length: 20 }, () => system.spawn(echo)));
  const threads = new Set(refs.map((r) => r.thread));
  assert.equal([...threads].sort(), [1, 2]);
});

test('messages from one sender to one receiver arrive in order, across threads', async ({ system }) => {
  const rec = await system.spawn(recorder, { placement: { thread: 2 }, mailbox: { capacity: 100_000 } });
  const n = 20_000;
  for (let i = 0; i < n; i++) system.tell(rec, i);
  const seen = (await system.ask(rec, 'dump')) as number[];
  assert.is(seen.length, n);
  for (let i = 0; i < n; i++) if (seen[i] !== i) assert.unreachable(`out of order at ${i}: ${seen[i]}`);
});

test('messages between two worker-thread actors keep their order (direct thread-to-thread link)', async ({ system }) => {
  const rec = await system.spawn(recorder, { placement: { thread: 2 }, mailbox: { capacity: 100_000 } });
  const fwd = await system.spawn(forwarder, { placement: { thread: 1 }, props: { to: rec }, mailbox: { capacity: 100_000 } });
  const n = 5_000;
  for (let i = 0; i < n; i++) system.tell(fwd, i);
  await system.ask(fwd, 'last'); // forwarded too, after all the numbers
  // The forwarded messages travel thread 1 -> thread 2 while our asks go main -> thread 2: another
  // pair, with no order between them. Wait until everything arrived, then check the order.
  await eventually(async () => ((await system.ask(rec, 'dump')) as unknown[]).length === n + 1, 10_000, 'all forwarded messages');
  const seen = (await system.ask(rec, 'dump')) as unknown[];
  assert.is(seen.length, n + 1);
  assert.equal(seen.slice(0, 5), [0, 1, 2, 3, 4]);
  assert.is(seen[n - 1], n - 1);
  assert.is(seen[n], 'last');
});

test('an ActorRef travels inside a message and works on the receiving thread', async ({ system }) => {
  const target = await system.spawn(echo, { placement: { thread: 2 } });
  const via = await system.spawn(relay, { placement: { thread: 1 } });
  const reply = await system.ask(via, { via: target as ActorRef<unknown, unknown>, payload: 'through two threads' });
  assert.equal(reply, { msg: 'through two threads', thread: 2 });
});

test('an ask that gets no reply in time fails with AskTimeoutError', async ({ system }) => {
  const gate = makeGate();
  const g = await system.spawn(gated, { placement: { thread: 1 }, props: { gate } });
  const error = await rejection(system.ask(g, 'block', { timeoutMs: 50 }));
  assert.is(error.code, ErrorCodes.ASK_TIMEOUT);
  assert.is(error.name, 'AskTimeoutError');
  openGate(gate);
  assert.is(await system.ask(g, 'after'), 1);
});

test('an ask to a stopped actor fails with ActorNotFoundError and becomes a dead letter', async ({ system }) => {
  const c = await system.spawn(counter, { placement: { thread: 1 } });
  await system.stop(c);
  const dead = waitForEvent(system.events, 'dead-letter', (e) => e.to === c.id);
  const error = await rejection(system.ask(c, { type: 'get' }));
  assert.is(error.code, ErrorCodes.ACTOR_NOT_FOUND);
  const letter = await dead;
  assert.equal(letter.message, { type: 'get' });
  assert.is(letter.reason, 'not-found');
});

test('a tell to a stopped actor is a dead-letter event, not silence', async ({ system }) => {
  const c = await system.spawn(counter, { placement: 'main' });
  await system.stop(c);
  const dead = waitForEvent(system.events, 'dead-letter', (e) => e.to === c.id);
  system.tell(c, { type: 'inc' });
  assert.equal((await dead).message, { type: 'inc' });
});

test('a message that cannot cross a thread fails at the call site with MessageNotCloneableError', async ({ system }) => {
  const c = await system.spawn(echo, { placement: { thread: 1 } });
  try {
    system.tell(c, { fn: () => 1 });
    assert.unreachable('tell should throw');
  } catch (error) {
    assert.is((error as { code: string }).code, ErrorCodes.NOT_CLONEABLE);
    assert.match((error as Error).message, /\$\.fn/);
  }
  const askError = await rejection(system.ask(c, { nested: [1, Symbol('x')] }));
  assert.is(askError.code, ErrorCodes.NOT_CLONEABLE);
  // The actor is unaffected.
  assert.equal(await system.ask(c, 'fine'), { msg: 'fine', thread: 1 });
});

test('props that cannot cross a thread reject the spawn with a typed error', async ({ system }) => {
  const error = await rejection(system.spawn(counter, { placement: { thread: 1 }, props: { start: 1, cb: () => 2 } as never }));
  assert.is(error.code, ErrorCodes.NOT_CLONEABLE);
});

test('a handler error fails the ask with ActorFailedError carrying the cause, and the actor comes back', async ({ system }) => {
  const c = await system.spawn(counter, { placement: { thread: 2 }, props: { start: 3 } });
  const restarted = waitForEvent(system.events, 'actor-restarted', (e) => e.ref.id === c.id);
  const error = (await rejection(system.ask(c, { type: 'crash' }))) as { code: string; cause?: { message: string } };
  assert.is(error.code, ErrorCodes.ACTOR_FAILED);
  assert.is(error.cause?.message, 'boom');
  await restarted;
  assert.is(await system.ask(c, { type: 'get' }), 3);
});

test('bad arguments are rejected with InvalidArgumentError naming the field', async ({ system }) => {
  const notARef = { id: 'x' } as unknown as ActorRef<string>;
  assert.throws(() => system.tell(notARef, 'x'), (e: { code: string }) => e.code === ErrorCodes.INVALID_ARGUMENT);
  const e1 = await rejection(system.spawn(echo, { name: 'has/slash' }));
  assert.is(e1.code, ErrorCodes.INVALID_ARGUMENT);
  const e2 = await rejection(system.spawn(echo, { placement: { thread: 99 } }));
  assert.is(e2.code, ErrorCodes.INVALID_ARGUMENT);
  const e3 = await rejection(system.spawn(echo, { mailbox: { capacity: 0 } }));
  assert.is(e3.code, ErrorCodes.INVALID_ARGUMENT);
  const e4 = await rejection(system.spawn({} as never));
  assert.is(e4.code, ErrorCodes.INVALID_ARGUMENT);
  const c = await system.spawn(echo);
  const e5 = await rejection(system.ask(c, 'x', { timeoutMs: -1 }));
  assert.is(e5.code, ErrorCodes.INVALID_ARGUMENT);
});

test('two siblings cannot share a name', async ({ system }) => {
  await system.spawn(echo, { name: 'unique-one' });
  const error = await rejection(system.spawn(echo, { name: 'unique-one' }));
  assert.is(error.code, ErrorCodes.NAME_TAKEN);
});

test('a behavior module that cannot be loaded fails the spawn with SpawnFailedError', async ({ system }) => {
  const missing = { ...echo, module: new URL('./fixtures/does-not-exist.ts', import.meta.url).href };
  const error = (await rejection(system.spawn(missing, { placement: { thread: 1 } }))) as { code: string; cause?: { code: string } };
  assert.is(error.code, ErrorCodes.SPAWN_FAILED);
  assert.is(error.cause?.code, ErrorCodes.BEHAVIOR_LOAD);
  const wrongExport = { ...echo, exportName: 'onWorker' };
  const e2 = (await rejection(system.spawn(wrongExport, { placement: { thread: 2 } }))) as { code: string; cause?: { code: string } };
  assert.is(e2.cause?.code, ErrorCodes.BEHAVIOR_LOAD);
});

test.run();
