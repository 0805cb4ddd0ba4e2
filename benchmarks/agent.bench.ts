/**
 * Suite `agent`: agents on the actor runtime against the bare `openai` SDK, on one loopback model
 * server running in its own process.
 *   agent.turn                  one task of one model call, asked of an agent actor on a worker thread
 *   agent.turn.main-thread      the same with the agent on the main thread (no thread hop)
 *   baseline.openai-direct      the same request through the bare SDK from the main thread
 *   swarm.1000-agents           1,000 agents over the runtime's threads, each a 3-turn tool loop (50 ms per call)
 *   baseline.openai-direct-1000 the same 3,000 calls: 1,000 concurrent loops on the bare SDK in one thread
 * Ratios: agent.turn/baseline.openai-direct (p50 latency), swarm.1000-agents/baseline.openai-direct-1000 (wall time).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { ActorSystem, type ActorRef } from '@apiary/runtime';
import { agent, toolRef, toolsForModel, type AgentMessage, type TaskResult, type Tool } from '@apiary/agent';
import { measured, parseBenchArgs, pick, ratio, report, type Check } from './lib/harness.ts';
import { add } from './agent/tools.ts';

const args = parseBenchArgs();
const log = (...parts: unknown[]): void => {
  if (!args.json) console.log(...parts);
};
const AGENTS = args.heavy ? 3_000 : 1_000;
const LATENCY_MS = 50;
const THREADS = 2;

/** Starts the model server in its own process and returns its base URL. */
async function startServer(latencyMs: number): Promise<{ baseURL: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./agent/server.ts', import.meta.url).pathname, String(latencyMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
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

/** Peak RSS while `fn` runs, sampled every 20 ms (process-wide: all threads). */
async function withPeakRss<T>(fn: () => Promise<T>): Promise<{ value: T; peakRssMb: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  try {
    const value = await fn();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { value, peakRssMb: Math.round(peak / 2 ** 20) };
  } finally {
    clearInterval(timer);
  }
}

const system = await ActorSystem.start({ threads: THREADS });
const quick = await startServer(0);
const slow = await startServer(LATENCY_MS);
try {
  // ---- one turn: the agent against the bare SDK, same request, same server ----
  const sdk = new OpenAI({ apiKey: 'unused', baseURL: quick.baseURL, maxRetries: 0 });
  const turnAgent = (await system.spawn(agent, {
    placement: { thread: 1 },
    props: { name: 'turn', model: { model: 'apiary-mock', baseURL: quick.baseURL }, stream: false },
  })) as ActorRef<AgentMessage, TaskResult>;
  const mainAgent = (await system.spawn(agent, {
    placement: 'main',
    props: { name: 'turn-main', model: { model: 'apiary-mock', baseURL: quick.baseURL }, stream: false },
  })) as ActorRef<AgentMessage, TaskResult>;
  let n = 0;
  const viaAgent = async (ref: ActorRef<AgentMessage, TaskResult>): Promise<void> => {
    const r = (await system.ask(ref, { type: 'task', taskId: `t${++n}`, input: 'hello' })) as TaskResult;
    if (r.status !== 'completed') throw new Error(`agent task ended ${r.status}`);
  };
  const direct1 = async (): Promise<void> => {
    const r = await sdk.chat.completions.create({ model: 'apiary-mock', messages: [{ role: 'user', content: 'hello' }] });
    if (r.choices[0]?.message.content == null) throw new Error('no content');
  };
  // Interleaved (A, B, C, A, B, C...), not one task after the other: the model server and the JIT
  // keep warming up during a run, and whoever goes last would get the warmest server.
  const sides: [string, () => Promise<void>][] = [
    ['agent.turn', () => viaAgent(turnAgent)],
    ['agent.turn.main-thread', () => viaAgent(mainAgent)],
    ['baseline.openai-direct', direct1],
  ];
  const samples = new Map<string, number[]>(sides.map(([name]) => [name, []]));
  const rounds = args.heavy ? 5_000 : 1_500;
  for (let i = 0; i < 300 + rounds; i++) {
    for (const [name, fn] of sides) {
      const t0 = performance.now();
      await fn();
      if (i >= 300) samples.get(name)!.push(performance.now() - t0);
    }
  }
  const turns = sides.map(([name]) => measured(name, samples.get(name)!));
  log('turn done');

  // ---- the swarm: 1,000 three-turn tool loops, 50 ms per model call ----
  const tools: ChatCompletionTool[] = toolsForModel([add as Tool]);
  const direct = new OpenAI({ apiKey: 'unused', baseURL: slow.baseURL, maxRetries: 0, timeout: 60_000 });
  const directLoop = async (i: number): Promise<number> => {
    const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: `add ${i} and 1` }];
    for (let turn = 1; turn <= 5; turn++) {
      const r = await direct.chat.completions.create({ model: 'apiary-mock', messages, tools });
      const message = r.choices[0]!.message;
      messages.push(message);
      const calls = message.tool_calls ?? [];
      if (calls.length === 0) return turn;
      for (const call of calls) {
        if (call.type !== 'function') continue;
        const parsed = add.parameters.safeParse(JSON.parse(call.function.arguments));
        const content = parsed.success ? String(parsed.data.a + parsed.data.b) : 'Error (invalid-arguments)';
        messages.push({ role: 'tool', tool_call_id: call.id, content });
      }
    }
    throw new Error('loop did not end');
  };
  // Both sides get one untimed warm-up round first (connections, JIT, lazily loaded SDK modules), as
  // tinybench does for the other suites; the timed round is the second one.
  const baselineRound = async (): Promise<number> => {
    const t0 = performance.now();
    const turnsTaken = await Promise.all(Array.from({ length: AGENTS }, (_, i) => directLoop(i)));
    if (turnsTaken.some((t) => t !== 3)) throw new Error('baseline loops did not take 3 turns');
    return performance.now() - t0;
  };
  const baselineWarmupMs = await baselineRound();
  const baselineRun = await withPeakRss(baselineRound);
  log('baseline swarm done', baselineRun.value.toFixed(0), 'ms (warm-up', baselineWarmupMs.toFixed(0), 'ms)');

  const agents = await Promise.all(
    Array.from({ length: AGENTS }, (_, i) =>
      system.spawn(agent, {
        props: { name: `a${i}`, model: { model: 'apiary-mock', baseURL: slow.baseURL, timeoutMs: 60_000 }, tools: [toolRef(add)], stream: false },
      }),
    ),
  );
  let round = 0;
  const swarmRound = async (): Promise<number> => {
    round++;
    const t0 = performance.now();
    const results = (await Promise.all(
      agents.map((a, i) => system.ask(a as ActorRef<AgentMessage, TaskResult>, { type: 'task', taskId: `s${round}-${i}`, input: `add ${i} and 1` }, { timeoutMs: 120_000 })),
    )) as TaskResult[];
    const wall = performance.now() - t0;
    if (results.some((r) => r.status !== 'completed' || r.turns !== 3)) throw new Error('agent loops did not take 3 turns');
    return wall;
  };
  const swarmWarmupMs = await swarmRound();
  const swarmRun = await withPeakRss(swarmRound);
  log('agent swarm done', swarmRun.value.toFixed(0), 'ms (warm-up', swarmWarmupMs.toFixed(0), 'ms)');

  const results = [...turns, measured('swarm.1000-agents', [swarmRun.value]), measured('baseline.openai-direct-1000', [baselineRun.value])];
  const ratios = {
    'agent.turn/baseline.openai-direct': ratio(pick(results, 'agent.turn'), pick(results, 'baseline.openai-direct'), 'latency-p50'),
    'swarm.1000-agents/baseline.openai-direct-1000': swarmRun.value / baselineRun.value,
    'agent.turn.main-thread/baseline.openai-direct': ratio(pick(results, 'agent.turn.main-thread'), pick(results, 'baseline.openai-direct'), 'latency-p50'),
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
    swarmWallMs: Math.round(swarmRun.value),
    baselineWallMs: Math.round(baselineRun.value),
    swarmWarmupMs: Math.round(swarmWarmupMs),
    baselineWarmupMs: Math.round(baselineWarmupMs),
    peakRssMbSwarm: swarmRun.peakRssMb,
    peakRssMbBaseline: baselineRun.peakRssMb,
    node: process.version,
  }, checks, args.json);
} finally {
  await system.stop();
  quick.child.kill('SIGTERM');
  slow.child.kill('SIGTERM');
}
