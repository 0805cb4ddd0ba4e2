/**
 * The Apiary supervision demo: a hivemind supervisor over two swarm supervisors, workers spread over
 * two worker threads, an actor failure, a whole thread crashing, DeathWatch, ordered shutdown.
 * Runs from the built output: `npx --yes pnpm@10 start`.
 */
import { ActorSystem, supervisor, type ActorRef, type ApiaryEvent } from '@apiary/runtime';
import { worker, type WorkerMsg, type WorkerStatus } from './behaviors.js';
import { agentsDemo } from './agents-demo.js';

const started = performance.now();
const ms = (): string => `${(performance.now() - started).toFixed(0).padStart(5)} ms`;
const say = (text: string): void => console.log(`${ms()}  ${text}`);
const fail = (text: string): never => {
  console.error(`${ms()}  FAILED: ${text}`);
  process.exit(1);
};

/** Waits for an event, failing the demo if it does not come within `timeoutMs`. */
function expectEvent<T extends ApiaryEvent>(system: ActorSystem, match: (e: ApiaryEvent) => e is T, what: string, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => fail(`no ${what} within ${timeoutMs} ms`), timeoutMs);
    const off = system.events.on('event', (e) => {
      if (!match(e)) return;
      clearTimeout(timer);
      off();
      resolve(e);
    });
  });
}

const system = await ActorSystem.start({ threads: 2 });
say(`actor system up: ${system.threads} worker threads (+ the main thread, where supervisors live)`);

system.events.on('event', (e) => {
  switch (e.type) {
    case 'actor-failed':
      say(`  event actor-failed     ${e.ref.path}: ${e.error.message}`);
      break;
    case 'actor-restarted':
      say(`  event actor-restarted  ${e.ref.path} (restart #${e.restarts}, after ${e.delayMs} ms)`);
      break;
    case 'thread-crashed':
      say(`  event thread-crashed   thread ${e.thread}: ${e.reason}; ${e.actors} actors lost their thread`);
      break;
    case 'thread-replaced':
      say(`  event thread-replaced  thread ${e.thread} back after ${e.downtimeMs.toFixed(0)} ms`);
      break;
    default:
      break;
  }
});

const workers = (prefix: string, thread: number) =>
  [1, 2, 3].map((i) => ({ name: `${prefix}${i}`, behavior: worker, props: { name: `${prefix}${i}` }, placement: { thread } }));

await system.spawn(
  supervisor({
    strategy: 'one-for-one',
    children: [
      { name: 'swarm-a', behavior: supervisor({ strategy: 'one-for-all', children: workers('a', 1) }) },
      { name: 'swarm-b', behavior: supervisor({ strategy: 'rest-for-one', children: workers('b', 2) }) },
    ],
  }),
  { name: 'hivemind' },
);
say('spawned /hivemind (one-for-one) > swarm-a (one-for-all, thread 1), swarm-b (rest-for-one, thread 2)');

const ref = (path: string): ActorRef<WorkerMsg, WorkerStatus> =>
  (system.registry.get(path) as ActorRef<WorkerMsg, WorkerStatus> | undefined) ?? fail(`no actor at ${path}`);
const all = ['a1', 'a2', 'a3', 'b1', 'b2', 'b3'].map((n) => ref(`/hivemind/swarm-${n[0]}/${n}`));

// 1. Work: 60 tasks over six workers on two threads.
let task = 0;
await Promise.all(Array.from({ length: 60 }, (_, i) => system.ask(all[i % all.length]!, { type: 'task', id: ++task })));
say(`60 tasks done; every worker answered from its own thread`);
await table('after the first 60 tasks');

// 2. One actor fails: one-for-all restarts all of swarm-a, swarm-b keeps its state.
const restartedA = Promise.all(
  ['a1', 'a2', 'a3'].map((n) => expectEvent(system, (e): e is Extract<ApiaryEvent, { type: 'actor-restarted' }> => e.type === 'actor-restarted' && e.ref.path.endsWith(`/${n}`), `restart of ${n}`)),
);
say('a2 throws: swarm-a is one-for-all, so a1, a2 and a3 restart; swarm-b is untouched');
await system.ask(ref('/hivemind/swarm-a/a2'), { type: 'fail' }).catch((e: { code: string }) => say(`  the ask that failed got ${e.code}`));
await restartedA;
await table('after a2 failed');

// 3. A whole thread dies: every actor on it comes back on the replacement.
const crashAt = performance.now();
const crashed = expectEvent(system, (e): e is Extract<ApiaryEvent, { type: 'thread-crashed' }> => e.type === 'thread-crashed' && e.thread === 2, 'thread 2 crash');
const replaced = expectEvent(system, (e): e is Extract<ApiaryEvent, { type: 'thread-replaced' }> => e.type === 'thread-replaced' && e.thread === 2, 'thread 2 replaced');
say('b1 calls process.exit() inside thread 2: the thread dies with everything on it');
system.tell(ref('/hivemind/swarm-b/b1'), { type: 'crash-thread' });
await crashed;
say('asking b1, b2, b3 while thread 2 is down: the asks are held for the replacement');
const answers = await Promise.all(['b1', 'b2', 'b3'].map((n) => system.ask(ref(`/hivemind/swarm-b/${n}`), { type: 'status' }, { timeoutMs: 10_000 })));
await replaced;
say(`b1, b2, b3 answer again from thread ${answers.map((a) => a.thread).join(', ')}, ${(performance.now() - crashAt).toFixed(0)} ms after the crash`);
await table('after thread 2 crashed');

// 4. DeathWatch and a stop.
const watched = system.watch(ref('/hivemind/swarm-a/a3'));
await system.terminateChild(ref('/hivemind/swarm-a'), 'a3');
const terminated = await watched;
say(`DeathWatch: ${terminated.ref.path} terminated (${terminated.reason})`);

// 5. Ordered shutdown.
await system.stop();
say('system stopped in order (children before parents)');

// 6. Agents: tool-using agents on the same runtime, a thread crash under them.
console.log('\n  agents\n');
await agentsDemo(say);
say('done; the process exits by itself');

async function table(title: string): Promise<void> {
  const rows = (await system.registry.list({ under: '/hivemind' }))
    .filter((i) => !i.supervisor)
    .map((i) => ({ path: i.ref.path, thread: i.thread, status: i.status, processed: i.processed, restarts: i.restarts }));
  const counts = await Promise.all(rows.map((r) => system.ask(ref(r.path), { type: 'status' }).then((s) => s.tasksDone)));
  console.log(`\n  ${title}`);
  console.log('  path                  thread  status      tasks  msgs  restarts');
  rows.forEach((r, i) =>
    console.log(`  ${r.path.padEnd(22)}${String(r.thread).padEnd(8)}${r.status.padEnd(12)}${String(counts[i]).padEnd(7)}${String(r.processed).padEnd(6)}${r.restarts}`),
  );
  console.log('');
}
