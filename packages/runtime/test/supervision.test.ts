import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { eventually, waitForEvent, waitForEvents } from '@apiary/testkit';
import { ActorSystem, ErrorCodes, supervisor, type ActorRef, type RestartType, type Strategy } from '../src/index.ts';
import { counter, hooked, recorder, type CounterMsg } from './fixtures/behaviors.ts';

const test = suite<{ system: ActorSystem }>('supervision', {} as { system: ActorSystem });

test.before(async (ctx) => {
  ctx.system = await ActorSystem.start({ threads: 2 });
});

test.after(async (ctx) => {
  await ctx.system.stop();
});

type ExitKind = 'crash' | 'normal stop';

interface Row {
  strategy: Strategy;
  restart: RestartType;
  exit: ExitKind;
  /** Children (of a, b, c; b exits) that restart. */
  restarted: string[];
  /** Children removed for good. */
  removed: string[];
}

/** What OTP prescribes when child b of [a, b, c] exits. */
function expected(strategy: Strategy, restart: RestartType, exit: ExitKind): Pick<Row, 'restarted' | 'removed'> {
  const restarts = restart === 'permanent' || (restart === 'transient' && exit === 'crash');
  if (!restarts) return { restarted: [], removed: ['b'] };
  const restarted = strategy === 'one-for-one' ? ['b'] : strategy === 'one-for-all' ? ['a', 'b', 'c'] : ['b', 'c'];
  return { restarted, removed: [] };
}

const rows: Row[] = [];
for (const strategy of ['one-for-one', 'one-for-all', 'rest-for-one'] as Strategy[]) {
  for (const restart of ['permanent', 'transient', 'temporary'] as RestartType[]) {
    for (const exit of ['crash', 'normal stop'] as ExitKind[]) rows.push({ strategy, restart, exit, ...expected(strategy, restart, exit) });
  }
}

let seq = 0;
for (const row of rows) {
  test(`${row.strategy} with ${row.restart} children: after b's ${row.exit}, [${row.restarted}] restart and [${row.removed}] leave`, async ({ system }) => {
    const name = `table-${++seq}`;
    const sup = await system.spawn(
      supervisor({
        strategy: row.strategy,
        intensity: 100,
        periodMs: 60_000,
        backoff: false,
        children: ['a', 'b', 'c'].map((n) => ({ name: n, behavior: counter, restart: row.restart, props: { start: 0 } })),
      }),
      { name },
    );
    const refs = new Map<string, ActorRef<CounterMsg, number>>();
    for (const n of ['a', 'b', 'c']) refs.set(n, system.registry.get(`/${name}/${n}`) as ActorRef<CounterMsg, number>);
    for (const ref of refs.values()) assert.is(await system.ask(ref, { type: 'inc' }), 1);

    const ids = (names: string[]) => new Set(names.map((n) => refs.get(n)!.id));
    const restartedIds = ids(row.restarted);
    const removedIds = ids(row.removed);
    const restarted = waitForEvents(system.events, 'actor-restarted', row.restarted.length, (e) => restartedIds.has(e.ref.id));
    const removed = waitForEvents(system.events, 'actor-stopped', row.removed.length, (e) => removedIds.has(e.ref.id));
    system.tell(refs.get('b')!, row.exit === 'crash' ? { type: 'crash' } : { type: 'stop' });
    await Promise.all([restarted, removed]);

    for (const [n, ref] of refs) {
      if (row.removed.includes(n)) {
        assert.is(system.registry.get(ref.path), undefined, `${n} should be gone`);
        continue;
      }
      assert.is(await system.ask(ref, { type: 'get' }), row.restarted.includes(n) ? 0 : 1, `state of ${n}`);
    }
    const children = (await system.whichChildren(sup)).map((c) => c.name);
    assert.equal(children, ['a', 'b', 'c'].filter((n) => !row.removed.includes(n)));
    await system.stop(sup);
  });
}

test('one-for-all takes children down in reverse start order and starts them in order', async ({ system }) => {
  const log = await system.spawn(recorder, { placement: 'main' });
  const sup = await system.spawn(
    supervisor({
      strategy: 'one-for-all',
      backoff: false,
      children: ['a', 'b', 'c'].map((n) => ({ name: n, behavior: hooked, props: { name: n, log } })),
    }),
    { name: 'ordered' },
  );
  await eventually(async () => ((await system.ask(log, 'dump')) as unknown[]).length === 3, 5_000, 'three setups');
  const restarted = waitForEvents(system.events, 'actor-restarted', 3, (e) => e.ref.path.startsWith('/ordered/'));
  system.tell(system.registry.get('/ordered/b')!, 'crash');
  await restarted;
  await eventually(async () => ((await system.ask(log, 'dump')) as unknown[]).length === 9, 5_000, 'the restart log');
  assert.equal(await system.ask(log, 'dump'), [
    'setup:a', 'setup:b', 'setup:c',
    'preRestart:c', 'preRestart:b', 'preRestart:a',
    'setup:a', 'setup:b', 'setup:c',
  ]);
  await system.stop(sup);
});

test('stopping a supervisor stops its children in reverse start order, running postStop', async ({ system }) => {
  const log = await system.spawn(recorder, { placement: 'main' });
  const sup = await system.spawn(
    supervisor({ children: ['a', 'b', 'c'].map((n) => ({ name: n, behavior: hooked, props: { name: n, log } })) }),
    { name: 'shutdown-order' },
  );
  await system.stop(sup);
  await eventually(async () => ((await system.ask(log, 'dump')) as unknown[]).length === 6, 5_000, 'postStop log');
  assert.equal(((await system.ask(log, 'dump')) as string[]).slice(3), ['postStop:c', 'postStop:b', 'postStop:a']);
  assert.is(system.registry.get('/shutdown-order/a'), undefined);
});

test('past its intensity a supervisor escalates, and its parent restarts the whole subtree', async ({ system }) => {
  const top = await system.spawn(
    supervisor({
      intensity: 10,
      backoff: false,
      children: [{ name: 'inner', behavior: supervisor({ intensity: 2, periodMs: 60_000, backoff: false, children: [{ name: 'w', behavior: counter }] }) }],
    }),
    { name: 'escalation' },
  );
  const w = system.registry.get('/escalation/inner/w') as ActorRef<CounterMsg, number>;
  for (let i = 0; i < 2; i++) {
    const back = waitForEvent(system.events, 'actor-restarted', (e) => e.ref.id === w.id);
    system.tell(w, { type: 'crash' });
    await back;
  }
  const escalated = waitForEvent(system.events, 'supervisor-escalated', (e) => e.ref.path === '/escalation/inner');
  const innerBack = waitForEvent(system.events, 'actor-restarted', (e) => e.ref.path === '/escalation/inner');
  system.tell(w, { type: 'crash' });
  const event = await escalated;
  assert.is(event.restarts, 3);
  await innerBack;
  system.tell(w, { type: 'inc', by: 7 });
  assert.is(await system.ask(w, { type: 'get' }), 7);
  await system.stop(top);
});

test('DeathWatch: a watching actor gets Terminated with the reason, and so does system.watch', async ({ system }) => {
  const { watcher } = await import('./fixtures/behaviors.ts');
  const report = await system.spawn(recorder, { placement: 'main' });
  const target = await system.spawn(counter, { placement: { thread: 2 } });
  const w = await system.spawn(watcher, { placement: { thread: 1 }, props: { report } });
  assert.is(await system.ask(w, { watch: target }), 'watching');
  const external = system.watch(target);
  await system.stop(target);
  assert.equal(await external, { type: 'terminated', ref: target, reason: 'normal', error: undefined });
  await eventually(async () => ((await system.ask(report, 'dump')) as unknown[]).length === 1, 5_000, 'a Terminated signal');
  assert.equal(await system.ask(report, 'dump'), [{ terminated: target.id, reason: 'normal' }]);
  // Watching an actor that is already gone answers at once with not-found.
  assert.is((await system.watch(target)).reason, 'not-found');
});

test('a temporary child that fails is not restarted and its watchers see reason failed', async ({ system }) => {
  const sup = await system.spawn(supervisor({ children: [{ name: 't', behavior: counter, restart: 'temporary' }] }), { name: 'temp' });
  const t = system.registry.get('/temp/t')!;
  const terminated = system.watch(t);
  system.tell(t, { type: 'crash' });
  const signal = await terminated;
  assert.is(signal.reason, 'failed');
  assert.is(signal.error, 'boom');
  assert.equal(await system.whichChildren(sup), []);
  await system.stop(sup);
});

test('startChild and terminateChild manage children at run time (OTP start_child / terminate_child)', async ({ system }) => {
  const sup = await system.spawn(supervisor({}), { name: 'dynamic' });
  const child = await system.startChild(sup, { name: 'late', behavior: counter, props: { start: 41 }, placement: { thread: 2 } });
  assert.is(child.path, '/dynamic/late');
  assert.is(await system.ask(child, { type: 'inc' }), 42);
  const dup = await system.startChild(sup, { name: 'late', behavior: counter }).catch((e: { code: string }) => e.code);
  assert.is(dup, ErrorCodes.NAME_TAKEN);
  await system.terminateChild(sup, 'late');
  assert.equal(await system.whichChildren(sup), []);
  const missing = await system.terminateChild(sup, 'nobody').catch((e: { code: string }) => e.code);
  assert.is(missing, ErrorCodes.INVALID_ARGUMENT);
  await system.stop(sup);
});

test('an actor on a worker thread starts children under a supervisor with ctx.startChild', async ({ system }) => {
  const { spawner } = await import('./fixtures/behaviors.ts');
  const sup = await system.spawn(supervisor({}), { name: 'from-inside' });
  const s = await system.spawn(spawner, { placement: { thread: 1 }, props: { supervisor: sup } });
  const { child, value } = (await system.ask(s, { name: 'kid', start: 5 })) as { child: ActorRef; value: number };
  assert.is(child.path, '/from-inside/kid');
  assert.is(value, 5);
  assert.equal((await system.whichChildren(sup)).map((c) => c.name), ['kid']);
  const dup = await system.ask(s, { name: 'kid', start: 1 }).catch((e: { code: string; cause?: { code: string } }) => e);
  assert.is((dup as { cause?: { code: string } }).cause?.code, ErrorCodes.NAME_TAKEN);
  await system.stop(sup);
});

test('a supervisor whose child cannot start fails to spawn and leaves nothing behind', async ({ system }) => {
  const { badSetup } = await import('./fixtures/behaviors.ts');
  const error = await system
    .spawn(supervisor({ children: [{ name: 'ok', behavior: counter }, { name: 'bad', behavior: badSetup }] }), { name: 'broken' })
    .catch((e: { code: string }) => e);
  assert.is((error as { code: string }).code, ErrorCodes.SPAWN_FAILED);
  assert.is(system.registry.get('/broken'), undefined);
  assert.is(system.registry.get('/broken/ok'), undefined);
});

test('a setup that never finishes fails the spawn with StartTimeoutError instead of hanging', async ({ system }) => {
  const { hangingSetup } = await import('./fixtures/behaviors.ts');
  const error = (await system.spawn(hangingSetup, { placement: { thread: 1 }, startTimeoutMs: 100 }).catch((e: unknown) => e)) as {
    code: string;
    cause?: { code: string };
  };
  assert.is(error.code, ErrorCodes.SPAWN_FAILED);
  assert.is(error.cause?.code, ErrorCodes.START_TIMEOUT);
  // A supervisor whose child hangs in setup fails to start, and stops cleanly.
  const supError = (await system
    .spawn(supervisor({ children: [{ name: 'h', behavior: hangingSetup, startTimeoutMs: 100 }] }), { name: 'hangs' })
    .catch((e: unknown) => e)) as { code: string };
  assert.is(supError.code, ErrorCodes.SPAWN_FAILED);
  assert.is(system.registry.get('/hangs'), undefined);
});

test('child specs are validated when the supervisor spec is built', () => {
  assert.throws(() => supervisor({ strategy: 'one-for-some' as Strategy }), (e: { code: string }) => e.code === ErrorCodes.INVALID_ARGUMENT);
  assert.throws(() => supervisor({ intensity: -1 }), (e: { code: string }) => e.code === ErrorCodes.INVALID_ARGUMENT);
  assert.throws(
    () => supervisor({ children: [{ name: 'x', behavior: counter }, { name: 'x', behavior: counter }] }),
    (e: { code: string; data: { field: string } }) => e.data.field === 'children[1].name',
  );
  assert.throws(
    () => supervisor({ children: [{ name: 'x', behavior: {} as never }] }),
    (e: { data: { field: string } }) => e.data.field === 'children[0].behavior',
  );
});

test.run();
