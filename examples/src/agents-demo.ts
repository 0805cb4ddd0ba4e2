/**
 * Second act of the demo: tool-using agents on the actor runtime. They talk to a real
 * OpenAI-compatible endpoint when OPENAI_API_KEY (and optionally OPENAI_BASE_URL) are set, else to
 * the project's loopback server, started here. A thread is killed under them; they come back.
 */
import { ActorSystem, supervisor, type ActorRef } from '@apiary/runtime';
import { agent, toolRef, type AgentMessage, type TaskResult } from '@apiary/agent';
import { MockOpenAIServer } from '@apiary/mock-openai';
import { add, wordCount } from './tools.js';

export async function agentsDemo(say: (text: string) => void): Promise<void> {
  const real = process.env.OPENAI_API_KEY !== undefined && process.env.OPENAI_API_KEY !== '';
  const server = real ? null : await MockOpenAIServer.start({ latency: { normalMs: { mean: 40, sd: 10 } }, seed: 7 });
  const baseURL = real ? process.env.OPENAI_BASE_URL : server!.baseURL;
  const model = real ? (process.env.OPENAI_MODEL ?? 'gpt-4o-mini') : 'apiary-mock';
  say(real ? `agents use a REAL endpoint: ${baseURL ?? 'api.openai.com'} (model ${model}, OPENAI_API_KEY is set)` : `agents use the loopback mock server at ${baseURL} (no OPENAI_API_KEY set)`);

  const system = await ActorSystem.start({ threads: 2 });
  let tokens = 0;
  let costUsd = 0;
  let streamed = 0;
  system.events.on('token-usage', (e) => {
    tokens += e.promptTokens + e.completionTokens;
    costUsd += e.costUsd;
  });
  system.events.on('model-token', () => streamed++);
  system.events.on('thread-replaced', (e) => say(`  event thread-replaced  thread ${e.thread} back after ${e.downtimeMs.toFixed(0)} ms`));
  try {
    const names = ['ada', 'grace', 'linus', 'barbara'];
    await system.spawn(
      supervisor({
        strategy: 'one-for-one',
        children: names.map((name, i) => ({
          name,
          behavior: agent,
          placement: { thread: 1 + (i % 2) },
          props: {
            name,
            model: { model, ...(baseURL === undefined ? {} : { baseURL }), retry: { maxRetries: 3 } },
            system: 'You are a careful assistant. Use the tools for arithmetic and counting.',
            tools: [toolRef(add), toolRef(wordCount)],
            budgets: { maxTurns: 6, maxCostUsd: 0.05 },
          },
        })),
      }),
      { name: 'agents' },
    );
    const agents = names.map((n) => system.registry.get(`/agents/${n}`) as ActorRef<AgentMessage, TaskResult>);
    say(`spawned 4 agents under /agents (one-for-one), two per worker thread`);

    const tasks = ['please add 1200 and 34', 'word_count: the quick brown fox jumps', 'add 7 and 35', 'add 2.5 and 4'];
    const t0 = performance.now();
    const results = (await Promise.all(agents.map((a, i) => system.ask(a, { type: 'task', taskId: `demo-${i}`, input: tasks[i]! }, { timeoutMs: 60_000 })))) as TaskResult[];
    results.forEach((r, i) => {
      const answer = r.status === 'completed' ? r.answer : `(${r.status}: ${r.budget})`;
      say(`  ${names[i]!.padEnd(8)} ${r.turns} turns, tools [${r.toolCalls.map((c) => c.name).join(', ')}]: ${answer.slice(0, 70)}`);
    });
    say(`4 tasks in ${(performance.now() - t0).toFixed(0)} ms; ${tokens} tokens, $${costUsd.toFixed(6)}, ${streamed} streamed token events`);

    say('killing worker thread 1 under ada and linus, then asking them again');
    const back = new Promise<void>((resolve) => {
      const off = system.events.on('thread-replaced', (e) => {
        if (e.thread === 1) {
          off();
          resolve();
        }
      });
    });
    await system.terminateThread(1);
    await back;
    const again = (await Promise.all([agents[0]!, agents[2]!].map((a, i) => system.ask(a, { type: 'task', taskId: `again-${i}`, input: 'add 40 and 2' }, { timeoutMs: 60_000 })))) as TaskResult[];
    say(`  after the crash: ${again.map((r) => (r.status === 'completed' ? r.answer : r.status)).join(' | ')}`);
  } finally {
    await system.stop();
    await server?.close();
  }
}
