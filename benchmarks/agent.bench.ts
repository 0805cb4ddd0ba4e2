/**
 * Suite `agent`: agents on the actor runtime against the bare `openai` SDK, on loopback model servers
 * running in their own processes.
 *   agent.turn                   one task of one model call, asked of an agent actor on a worker thread,
 *                                model latency 10 ms (`--turn-latency-ms N`)
 *   baseline.openai-direct       the same request through the bare SDK from the main thread
 *   *.0ms                        the same at 0 ms model latency, where each figure is nearly all overhead:
 *                                the agent on a worker thread, on the main thread, the bare SDK on a raw
 *                                worker thread asked by postMessage, the bare SDK on the main thread
 *   swarm.1000-agents            1,000 agents over the runtime's threads, each a 3-turn tool loop (50 ms per call)
 *   baseline.openai-direct-1000  the same 3,000 calls: 1,000 concurrent loops on the bare SDK in one thread
 * Ratios: agent.turn/baseline.openai-direct (p50 latency), swarm.1000-agents/baseline.openai-direct-1000
 * (wall time), and the 0 ms ratios (p50 latency) with the per-turn overhead in microseconds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import OpenAI from 'openai';
import { ActorSystem, type ActorRef } from '@apiary/runtime';
import { agent, type AgentMessage, type TaskResult } from '@apiary/agent';
import { measured, parseBenchArgs, pick, ratio, report, type Check } from './lib/harness.ts';
import { baselineSide, swarmSide } from './agent/swarm.ts';

const args = parseBenchArgs();
function turnLatencyArg(): number {
  const i = process.argv.indexOf('--turn-latency-ms');
  const value = i < 0 ? 10 : Number(process.argv[i + 1]);
  if (!(value >= 0)) throw new Error('--turn-latency-ms needs a number >= 0');
  return value;
}
const log = (...parts: unknown[]): void => {
  if (!args.json) console.log(`${(performance.now() / 1000).toFixed(1)} s`, ...parts);
};
const AGENTS = args.heavy ? 3_000 : 1_000;
/** Server latency of the swarm (set by the issue). */
const LATENCY_MS = 50;
/** Server latency of `agent.turn` (`--turn-latency-ms N`): a short answer from a fast local model server. */
const TURN_LATENCY_MS = turnLatencyArg();
const THREADS = 2;

/** Starts the model server in its own process and returns its base URL. */
async function startServer(latencyMs: number): Promise<{ baseURL: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./agent/server.ts', import.meta.url).pathname, String(latencyMs)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const baseURL = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('model server did not start')), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (line !== undefined && out.includes('\n')) {
        clearTimeout(timer);
        resolve(line.trim());
      }
    });
  });
  return { baseURL, child };
}

/** Peak RSS (MB) of one swarm side alone in a fresh process (see agent/swarm-child.ts). */
async function isolated(side: 'swarm' | 'baseline', baseURL: string): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./agent/swarm-child.ts', import.meta.url).pathname, side, baseURL, String(AGENTS), String(THREADS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`isolated ${side} run exited with ${code}`);
  return (JSON.parse(out.trim().split('\n').at(-1)!) as { peakRssMb: number }).peakRssMb;
}

const system = await ActorSystem.start({ threads: THREADS });
const [quick, model, slow] = await Promise.all([startServer(0), startServer(TURN_LATENCY_MS), startServer(LATENCY_MS)]);
const rawWorker = new Worker(new URL('./agent/sdk-worker.mjs', import.meta.url), { workerData: { baseURL: quick.baseURL } });
try {
  // ---- one turn: the agent against the bare SDK, same request, same server ----
  const turnAgent = async (baseURL: string, placement: 'main' | { thread: number }): Promise<ActorRef<AgentMessage, TaskResult>> =>
    (await system.spawn(agent, { placement, props: { name: 'turn', model: { model: 'apiary-mock', baseURL }, stream: false } })) as ActorRef<AgentMessage, TaskResult>;
  let n = 0;
  const viaAgent = (ref: ActorRef<AgentMessage, TaskResult>) => async (): Promise<void> => {
    const r = (await system.ask(ref, { type: 'task', taskId: `t${++n}`, input: 'hello' })) as TaskResult;
    if (r.status !== 'completed') throw new Error(`agent task ended ${r.status}`);
  };
  const viaSdk = (baseURL: string) => {
    const sdk = new OpenAI({ apiKey: 'unused', baseURL, maxRetries: 0 });
    return async (): Promise<void> => {
      const r = await sdk.chat.completions.create({ model: 'apiary-mock', messages: [{ role: 'user', content: 'hello' }] });
      if (r.choices[0]?.message.content == null) throw new Error('no content');
    };
  };
  const viaRawWorker = async (): Promise<void> => {
    const id = ++n;
    const answer = await new Promise<{ id: number; ok: boolean }>((resolve) => {
      rawWorker.once('message', resolve);
      rawWorker.postMessage(id);
    });
    if (answer.id !== id || !answer.ok) throw new Error('raw worker gave a wrong answer');
  };
  // Interleaved (A, B, C, A, B, C...), not one side after the other: the model server and the JIT
  // keep warming up during a run, and whoever goes last would get the warmest server.
  const interleaved = async (sides: readonly (readonly [string, () => Promise<void>])[], warmup: number, rounds: number) => {
    const samples = new Map<string, number[]>(sides.map(([name]) => [name, []]));
    for (let i = 0; i < warmup + rounds; i++) {
      for (const [name, fn] of sides) {
        const t0 = performance.now();
        await fn();
        if (i >= warmup) samples.get(name)!.push(performance.now() - t0);
      }
    }
    return sides.map(([name]) => measured(name, samples.get(name)!));
  };
  // The acceptance figure: a model that answers in TURN_LATENCY_MS, as the fastest real servers do.
  const turns = await interleaved(
    [
      ['agent.turn', viaAgent(await turnAgent(model.baseURL, { thread: 1 }))],
      ['baseline.openai-direct', viaSdk(model.baseURL)],
    ],
    30,
    args.heavy ? 2_000 : 200,
  );
  // Overhead exposed: a model that answers at once, so each figure is nearly all overhead.
  const overhead = await interleaved(
    [
      ['agent.turn.0ms', viaAgent(await turnAgent(quick.baseURL, { thread: 1 }))],
      ['agent.turn.main-thread.0ms', viaAgent(await turnAgent(quick.baseURL, 'main'))],
      ['baseline.worker-sdk.0ms', viaRawWorker],
      ['baseline.openai-direct.0ms', viaSdk(quick.baseURL)],
    ],
    150,
    args.heavy ? 5_000 : 400,
  );
  log('turn done');

  // ---- the swarm: 1,000 three-turn tool loops, 50 ms per model call ----
  // Wall time in this process, both sides after one untimed warm-up round each (connections, JIT,
  // lazily loaded SDK modules), as tinybench does for the other suites.
  const timed = async (round: () => Promise<number>): Promise<{ wallMs: number; cpuMs: number }> => {
    const cpu0 = process.cpuUsage();
    const wallMs = await round();
    const cpu = process.cpuUsage(cpu0);
    return { wallMs, cpuMs: Math.round((cpu.user + cpu.system) / 1000) }; // every thread of this process
  };
  const baselineRound = baselineSide(slow.baseURL, AGENTS);
  const baselineWarmupMs = await baselineRound();
  const baseline = await timed(baselineRound);
  log('baseline swarm done', baseline.wallMs.toFixed(0), 'ms (warm-up', baselineWarmupMs.toFixed(0), 'ms)');
  const swarmRound = await swarmSide(system, slow.baseURL, AGENTS);
  const swarmWarmupMs = await swarmRound();
  const swarm = await timed(swarmRound);
  log('agent swarm done', swarm.wallMs.toFixed(0), 'ms (warm-up', swarmWarmupMs.toFixed(0), 'ms)');
  // Peak RSS of each side alone in a fresh process, one after the other.
  const isolatedBaseline = await isolated('baseline', slow.baseURL);
  const isolatedSwarm = await isolated('swarm', slow.baseURL);
  log('isolated runs done: peak RSS', isolatedBaseline, isolatedSwarm, 'MB');

  const results = [...turns, ...overhead, measured('swarm.1000-agents', [swarm.wallMs]), measured('baseline.openai-direct-1000', [baseline.wallMs])];
  const p50 = (name: string): number => pick(results, name).p50Ms;
  const ratios = {
    'agent.turn/baseline.openai-direct': ratio(pick(results, 'agent.turn'), pick(results, 'baseline.openai-direct'), 'latency-p50'),
    'swarm.1000-agents/baseline.openai-direct-1000': swarm.wallMs / baseline.wallMs,
    'agent.turn.0ms/baseline.openai-direct.0ms': ratio(pick(results, 'agent.turn.0ms'), pick(results, 'baseline.openai-direct.0ms'), 'latency-p50'),
    'agent.turn.0ms/baseline.worker-sdk.0ms': ratio(pick(results, 'agent.turn.0ms'), pick(results, 'baseline.worker-sdk.0ms'), 'latency-p50'),
    'agent.turn.main-thread.0ms/baseline.openai-direct.0ms': ratio(pick(results, 'agent.turn.main-thread.0ms'), pick(results, 'baseline.openai-direct.0ms'), 'latency-p50'),
  };
  const checks: Check[] = [
    { name: 'agent.turn/baseline.openai-direct <= 1.10', ok: ratios['agent.turn/baseline.openai-direct'] <= 1.1, detail: ratios['agent.turn/baseline.openai-direct'].toFixed(3) },
    {
      name: 'swarm.1000-agents/baseline.openai-direct-1000 <= 1.25',
      ok: ratios['swarm.1000-agents/baseline.openai-direct-1000'] <= 1.25,
      detail: ratios['swarm.1000-agents/baseline.openai-direct-1000'].toFixed(3),
    },
  ];
  report('agent', results, ratios, {
    agents: AGENTS,
    threads: THREADS,
    latencyMs: LATENCY_MS,
    turnLatencyMs: TURN_LATENCY_MS,
    // Per-turn cost in microseconds at 0 ms model latency (p50 differences).
    overheadUs: {
      agentOverDirect: Math.round((p50('agent.turn.0ms') - p50('baseline.openai-direct.0ms')) * 1000),
      agentOverRawWorker: Math.round((p50('agent.turn.0ms') - p50('baseline.worker-sdk.0ms')) * 1000),
      rawWorkerOverDirect: Math.round((p50('baseline.worker-sdk.0ms') - p50('baseline.openai-direct.0ms')) * 1000),
      mainThreadAgentOverDirect: Math.round((p50('agent.turn.main-thread.0ms') - p50('baseline.openai-direct.0ms')) * 1000),
    },
    swarmWallMs: Math.round(swarm.wallMs),
    baselineWallMs: Math.round(baseline.wallMs),
    // CPU time of the timed rounds, all threads of this process (the model server runs elsewhere).
    swarmCpuMs: swarm.cpuMs,
    baselineCpuMs: baseline.cpuMs,
    swarmWarmupMs: Math.round(swarmWarmupMs),
    baselineWarmupMs: Math.round(baselineWarmupMs),
    // Each side alone in a fresh process, over one (cold) round.
    peakRssMbSwarm: isolatedSwarm,
    peakRssMbBaseline: isolatedBaseline,
    node: process.version,
  }, checks, args.json);
} finally {
  await system.stop();
  await rawWorker.terminate();
  quick.child.kill('SIGTERM');
  model.child.kill('SIGTERM');
  slow.child.kill('SIGTERM');
}
