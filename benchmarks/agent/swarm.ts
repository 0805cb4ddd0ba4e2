/**
 * The two sides of `swarm.1000-agents`: N agents on the runtime, each a 3-turn tool loop, and the
 * same N loops on the bare `openai` SDK in one thread. Used by the suite in its own process (wall
 * time, same process) and by `swarm-child.ts` (peak RSS, one side per fresh process).
 */
import OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import type { ActorRef, ActorSystem } from '@apiary/runtime';
import { agent, toolRef, toolsForModel, type AgentMessage, type TaskResult, type Tool } from '@apiary/agent';
import { add } from './tools.ts';

/** One round of a side: every loop runs once, all at the same time; resolves with the wall time in ms. */
export type Round = () => Promise<number>;

/** The bare SDK side: `count` concurrent tool loops in this thread. */
export function baselineSide(baseURL: string, count: number): Round {
  const tools: ChatCompletionTool[] = toolsForModel([add as Tool]);
  const sdk = new OpenAI({ apiKey: 'unused', baseURL, maxRetries: 0, timeout: 60_000 });
  const loop = async (i: number): Promise<number> => {
    const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: `add ${i} and 1` }];
    for (let turn = 1; turn <= 5; turn++) {
      const r = await sdk.chat.completions.create({ model: 'apiary-mock', messages, tools });
      const message = r.choices[0]!.message;
      messages.push(message);
      const calls = message.tool_calls ?? [];
      if (calls.length === 0) return turn;
      for (const call of calls) {
        if (call.type !== 'function') continue;
        // The same validation the agent does, so both sides do the same work.
        const parsed = add.parameters.safeParse(JSON.parse(call.function.arguments));
        const content = parsed.success ? String(parsed.data.a + parsed.data.b) : 'Error (invalid-arguments)';
        messages.push({ role: 'tool', tool_call_id: call.id, content });
      }
    }
    throw new Error('loop did not end');
  };
  return async () => {
    const t0 = performance.now();
    const turnsTaken = await Promise.all(Array.from({ length: count }, (_, i) => loop(i)));
    const wall = performance.now() - t0;
    if (turnsTaken.some((t) => t !== 3)) throw new Error('baseline loops did not take 3 turns');
    return wall;
  };
}

/** The runtime side: spawns `count` agents over the system's threads; each round asks each one task. */
export async function swarmSide(system: ActorSystem, baseURL: string, count: number): Promise<Round> {
  const agents = (await Promise.all(
    Array.from({ length: count }, (_, i) =>
      system.spawn(agent, { props: { name: `a${i}`, model: { model: 'apiary-mock', baseURL, timeoutMs: 60_000 }, tools: [toolRef(add)], stream: false } }),
    ),
  )) as ActorRef<AgentMessage, TaskResult>[];
  let round = 0;
  return async () => {
    round++;
    const t0 = performance.now();
    const results = (await Promise.all(
      agents.map((a, i) => system.ask(a, { type: 'task', taskId: `s${round}-${i}`, input: `add ${i} and 1` }, { timeoutMs: 120_000 })),
    )) as TaskResult[];
    const wall = performance.now() - t0;
    if (results.some((r) => r.status !== 'completed' || r.turns !== 3)) throw new Error('agent loops did not take 3 turns');
    return wall;
  };
}

/** Runs `fn` while sampling the process RSS (all threads) every 20 ms; returns its value and the peak. */
export async function withPeakRss<T>(fn: () => Promise<T>): Promise<{ value: T; peakRssMb: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  try {
    const value = await fn();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { value, peakRssMb: Math.round(peak / 2 ** 20) };
  } finally {
    clearInterval(timer);
  }
}
