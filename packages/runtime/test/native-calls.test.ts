import { spawnSync } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { waitForEvent } from '@apiary/testkit';
import { ActorSystem, ErrorCodes, NativeCalls, type ActorRef } from '../src/index.ts';
import { closeNativeFence, NATIVE_CELL_BYTES } from '../src/native-calls.ts';
import { nativeCaller, type NativeCallerMsg } from './fixtures/behaviors.ts';

const test = suite('native calls (ctx.nativeCall): no thread is terminated inside one');

// Heartbeats every 50 ms, a thread silent for 300 ms is dead.
const options = { threads: 2, heartbeatIntervalMs: 50, heartbeatTimeoutMs: 300 } as const;

/** Resolves once the call of `cell` is under way on its thread (bounded). */
async function underWay(cell: Int32Array): Promise<void> {
  const waited = Atomics.waitAsync(cell, 0, 0, 10_000);
  if (waited.async && (await waited.value) === 'timed-out') throw new Error('the native call never started');
}

async function withCaller(run: (system: ActorSystem, ref: ActorRef<NativeCallerMsg, unknown>, cell: Int32Array) => Promise<void>): Promise<void> {
  const system = await ActorSystem.start(options);
  try {
    const buffer = new SharedArrayBuffer(12);
    const ref = (await system.spawn(nativeCaller, { props: buffer, placement: { thread: 1 } })) as ActorRef<NativeCallerMsg, unknown>;
    await run(system, ref, new Int32Array(buffer));
  } finally {
    await system.stop();
  }
}

const codeOf = (p: Promise<unknown>): Promise<string> => p.then(() => 'no error', (e: { code?: string }) => e.code ?? 'no code');

test('a thread terminated on request finishes the native call under way first, and starts no other', async () => {
  await withCaller(async (system, ref, cell) => {
    const replaced = waitForEvent(system.events, 'thread-replaced', (e) => e.thread === 1, 20_000);
    const answer = codeOf(system.ask(ref, { type: 'call', ms: 400 }, { timeoutMs: 20_000 }));
    await underWay(cell);
    await system.terminateThread(1);
    // Without the fence, termination cuts the call in its wait: [1] stays 0.
    assert.equal([...cell], [1, 1, 0], 'under way, returned, second call');
    assert.is(await answer, ErrorCodes.THREAD_CRASHED);
    await replaced;
    assert.is(await system.ask(ref, { type: 'ping' }, { timeoutMs: 10_000 }), 1);
  });
});

test('a thread killed for missed heartbeats inside a native call is killed once the call returns', async () => {
  await withCaller(async (system, ref, cell) => {
    const crashed = waitForEvent(system.events, 'thread-crashed', (e) => e.thread === 1, 20_000);
    // The section's bound (100 ms) and the timeout (300 ms) are over long before the call (1.2 s).
    const answer = codeOf(system.ask(ref, { type: 'call', ms: 1_200, maxMs: 100 }, { timeoutMs: 20_000 }));
    await underWay(cell);
    const crash = await crashed;
    assert.match(crash.reason, /no heartbeat/);
    assert.equal([...cell], [1, 1, 0], 'under way, returned, second call');
    assert.is(await answer, ErrorCodes.THREAD_CRASHED);
  });
});

test('stopping the system waits for a native call under way, also when its actor outlasts its shutdown timeout', async () => {
  const system = await ActorSystem.start(options);
  const buffer = new SharedArrayBuffer(12);
  const cell = new Int32Array(buffer);
  // The actor is given 20 ms to stop, then its thread is terminated: the call (400 ms) is still on.
  const ref = (await system.spawn(nativeCaller, { props: buffer, placement: { thread: 1 }, shutdownTimeoutMs: 20 })) as ActorRef<NativeCallerMsg, unknown>;
  void codeOf(system.ask(ref, { type: 'call', ms: 400, maxMs: 10_000 }, { timeoutMs: 20_000 }));
  await underWay(cell);
  await system.stop();
  assert.is(cell[1], 1, 'the call returned before its thread was terminated');
});

test('process.exit() during a native call: the process waits for it to return before Node terminates the thread', () => {
  const script = new URL('./fixtures/exit-in-native-call.ts', import.meta.url).pathname;
  const child = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal([child.status, child.signal], [0, null], child.stderr);
  // Without the exit hook the call is cut in its wait when Node terminates the thread: returned 0.
  assert.is(child.stdout.trim(), 'returned 1');
});

test('one exit listener serves every running system, and goes with the last one', async () => {
  const before = process.listenerCount('exit');
  const systems = await Promise.all([1, 2, 3].map(() => ActorSystem.start({ threads: 1 })));
  try {
    assert.is(process.listenerCount('exit'), before + 1);
    await systems[0]!.stop();
    assert.is(process.listenerCount('exit'), before + 1);
  } finally {
    await Promise.all(systems.map((system) => system.stop()));
  }
  assert.is(process.listenerCount('exit'), before);
});

test('the fence: nested calls count as one; a closed fence waits for the call under way; off a worker thread calls just run', async () => {
  const buffer = new SharedArrayBuffer(NATIVE_CELL_BYTES);
  const calls = new NativeCalls(buffer);
  let closed: Promise<void> | null = null;
  let settled = false;
  const result = calls.run(() => {
    const inner = calls.run(() => 'inner'); // nested: runs although the fence closes meanwhile
    closed = closeNativeFence(buffer).then(() => void (settled = true));
    return `${inner}+${calls.run(() => 'nested after close')}`;
  });
  assert.is(result, 'inner+nested after close');
  await closed;
  assert.ok(settled);
  assert.equal([...new Int32Array(buffer)], [0, 1]);
  assert.is(new NativeCalls(null).run(() => 7), 7);
  assert.throws(() => calls.run(7 as unknown as () => number), (e: { code?: string }) => e.code === ErrorCodes.INVALID_ARGUMENT);
  // A call that throws still leaves the count right.
  const fresh = new SharedArrayBuffer(NATIVE_CELL_BYTES);
  assert.throws(() => new NativeCalls(fresh).run(() => { throw new RangeError('addon error'); }), /addon error/);
  assert.is(new Int32Array(fresh)[0], 0);
});

test.run();
