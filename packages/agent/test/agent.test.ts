import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MockOpenAIServer } from '@apiary/mock-openai';
import { ActorSystem, type ActorRef, type ApiaryEvent } from '@apiary/runtime';
import { eventually, recordEvents } from '@apiary/testkit';
import { AgentErrorCodes, agent, toolRef, type AgentDefinition, type AgentMessage, type AgentTotals, type TaskResult } from '../src/index.ts';
import { add, fails } from './fixtures/tools.ts';

interface Ctx {
  server: MockOpenAIServer;
  system: ActorSystem;
}
const test = suite<Ctx>('agent actor', {} as Ctx);

test.before(async (ctx) => {
  ctx.server = await MockOpenAIServer.start();
  ctx.system = await ActorSystem.start({ threads: 2 });
});
test.after.each(({ server }) => server.clearRules());
test.after(async (ctx) => {
  await ctx.system.stop();
  await ctx.server.close();
});

const definition = (server: MockOpenAIServer, extra: Partial<AgentDefinition> = {}): AgentDefinition => ({
  name: 'calc',
  model: { model: 'apiary-mock', baseURL: server.baseURL, retry: { minDelayMs: 5, maxDelayMs: 20, maxRetries: 1 } },
  system: 'You add numbers with the add tool.',
  tools: [toolRef(add), toolRef(fails)],
  ...extra,
});

async function spawnAgent(ctx: Ctx, extra: Partial<AgentDefinition> = {}, thread = 1): Promise<ActorRef<AgentMessage, TaskResult>> {
  return (await ctx.system.spawn(agent, { props: definition(ctx.server, extra), placement: { thread } })) as ActorRef<AgentMessage, TaskResult>;
}

test('an agent on a worker thread runs a tool loop over real HTTP and reports tokens, tools and usage on the bus', async (ctx) => {
  const a = await spawnAgent(ctx);
  const events = recordEvents(ctx.system.events);
  const result = (await ctx.system.ask(a, { type: 'task', taskId: 't1', input: 'please add 20 and 22' })) as TaskResult;
  events.stop();
  assert.is(result.status, 'completed');
  if (result.status !== 'completed') return;
  assert.is(result.answer, 'Based on 1 tool result: 42');
  assert.is(result.turns, 2);
  assert.equal(result.toolCalls.map((c) => [c.name, c.ok]), [['add', true]]);
  assert.ok(result.usage.totalTokens > 0 && result.usage.costUsd > 0);
  const types = new Set(events.events.map((e: ApiaryEvent) => e.type));
  for (const t of ['model-token', 'tool-called', 'token-usage', 'task-finished'] as const) assert.ok(types.has(t), `no ${t} event`);
  const tokens = events.ofType('model-token').filter((e) => e.taskId === 't1').map((e) => e.delta).join('');
  assert.ok(tokens.includes('42'));
});

test('a schema failure goes back to the model as a tool error, and the loop goes on', async (ctx) => {
  ctx.server.addRule({ when: { hasTools: true, afterToolResult: false }, reply: { kind: 'tool-calls', calls: [{ name: 'add', arguments: { a: 'one', b: 2 } }] }, times: 1 });
  const a = await spawnAgent(ctx);
  const result = (await ctx.system.ask(a, { type: 'task', taskId: 't2', input: 'add one and 2' })) as TaskResult;
  assert.is(result.status, 'completed');
  assert.equal(result.toolCalls.map((c) => c.failure), ['invalid-arguments']);
  const lastRequest = ctx.server.requests.at(-1)!;
  const toolMessage = lastRequest.messages.find((m) => m.role === 'tool');
  assert.match(String(toolMessage?.content), /^Error \(invalid-arguments\)/);
});

test('malformed tool-call JSON and a throwing tool are fed back too, never crashing the agent', async (ctx) => {
  const a = await spawnAgent(ctx);
  ctx.server.inject({ type: 'malformed-tool-args' }, 1);
  const r1 = (await ctx.system.ask(a, { type: 'task', taskId: 't3', input: 'add 1 and 2' })) as TaskResult;
  assert.equal(r1.toolCalls.map((c) => c.failure), ['invalid-json']);
  const r2 = (await ctx.system.ask(a, { type: 'task', taskId: 't4', input: 'call fails now' })) as TaskResult;
  assert.equal(r2.toolCalls.map((c) => [c.name, c.failure]), [['fails', 'handler-error']]);
  assert.is(r2.status, 'completed');
});

test('budgets end a task with a typed budget-exceeded result', async (ctx) => {
  const a = await spawnAgent(ctx);
  const turns = (await ctx.system.ask(a, { type: 'task', taskId: 't5', input: 'add 1 and 2', budgets: { maxTurns: 1 } })) as TaskResult;
  assert.is(turns.status, 'budget-exceeded');
  if (turns.status === 'budget-exceeded') {
    assert.is(turns.budget, 'turns');
    assert.is(turns.limit, 1);
  }
  const tokens = (await ctx.system.ask(a, { type: 'task', taskId: 't6', input: 'add 1 and 2', budgets: { maxTokens: 5 } })) as TaskResult;
  assert.is(tokens.status === 'budget-exceeded' ? tokens.budget : tokens.status, 'tokens');
  const cost = (await ctx.system.ask(a, { type: 'task', taskId: 't7', input: 'hello', budgets: { maxCostUsd: 1e-9 } })) as TaskResult;
  assert.is(cost.status === 'budget-exceeded' ? cost.budget : cost.status, 'cost');
  const totals = (await ctx.system.ask(a, { type: 'usage' })) as unknown as AgentTotals;
  assert.is(totals.tasksOverBudget, 3);
});

test('a model that stays unavailable fails the ask with ModelUnavailableError; the agent is not restarted', async (ctx) => {
  const a = await spawnAgent(ctx);
  const events = recordEvents(ctx.system.events);
  ctx.server.inject({ type: 'server-error' }, 2); // maxRetries 1: two attempts, both fail
  const error = (await ctx.system.ask(a, { type: 'task', taskId: 't8', input: 'hi' }).catch((e: unknown) => e)) as { code: string; name: string };
  assert.is(error.code, AgentErrorCodes.MODEL_UNAVAILABLE);
  assert.is(error.name, 'ModelUnavailableError');
  const ok = (await ctx.system.ask(a, { type: 'task', taskId: 't9', input: 'hi again' })) as TaskResult;
  assert.is(ok.status, 'completed');
  events.stop();
  assert.is(events.ofType('actor-restarted').length, 0);
  assert.is(events.ofType('model-retry').length, 1);
  assert.equal(events.ofType('task-finished').map((e) => e.status), ['failed', 'completed']);
});

test('tasks from many requesters on many agents interleave without leaking state between them', async (ctx) => {
  ctx.server.clearRules();
  const agents = await Promise.all([1, 2, 1, 2, 1].map((thread) => spawnAgent(ctx, {}, thread)));
  const tasks = Array.from({ length: 30 }, (_, i) => ({ agent: agents[i % agents.length]!, taskId: `iso-${i}`, input: `add ${i} and 1000` }));
  const results = (await Promise.all(tasks.map((t) => ctx.system.ask(t.agent, { type: 'task', taskId: t.taskId, input: t.input })))) as TaskResult[];
  results.forEach((r, i) => {
    assert.is(r.taskId, `iso-${i}`);
    assert.is(r.status === 'completed' ? r.answer : r.status, `Based on 1 tool result: ${i + 1000}`);
  });
});

test('agents on one thread interleave while they wait on the model (a gate holds every request until all have arrived)', async (ctx) => {
  const AGENTS = 12;
  const agents = await Promise.all(Array.from({ length: AGENTS }, () => spawnAgent(ctx, { tools: [] }, 2)));
  // Each request is held until all of them are at the server at once. Were an agent, or the thread,
  // to block while its request is open, the others could never send theirs and the gate would never
  // open: the asks below would time out instead of answering.
  let arrived = 0;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  ctx.server.addRule({
    name: 'gate',
    when: { lastUserIncludes: 'gated' },
    reply: async (request) => {
      if (++arrived === AGENTS) open();
      await gate;
      return { kind: 'text', text: `done: ${String(request.messages.at(-1)?.content)}` };
    },
  });
  const results = (await Promise.all(
    agents.map((a, i) => ctx.system.ask(a, { type: 'task', taskId: `gate-${i}`, input: `gated ${i}` }, { timeoutMs: 10_000 })),
  )) as TaskResult[];
  assert.is(arrived, AGENTS);
  results.forEach((r, i) => assert.is(r.status === 'completed' ? r.answer : r.status, `done: gated ${i}`));
  const threads = await Promise.all(agents.map((a) => ctx.system.registry.describe(a)));
  assert.ok(threads.every((info) => info?.thread === 2), 'all on one thread');
});

test('maxConcurrentTasks bounds the tasks an agent runs at once (default 1); it answers other messages meanwhile', async (ctx) => {
  let inFlight = 0;
  let peak = 0;
  const waiting: (() => void)[] = [];
  ctx.server.addRule({
    name: 'held',
    when: { lastUserIncludes: 'held' },
    reply: async (request) => {
      peak = Math.max(peak, ++inFlight);
      await new Promise<void>((resolve) => waiting.push(resolve));
      inFlight--;
      return { kind: 'text', text: `done ${String(request.messages.at(-1)?.content)}` };
    },
  });
  const release = async (count: number): Promise<void> => {
    await eventually(async () => waiting.length >= count, 10_000, `${count} requests at the server`);
    for (const r of waiting.splice(0, count)) r();
  };
  for (const max of [1, 3]) {
    peak = 0;
    const a = await spawnAgent(ctx, { tools: [], ...(max === 1 ? {} : { maxConcurrentTasks: max }) }, 1);
    const tasks = [0, 1, 2, 3].map((i) => ctx.system.ask(a, { type: 'task', taskId: `held-${max}-${i}`, input: `held ${i}` }, { timeoutMs: 20_000 }));
    await release(Math.min(max, 4)); // exactly `max` are at the server: no more were started
    assert.is(peak, max);
    // While tasks run, the agent still answers.
    const usage = (await ctx.system.ask(a, { type: 'usage' })) as unknown as AgentTotals;
    assert.type(usage.tasksCompleted, 'number');
    for (let left = 4 - max; left > 0; left -= Math.min(max, left)) await release(Math.min(max, left));
    const results = (await Promise.all(tasks)) as TaskResult[];
    assert.equal(results.map((r) => (r.status === 'completed' ? r.answer : r.status)), [0, 1, 2, 3].map((i) => `done held ${i}`));
    assert.is(peak, max);
  }
});

test('a bad task or definition gets a typed error', async (ctx) => {
  const a = await spawnAgent(ctx);
  const bad = (await ctx.system.ask(a, { type: 'task', taskId: 1, input: 'x' } as never).catch((e: unknown) => e)) as { code: string };
  assert.is(bad.code, 'APIARY_ERR_INVALID_ARGUMENT');
  const spawnError = (await ctx.system
    .spawn(agent, { props: definition(ctx.server, { tools: [{ module: new URL('./fixtures/tools.ts', import.meta.url).href, exportName: 'notATool' }] }) })
    .catch((e: unknown) => e)) as { code: string; cause?: { code: string } };
  assert.is(spawnError.code, 'APIARY_ERR_SPAWN_FAILED');
  assert.is(spawnError.cause?.code, 'APIARY_ERR_INVALID_ARGUMENT');
});

test.run();
