/**
 * The Apiary demo, run from the built output by `npx --yes pnpm@10 start`.
 *
 * Act 1, supervision: a hivemind supervisor over two swarm supervisors, six workers pinned to two
 * worker threads, two actor failures (one-for-all, rest-for-one), a whole thread crashing under
 * three actors, DeathWatch, ordered shutdown. Act 2: tool-using agents (see agents-demo.ts). Act 3: a
 * tool call that needs a person's approval (see approval-demo.ts).
 *
 * Every step checks what it claims (who answered from which thread, whose state was reset, who kept
 * it) and the demo exits 1 with a FAILED line when a check fails or a step outlasts its deadline.
 */
import { ActorSystem, ErrorCodes, supervisor, type ActorRef, type ApiaryEvent, type ApiaryEventType } from '@apiary/runtime';
import { worker, type WorkerMsg, type WorkerStatus } from './behaviors.js';
import { agentsDemo } from './agents-demo.js';
import { approvalDemo } from './approval-demo.js';

type WorkerRef = ActorRef<WorkerMsg, WorkerStatus>;
type EventOf<K extends ApiaryEventType> = Extract<ApiaryEvent, { type: K }>;

const started = performance.now();
const ms = (): string => `${(performance.now() - started).toFixed(0).padStart(5)} ms`;
const say = (text: string): void => console.log(`${ms()}  ${text}`);
const fail = (text: string): never => {
  console.error(`${ms()}  FAILED: ${text}`);
  process.exit(1);
};
const check = (ok: boolean, what: string): void => {
  if (!ok) fail(what);
};
/** Fails the demo if the step has not finished within `timeoutMs` (a hang is a failure, not a wait). */
async function step<T>(what: string, timeoutMs: number, run: () => Promise<T>): Promise<T> {
  const timer = setTimeout(() => fail(`${what}: not done within ${timeoutMs} ms`), timeoutMs);
  try {
    return await run();
  } catch (error) {
    const e = error as { code?: string; message?: string };
    return fail(`${what}: ${e.code ?? 'error'}: ${e.message ?? String(error)}`);
  } finally {
    clearTimeout(timer);
  }
}

const system = await ActorSystem.start({ threads: 2 });
say(`actor system up: ${system.threads} worker threads (+ the main thread, where supervisors live)`);

/** Resolves with the first event of `type` that matches; the enclosing step's deadline bounds the wait. */
function nextEvent<K extends ApiaryEventType>(type: K, match: (e: EventOf<K>) => boolean = () => true): Promise<EventOf<K>> {
  return new Promise((resolve) => {
    const off = system.events.on(type, (e) => {
      if (!match(e as EventOf<K>)) return;
      off();
      resolve(e as EventOf<K>);
    });
  });
}

const short = (path: string): string => path.replace('/hivemind/', '');
// A thread crash fails every actor on it at once (the bus publishes thread-crashed, then one
// actor-failed per actor): those are gathered into one line.
let lostWithThread: { paths: string[]; message: string } | null = null;
const flushLost = (): void => {
  if (lostWithThread !== null) say(`    event actor-failed     ${lostWithThread.paths.join(', ')}: ${lostWithThread.message}`);
  lostWithThread = null;
};
system.events.on('event', (e) => {
  switch (e.type) {
    case 'actor-failed':
      if (e.error.code !== ErrorCodes.THREAD_CRASHED) say(`    event actor-failed     ${short(e.ref.path)}: ${e.error.message}`);
      else if (lostWithThread !== null) lostWithThread.paths.push(short(e.ref.path));
      else {
        lostWithThread = { paths: [short(e.ref.path)], message: e.error.message };
        setImmediate(flushLost);
      }
      break;
    case 'actor-restarted':
      say(`    event actor-restarted  ${short(e.ref.path)} (restart #${e.restarts}, backoff ${e.delayMs} ms)`);
      break;
    case 'thread-crashed':
      say(`    event thread-crashed   thread ${e.thread}: ${e.reason}; ${e.actors} actors were on it`);
      break;
    case 'thread-replaced':
      say(`    event thread-replaced  thread ${e.thread} is back after ${e.downtimeMs.toFixed(0)} ms`);
      break;
    default:
      break;
  }
});

// ---- the tree -------------------------------------------------------------------------------
const names = { a: ['a1', 'a2', 'a3'], b: ['b1', 'b2', 'b3'] } as const;
const pathOf = (name: string): string => `/hivemind/swarm-${name[0]}/${name}`;
const workers = (list: readonly string[], thread: number) => list.map((name) => ({ name, behavior: worker, props: { name }, placement: { thread } }));

await step('spawning the tree', 10_000, () =>
  system.spawn(
    supervisor({
      strategy: 'one-for-one',
      children: [
        { name: 'swarm-a', behavior: supervisor({ strategy: 'one-for-all', children: workers(names.a, 1) }) },
        { name: 'swarm-b', behavior: supervisor({ strategy: 'rest-for-one', children: workers(names.b, 2) }) },
      ],
    }),
    { name: 'hivemind' },
  ),
);
say('spawned the tree:');
console.log('             /hivemind             one-for-one   (supervisors run on the main thread)');
console.log('             ├─ swarm-a            one-for-all   a1 a2 a3 on worker thread 1');
console.log('             └─ swarm-b            rest-for-one  b1 b2 b3 on worker thread 2');

// registry.get returns an untyped ref: the tree was spawned as specs, so the caller names the protocol.
const ref = (name: string): WorkerRef => (system.registry.get(pathOf(name)) as WorkerRef | undefined) ?? fail(`no actor at ${pathOf(name)}`);
const all = [...names.a, ...names.b];
const threadOf = (name: string): number => (name.startsWith('a') ? 1 : 2);

/** Asks every worker for its status; checks the thread it answers from. */
async function statuses(list: readonly string[] = all): Promise<Map<string, WorkerStatus>> {
  const replies = await Promise.all(list.map((n) => system.ask(ref(n), { type: 'status' })));
  replies.forEach((r, i) => check(r.thread === threadOf(list[i]!), `${list[i]} answered from thread ${r.thread}, expected ${threadOf(list[i]!)}`));
  return new Map(replies.map((r) => [r.name, r]));
}
/** One line of task counters, checked against what the story says they must be. */
async function expectTasks(expected: Record<string, number>, note: string): Promise<void> {
  const s = await statuses();
  for (const [name, n] of Object.entries(expected)) check(s.get(name)?.tasksDone === n, `${name} has done ${s.get(name)?.tasksDone} tasks, expected ${n}`);
  say(`  tasks done: ${all.map((n) => `${n}=${s.get(n)!.tasksDone}`).join(' ')}  (${note})`);
}
async function work(count: number): Promise<void> {
  const t0 = performance.now();
  const replies = await Promise.all(Array.from({ length: count }, (_, i) => system.ask(ref(all[i % all.length]!), { type: 'task', id: i })));
  const from = new Map<string, Set<number>>();
  for (const r of replies) from.set(r.name, (from.get(r.name) ?? new Set()).add(r.thread));
  for (const n of all) check(from.get(n)?.size === 1 && from.get(n)!.has(threadOf(n)), `${n} answered from threads ${[...(from.get(n) ?? [])].join(',')}`);
  say(`${count} tasks asked round-robin, answered in ${(performance.now() - t0).toFixed(0)} ms: a1-a3 from thread 1, b1-b3 from thread 2`);
}

// ---- 1. work --------------------------------------------------------------------------------
await step('first round of work', 10_000, () => work(60));
await step('registry table', 10_000, () => table('system.registry.list({ under: "/hivemind" })'));

// ---- 2. one-for-all -------------------------------------------------------------------------
say('a2 throws. swarm-a is one-for-all: a1, a2 and a3 all restart with fresh state');
await step('one-for-all restart', 10_000, async () => {
  const restarted = Promise.all(names.a.map((n) => nextEvent('actor-restarted', (e) => e.ref.path === pathOf(n))));
  const error = await system.ask(ref('a2'), { type: 'fail' }).then(
    () => fail('the ask to a2 succeeded, but a2 throws'),
    (e: { name: string; code: string }) => e,
  );
  say(`    the ask to a2 rejected with ${error.name} (${error.code})`);
  await restarted;
  await expectTasks({ a1: 0, a2: 0, a3: 0, b1: 10, b2: 10, b3: 10 }, 'swarm-a reset, swarm-b untouched');
});

// ---- 3. rest-for-one ------------------------------------------------------------------------
say('b2 throws. swarm-b is rest-for-one: b2 and b3 (started after it) restart, b1 keeps its state');
await step('rest-for-one restart', 10_000, async () => {
  const restarted = Promise.all(['b2', 'b3'].map((n) => nextEvent('actor-restarted', (e) => e.ref.path === pathOf(n))));
  system.tell(ref('b2'), { type: 'fail' });
  await restarted;
  await expectTasks({ a1: 0, a2: 0, a3: 0, b1: 10, b2: 0, b3: 0 }, 'b1 kept its 10');
});
await step('second round of work', 10_000, () => work(30));

// ---- 4. a thread crash ----------------------------------------------------------------------
say('b1 calls process.exit(1) in its handler: worker thread 2 dies, and b1, b2, b3 with it');
await step('recovery from the thread crash', 10_000, async () => {
  const crashed = nextEvent('thread-crashed', (e) => e.thread === 2);
  const replaced = nextEvent('thread-replaced', (e) => e.thread === 2);
  system.tell(ref('b1'), { type: 'crash-thread' });
  await crashed;
  const crashAt = performance.now();
  say('  asking b1, b2, b3 at once: asks to a dead thread wait for its replacement');
  const answers = await Promise.all(names.b.map((n) => system.ask(ref(n), { type: 'status' }, { timeoutMs: 8_000 })));
  await replaced;
  answers.forEach((a) => check(a.thread === 2 && a.tasksDone === 0, `${a.name} answered from thread ${a.thread} with ${a.tasksDone} tasks`));
  say(`  b1, b2, b3 all answered from the new thread 2, ${(performance.now() - crashAt).toFixed(0)} ms after the crash`);
  await expectTasks({ a1: 5, a2: 5, a3: 5, b1: 0, b2: 0, b3: 0 }, 'thread 1 never noticed');
});
await step('registry table', 10_000, () =>
  table('the registry after all that', "processed counts since spawn; a thread's counters die with it, restarts do not reset them"),
);

// ---- 5. DeathWatch --------------------------------------------------------------------------
await step('DeathWatch', 10_000, async () => {
  const watched = system.watch(ref('b3'));
  await system.stop(ref('b3'));
  const t = await watched;
  check(t.reason === 'normal' && system.registry.get(pathOf('b3')) === undefined, `b3 terminated with ${t.reason}`);
  const left = (await system.whichChildren(system.registry.get('/hivemind/swarm-b')!)).map((c) => c.name);
  say(`system.stop(b3): DeathWatch got Terminated(${short(t.ref.path)}, ${t.reason}); swarm-b now has ${left.join(', ')}`);
});

// ---- 6. ordered shutdown --------------------------------------------------------------------
await step('system.stop()', 10_000, async () => {
  const order: string[] = [];
  system.events.on('actor-stopped', (e) => order.push(e.ref.path));
  const t0 = performance.now();
  await system.stop();
  // Children before parents: no actor stops after its own supervisor.
  const childrenFirst = order.every((p, i) => !order.slice(0, i).some((q) => p.startsWith(q === '/' ? '/' : `${q}/`)));
  check(childrenFirst, `stop order was ${order.join(' ')}`);
  say(`system.stop(): ${order.length} actors stopped children-first (root guardian last), threads terminated, in ${(performance.now() - t0).toFixed(0)} ms`);
});

// ---- act 2 ----------------------------------------------------------------------------------
console.log('\n  agents\n');
const real = process.env.OPENAI_API_KEY !== undefined && process.env.OPENAI_API_KEY !== '';
await step('agents demo', real ? 300_000 : 20_000, () => agentsDemo(say));

// ---- act 3 ----------------------------------------------------------------------------------
console.log('\n  a tool call that needs approval\n');
// On a terminal a person may take their time (the request's own deadline is 60 s).
await step('approval demo', process.stdin.isTTY === true ? 120_000 : 20_000, () => approvalDemo(say));
say('done; the process now exits by itself');
// Exiting on its own is part of the demo: a leaked worker or handle would keep it alive.
setTimeout(() => {
  console.error(`FAILED: still running 5 s after the end; open: ${process.getActiveResourcesInfo().join(', ')}`);
  process.exit(1);
}, 5_000).unref();

async function table(title: string, note?: string): Promise<void> {
  const rows = (await system.registry.list({ under: '/hivemind' })).filter((r) => !r.supervisor);
  console.log(`\n  ${title} (workers; supervisors are on thread 0)`);
  console.log('  path                  thread  status    processed  restarts');
  for (const r of rows) {
    console.log(`  ${r.ref.path.padEnd(22)}${String(r.thread).padEnd(8)}${r.status.padEnd(10)}${String(r.processed).padEnd(11)}${r.restarts}`);
  }
  if (note !== undefined) console.log(`  ${note}`);
  console.log('');
}
