import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { eventually, recordEvents, waitForEvent, waitForEvents } from '@apiary/testkit';
import { ActorSystem, ErrorCodes, type ActorRef, type Placement } from '../src/index.ts';
import { gated, makeGate, openGate, whenBlocked } from './fixtures/behaviors.ts';

const test = suite<{ system: ActorSystem }>('mailbox', {} as { system: ActorSystem });

test.before(async (ctx) => {
  ctx.system = await ActorSystem.start({ threads: 1 });
});

test.after(async (ctx) => {
  await ctx.system.stop();
});

async function rejection(promise: Promise<unknown>): Promise<{ code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string };
  }
  throw new Error('expected a rejection');
}

/** A gated actor, blocked on its first message so its mailbox fills. */
async function blocked(system: ActorSystem, placement: Placement, overflow: 'reject' | 'drop-oldest' | 'backpressure', capacity: number) {
  const gate = makeGate();
  const ref = await system.spawn(gated, { placement, props: { gate }, mailbox: { capacity, overflow } });
  const blocking = system.ask(ref, 'block', { timeoutMs: 10_000 });
  await whenBlocked(gate); // the block is out of the mailbox and running: the mailbox is empty now
  return { ref, gate, blocking };
}

/** Opens the gate and waits until the actor has worked through its mailbox. */
async function release(system: ActorSystem, gate: SharedArrayBuffer, blocking: Promise<unknown>, ref: ActorRef): Promise<void> {
  openGate(gate);
  assert.is(await blocking, 'released');
  await eventually(async () => (await system.registry.describe(ref))?.mailboxDepth === 0, 5_000, 'an empty mailbox');
}

for (const placement of ['main', { thread: 1 }] as Placement[]) {
  const where = placement === 'main' ? 'on the main thread' : 'across threads';

  test(`reject: a full mailbox refuses an ask with MailboxFullError and a tell becomes a dead letter (${where})`, async ({ system }) => {
    const { ref, gate, blocking } = await blocked(system, placement, 'reject', 3);
    for (let i = 0; i < 3; i++) await system.send(ref, `m${i}`);
    // Mailbox now holds 3 (the block is running). One more ask must be refused.
    const overflow = waitForEvent(system.events, 'mailbox-overflow', (e) => e.to === ref.path);
    const error = await rejection(system.ask(ref, 'too many'));
    assert.is(error.code, ErrorCodes.MAILBOX_FULL);
    assert.is((await overflow).policy, 'reject');
    const dead = waitForEvent(system.events, 'dead-letter', (e) => e.to === ref.path && e.reason === 'overflow');
    system.tell(ref, 'told when full');
    assert.is((await dead).message, 'told when full');
    await release(system, gate, blocking, ref);
    assert.equal(await system.ask(ref, 'dump'), ['m0', 'm1', 'm2']);
  });

  test(`drop-oldest: the oldest queued message is dropped as a dead letter, nothing else is lost (${where})`, async ({ system }) => {
    const { ref, gate, blocking } = await blocked(system, placement, 'drop-oldest', 3);
    for (let i = 0; i < 3; i++) await system.send(ref, `m${i}`);
    const dropped = waitForEvents(system.events, 'dead-letter', 2, (e) => e.to === ref.path && e.reason === 'dropped');
    await system.send(ref, 'm3');
    await system.send(ref, 'm4');
    assert.equal((await dropped).map((e) => e.message), ['m0', 'm1']);
    await release(system, gate, blocking, ref);
    assert.equal(await system.ask(ref, 'dump'), ['m2', 'm3', 'm4']);
  });

  test(`backpressure: send waits for capacity and resolves once a slot frees (${where})`, async ({ system }) => {
    const { ref, gate, blocking } = await blocked(system, placement, 'backpressure', 2);
    await system.send(ref, 'a');
    await system.send(ref, 'b');
    let accepted = false;
    const waiting = system.send(ref, 'c', { timeoutMs: 10_000 }).then(() => {
      accepted = true;
    });
    // A plain tell cannot wait: it is refused while the mailbox is full.
    const dead = waitForEvent(system.events, 'dead-letter', (e) => e.to === ref.path && e.reason === 'overflow');
    system.tell(ref, 'impatient');
    await dead;
    assert.is(accepted, false);
    await release(system, gate, blocking, ref);
    await waiting;
    assert.is(accepted, true);
    assert.equal(await system.ask(ref, 'dump'), ['a', 'b', 'c']);
  });

  test(`backpressure: a send that waits past its timeout fails with MailboxFullError and is not delivered (${where})`, async ({ system }) => {
    const { ref, gate, blocking } = await blocked(system, placement, 'backpressure', 1);
    await system.send(ref, 'a');
    const error = await rejection(system.send(ref, 'late', { timeoutMs: 30 }));
    assert.is(error.code, ErrorCodes.MAILBOX_FULL);
    await release(system, gate, blocking, ref);
    assert.equal(await system.ask(ref, 'dump'), ['a']);
  });
}

test('overflow is reported on the bus with the policy and capacity', async ({ system }) => {
  const events = recordEvents(system.events);
  const { ref, gate, blocking } = await blocked(system, 'main', 'reject', 1);
  await system.send(ref, 'x');
  await rejection(system.send(ref, 'y'));
  openGate(gate);
  await blocking;
  events.stop();
  const overflow = events.ofType('mailbox-overflow').filter((e) => e.to === ref.path);
  assert.is(overflow.length, 1);
  assert.is(overflow[0]!.capacity, 1);
});

test.run();
