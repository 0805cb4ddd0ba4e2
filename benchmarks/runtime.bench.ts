/**
 * Suite `runtime`: the actor runtime against raw worker_threads postMessage, in the same process.
 *   tell.local                    tells to a main-thread actor, until it confirms (msg/s)
 *   tell.cross-thread             tells main -> worker-thread actor (micro-batched), until it confirms (msg/s)
 *   baseline.postMessage          the same payloads to a raw worker, one postMessage each (msg/s)
 *   baseline.postMessage-batched  the same payloads, 1,024 per postMessage (msg/s; for reference, no threshold)
 *   ask.cross-thread              one ask at a time main -> worker actor -> main (latency)
 *   baseline.postMessage-rtt      the same payload round trip over a raw MessagePort (latency)
 *   restart.actor                 an actor throws; until an ask queued behind the failure is answered
 *   restart.thread                a thread hosting 1,000 actors is killed; until all 1,000 answer again
 *   spawn                         batches of 10,000 spawns awaited together (actors/s)
 * Field idleActorBytes: process RSS growth per idle actor (all threads share the RSS), with the heap
 * growth of each thread (after a GC of each) reported next to it. Field stopMs: system.stop() with
 * the idle actors still running (ordered shutdown).
 * Every throughput sample is checked: the receiver must have counted exactly what was sent.
 */
import { ActorSystem, supervisor, type ActorRef } from '@apiary/runtime';
import { measured, parseBenchArgs, pick, ratio, report, runBench, type BenchResult, type Check } from './lib/harness.ts';
import { echo, fragile, heapProbe, idle, sink, type Payload } from './runtime/behaviors.ts';
import { perActor, snapshot } from './runtime/memory.ts';
import { RawWorker } from './runtime/raw.ts';

const args = parseBenchArgs();
const log = (...parts: unknown[]): void => {
  if (!args.json) console.log(...parts);
};

const THREADS = 2;
const BATCH = args.heavy ? 50_000 : 10_000; // messages per cross-thread throughput sample
// 10,000 queued messages (the default mailbox capacity). With 100,000 live at once V8 sometimes
// pretenures the message allocation site and the same code runs 5x slower for the whole process:
// a bimodal figure that measures the GC's mood, not the runtime. --heavy keeps 100,000.
const LOCAL_BATCH = args.heavy ? 100_000 : 10_000;
const RAW_BATCH = 1024; // the runtime's default maxBatch: envelopes per postMessage
const IDLE_ACTORS = args.heavy ? 300_000 : 100_000;
const SPAWN_BATCH = 10_000;
const THREAD_ACTORS = 1_000;
const THREAD_KILLS = args.heavy ? 10 : 5;
const ACTOR_RESTARTS = 300;
const CRASH_THREAD = 2; // thread 1 keeps the throughput actors; thread 2 is the one killed
const payload = (i: number): Payload => ({ i, text: 'hello from apiary' });

function expectEqual(what: string, got: unknown, want: unknown): void {
  if (got !== want) throw new Error(`${what}: got ${String(got)}, expected ${String(want)}`);
}

const system = await ActorSystem.start({ threads: THREADS, guardian: { intensity: 1_000_000, periodMs: 1_000, backoff: false } });
const raw = await RawWorker.start();
const big = { capacity: 10_000_000 };
const localSink = await system.spawn(sink, { placement: 'main', mailbox: big });
const remoteSink = await system.spawn(sink, { placement: { thread: 1 }, mailbox: big });
const remoteEcho = await system.spawn(echo, { placement: { thread: 1 } });
const probes = await Promise.all(Array.from({ length: THREADS }, (_, i) => system.spawn(heapProbe, { placement: { thread: i + 1 } })));
let localSent = 0;
let remoteSent = 0;

// ---- throughput and latency against raw postMessage, in one Bench (tasks run one after another) ----
const time = args.time ?? 1500;
const rttPayload = payload(1);
const tb = await runBench(
  [
    {
      name: 'tell.local',
      opsPerSample: LOCAL_BATCH,
      fn: async () => {
        for (let i = 0; i < LOCAL_BATCH; i++) system.tell(localSink, payload(i));
        localSent += LOCAL_BATCH;
        expectEqual('tell.local count', await system.ask(localSink, 'sync'), localSent);
      },
    },
    {
      name: 'tell.cross-thread',
      opsPerSample: BATCH,
      fn: async () => {
        for (let i = 0; i < BATCH; i++) system.tell(remoteSink, payload(i));
        remoteSent += BATCH;
        expectEqual('tell.cross-thread count', await system.ask(remoteSink, 'sync'), remoteSent);
      },
    },
    {
      name: 'baseline.postMessage',
      opsPerSample: BATCH,
      fn: async () => {
        for (let i = 0; i < BATCH; i++) raw.post(payload(i));
        await raw.sync();
      },
    },
    {
      name: 'baseline.postMessage-batched',
      opsPerSample: BATCH,
      fn: async () => {
        for (let i = 0; i < BATCH; ) {
          const n = Math.min(RAW_BATCH, BATCH - i);
          const chunk = new Array<Payload>(n);
          for (let k = 0; k < n; k++) chunk[k] = payload(i + k);
          raw.postBatch(chunk);
          i += n;
        }
        await raw.sync();
      },
    },
    { name: 'ask.cross-thread', fn: () => system.ask(remoteEcho, rttPayload) },
    { name: 'baseline.postMessage-rtt', fn: () => raw.roundTrip(rttPayload) },
  ],
  { time },
);
log('throughput/latency done');

// ---- restart of one actor inside its thread ----
const restartSup = await system.spawn(
  supervisor({ intensity: 1_000_000, periodMs: 1_000, backoff: false, children: [{ name: 'f', behavior: fragile, placement: { thread: CRASH_THREAD } }] }),
  { name: 'restart-bench' },
);
const f = system.registry.get('/restart-bench/f') as ActorRef<'crash' | 'ping', number>;
await system.ask(f, 'ping'); // warm: behavior loaded, first round trip done
const restartSamples: number[] = [];
for (let i = 0; i < ACTOR_RESTARTS; i++) {
  const t0 = performance.now();
  system.tell(f, 'crash');
  const pings = await system.ask(f, 'ping'); // queued behind the crash: answered by the restarted actor
  restartSamples.push(performance.now() - t0);
  expectEqual('pings after a restart (fresh state)', pings, 1);
}
log('restart.actor done');

// ---- thread killed under 1,000 actors ----
const threadSup = await system.spawn(
  supervisor({
    intensity: 1_000_000,
    periodMs: 1_000,
    backoff: false,
    children: Array.from({ length: THREAD_ACTORS }, (_, i) => ({ name: `a${i}`, behavior: fragile, placement: { thread: CRASH_THREAD } })),
  }),
  { name: 'thread-bench' },
);
const threadActors = Array.from({ length: THREAD_ACTORS }, (_, i) => system.registry.get(`/thread-bench/a${i}`) as ActorRef<'ping', number>);
const threadSamples: number[] = [];
const replacementMs: number[] = []; // kill -> replacement thread ready ('thread-replaced')
const actorsBackMs: number[] = []; // replacement ready -> all 1,000 actors answered
for (let round = 0; round < THREAD_KILLS; round++) {
  await Promise.all(threadActors.map((a) => system.ask(a, 'ping')));
  let replacedAt = 0;
  const replaced = new Promise<void>((resolve) => {
    const off = system.events.on('thread-replaced', (e) => {
      if (e.thread !== CRASH_THREAD) return;
      replacedAt = performance.now();
      off();
      resolve();
    });
  });
  const t0 = performance.now();
  await system.terminateThread(CRASH_THREAD);
  const pings = await Promise.all(threadActors.map((a) => system.ask(a, 'ping', { timeoutMs: 30_000 })));
  const t1 = performance.now();
  await replaced;
  threadSamples.push(t1 - t0);
  replacementMs.push(replacedAt - t0);
  actorsBackMs.push(t1 - replacedAt);
  expectEqual('actors answering with fresh state after the thread crash', pings.filter((p) => p === 1).length, THREAD_ACTORS);
}
log('restart.thread done');
await system.stop(threadSup);
await system.stop(restartSup);

// ---- spawn rate and idle memory, from the same actors ----
const before = await snapshot(system, probes);
const spawnSamples: number[] = [];
for (let done = 0; done < IDLE_ACTORS; done += SPAWN_BATCH) {
  const t0 = performance.now();
  await Promise.all(Array.from({ length: SPAWN_BATCH }, () => system.spawn(idle)));
  spawnSamples.push(performance.now() - t0);
}
const after = await snapshot(system, probes);
const idleBytes = perActor(before, after, IDLE_ACTORS);
log('spawn done');

const results: BenchResult[] = [
  ...tb,
  measured('restart.actor', restartSamples),
  measured('restart.thread', threadSamples),
  measured('spawn', spawnSamples, SPAWN_BATCH),
];
const ratios = {
  'tell.cross-thread/baseline.postMessage': ratio(pick(results, 'tell.cross-thread'), pick(results, 'baseline.postMessage'), 'throughput'),
  'ask.cross-thread/baseline.postMessage-rtt': ratio(pick(results, 'ask.cross-thread'), pick(results, 'baseline.postMessage-rtt'), 'latency-p50'),
  'tell.cross-thread/baseline.postMessage-batched': ratio(pick(results, 'tell.cross-thread'), pick(results, 'baseline.postMessage-batched'), 'throughput'),
};
const local = pick(results, 'tell.local').hz;
const spawnRate = pick(results, 'spawn').hz;
const crossRatio = ratios['tell.cross-thread/baseline.postMessage'];
const askRatio = ratios['ask.cross-thread/baseline.postMessage-rtt'];
const checks: Check[] = [
  { name: 'tell.local >= 5 M msg/s', ok: local >= 5e6, detail: `${(local / 1e6).toFixed(2)} M msg/s` },
  { name: 'tell.cross-thread/baseline.postMessage >= 5', ok: crossRatio >= 5, detail: crossRatio.toFixed(2) },
  { name: 'ask.cross-thread/baseline.postMessage-rtt <= 1.5', ok: askRatio <= 1.5, detail: askRatio.toFixed(3) },
  { name: 'spawn >= 100 k actors/s', ok: spawnRate >= 1e5, detail: `${(spawnRate / 1e3).toFixed(1)} k actors/s` },
  // RSS growth is the headline, but it can hide heap growth that lands on pages an earlier phase
  // already touched, so the live heaps (after a GC of every thread) must stay under the bar too.
  {
    name: 'idleActorBytes <= 2000',
    ok: idleBytes.rss <= 2000 && idleBytes.heaps <= 2000,
    detail: `${idleBytes.rss.toFixed(0)} bytes/actor of RSS; live heaps ${idleBytes.heaps.toFixed(0)} (main ${idleBytes.mainHeap.toFixed(0)} + workers ${idleBytes.workerHeaps.toFixed(0)})`,
  },
];
const median = (xs: readonly number[]): number => measured('m', xs).p50Ms;
const round1 = (v: number): number => Math.round(v * 10) / 10;

// Ordered shutdown of everything, the idle actors included (reported, no threshold).
const stopStart = performance.now();
await system.stop();
const stopMs = performance.now() - stopStart;
await raw.close();
report(
  'runtime',
  results,
  ratios,
  {
    threads: THREADS,
    node: process.version,
    idleActors: IDLE_ACTORS,
    idleActorBytes: Math.round(idleBytes.rss),
    idleActorHeapBytes: { main: Math.round(idleBytes.mainHeap), workers: Math.round(idleBytes.workerHeaps), total: Math.round(idleBytes.heaps) },
    workerHeapsCollected: after.workersCollected,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    restartThread: { actors: THREAD_ACTORS, replacementP50Ms: round1(median(replacementMs)), actorsBackP50Ms: round1(median(actorsBackMs)) },
    stopMs: Math.round(stopMs),
    batch: BATCH,
    localBatch: LOCAL_BATCH,
  },
  checks,
  args.json,
);
