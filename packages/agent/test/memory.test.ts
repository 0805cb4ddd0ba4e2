import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MockOpenAIServer } from '@apiary/mock-openai';
import { ActorSystem, type ActorRef } from '@apiary/runtime';
import { VectorMemory } from '@apiary/memory';
import { agent, type AgentDefinition, type AgentMessage, type TaskResult } from '../src/index.ts';

interface Ctx {
  server: MockOpenAIServer;
  system: ActorSystem;
  memory: VectorMemory;
}
const test = suite<Ctx>('agents with shared memory', {} as Ctx);

test.before(async (ctx) => {
  ctx.server = await MockOpenAIServer.start();
  ctx.system = await ActorSystem.start({ threads: 2 });
  ctx.memory = await VectorMemory.start(ctx.system);
});
test.after(async (ctx) => {
  await ctx.memory.stop();
  await ctx.system.stop();
  await ctx.server.close();
});

const spawnAgent = async (ctx: Ctx, name: string, thread: number, memory: AgentDefinition['memory']): Promise<ActorRef<AgentMessage, TaskResult>> =>
  (await ctx.system.spawn(agent, {
    placement: { thread },
    props: { name, model: { model: 'apiary-mock', baseURL: ctx.server.baseURL }, stream: false, ...(memory === undefined ? {} : { memory }) },
  })) as ActorRef<AgentMessage, TaskResult>;

const answer = (r: TaskResult): string => (r.status === 'completed' ? r.answer : `(${r.status})`);

test('a swarm blackboard: what one worker remembers on one thread, another recalls on the other thread', async (ctx) => {
  await ctx.memory.create('swarm.alpha', { dimensions: 256 });
  const memory = { namespace: ctx.memory.handle('swarm.alpha'), embedder: { kind: 'hash' as const, dimensions: 256 } };
  const scout = await spawnAgent(ctx, 'scout', 1, memory);
  const analyst = await spawnAgent(ctx, 'analyst', 2, memory);
  // The loopback model calls the tool the user names, with the user's text as the argument.
  const stored = (await ctx.system.ask(scout, { type: 'task', taskId: 's1', input: 'remember: the staging database password rotates every Tuesday' })) as TaskResult;
  assert.is(answer(stored), 'Based on 1 tool result: remembered (swarm.alpha)');
  const found = (await ctx.system.ask(analyst, { type: 'task', taskId: 'a1', input: 'recall when the staging database password rotates' })) as TaskResult;
  assert.match(answer(found), /rotates every Tuesday/);
  assert.match(answer(found), new RegExp(scout.path)); // the finding says who found it
  const hits = await ctx.memory.get('swarm.alpha').stats();
  assert.is(hits.live, 1);
});

test('auto-recall puts the nearest memories into the context before the model is asked', async (ctx) => {
  const ns = await ctx.memory.create('agent.private', { dimensions: 384 });
  const writer = await spawnAgent(ctx, 'writer', 1, { namespace: ns.handle });
  await ctx.system.ask(writer, { type: 'task', taskId: 'w1', input: 'remember: the customer prefers invoices in Swiss francs' });
  await ctx.system.ask(writer, { type: 'task', taskId: 'w2', input: 'remember: the office plant needs water on Fridays' });
  const reader = await spawnAgent(ctx, 'reader', 2, { namespace: ns.handle, tools: false, autoRecall: { k: 1, minScore: 0.2 } });
  const r = (await ctx.system.ask(reader, { type: 'task', taskId: 'r1', input: 'which currency does the customer want invoices in?' })) as TaskResult;
  assert.is(r.status, 'completed');
  const request = ctx.server.requests.at(-1)!;
  const system = request.messages.find((m) => m.role === 'system');
  assert.match(String(system?.content), /Relevant memories[\s\S]*Swiss francs/);
  assert.not.match(String(system?.content), /office plant/); // k = 1: only the nearest
  assert.is(request.tools, undefined); // tools: false offers none
});

test('an embedder whose size does not fit the namespace fails the spawn with a typed error', async (ctx) => {
  await ctx.memory.create('sized', { dimensions: 64 });
  const failure = await spawnAgent(ctx, 'misfit', 1, { namespace: ctx.memory.handle('sized'), embedder: { kind: 'hash', dimensions: 128 } }).then(
    () => null,
    (e: { code?: string; cause?: { code?: string; message?: string } }) => e,
  );
  assert.is(failure?.code, 'APIARY_ERR_SPAWN_FAILED');
  assert.is(failure?.cause?.code, 'APIARY_ERR_INVALID_ARGUMENT');
  assert.match(String(failure?.cause?.message), /128-d/);
});

test.run();
