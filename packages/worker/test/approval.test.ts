import * as assert from 'uvu/assert';
import type { ActorRef } from '@apiary/runtime';
import { agent, toolRef, type AgentMessage, type TaskResult } from '@apiary/agent';
import { waitForEvent } from '@apiary/testkit';
import type { HumanRequest } from '../src/index.ts';
import { humanSuite, type HumanCtx } from './fixtures/human-suite.ts';
import { refund } from './fixtures/tools.ts';

type Ctx = HumanCtx;
const test = humanSuite('tool calls that need approval');

const spawnAgent = async (ctx: Ctx, name: string, approver = true): Promise<ActorRef<AgentMessage, TaskResult>> =>
  (await ctx.system.spawn(agent, {
    placement: { thread: 1 },
    props: {
      name,
      model: { model: 'apiary-mock', baseURL: ctx.server.baseURL },
      stream: false,
      tools: [toolRef(refund)],
      ...(approver ? { approver: { ref: ctx.human.approver, timeoutMs: 60_000 } } : {}),
    },
  })) as ActorRef<AgentMessage, TaskResult>;
const answerOf = (r: TaskResult): string => (r.status === 'completed' ? r.answer : `(${r.status})`);
const nextRequest = (ctx: Ctx): Promise<HumanRequest> => waitForEvent(ctx.system.events, 'human-request-opened', () => true, 10_000).then((e) => e.request);

test('approve, reject with a reason, edit the arguments: each reaches the tool loop as it should', async (ctx) => {
  const detach = await ctx.human.onRequest(() => undefined);
  const a = await spawnAgent(ctx, 'clerk');
  const cases: [string, (r: HumanRequest) => Promise<void>, RegExp][] = [
    ['refund 120 please', (r) => ctx.human.answer(r.id, { kind: 'approval', decision: 'approve' }), /refunded 120/],
    ['refund 900 please', (r) => ctx.human.answer(r.id, { kind: 'approval', decision: 'reject', reason: 'over the limit without a receipt' }), /not approved: over the limit without a receipt/],
    ['refund 300 please', (r) => ctx.human.answer(r.id, { kind: 'approval', decision: 'edit', arguments: { amount: 150 } }), /refunded 150/],
  ];
  for (const [input, decide, expected] of cases) {
    const opened = nextRequest(ctx);
    const task = ctx.system.ask(a, { type: 'task', taskId: input, input }, { timeoutMs: 30_000 });
    const request = await opened;
    assert.is(request.question.kind, 'approval');
    assert.is(request.workerName, 'clerk');
    assert.equal(request.question.kind === 'approval' ? request.question.arguments : null, { amount: Number(/\d+/.exec(input)![0]) });
    await decide(request);
    assert.match(answerOf((await task) as TaskResult), expected);
  }
  await detach();
});

test('with no channel the approval is denied by default, and the model is told why', async (ctx) => {
  const a = await spawnAgent(ctx, 'clerk');
  const settled = waitForEvent(ctx.system.events, 'human-request-settled', () => true, 10_000);
  const r = (await ctx.system.ask(a, { type: 'task', taskId: 't', input: 'refund 50' }, { timeoutMs: 30_000 })) as TaskResult;
  assert.is((await settled).outcome.status, 'timed-out');
  assert.match(answerOf(r), /not approved: no person could be asked \(no human input channel is attached\)/);
  assert.ok(r.toolCalls.every((c) => c.failure === 'rejected'));
});

test('an agent without an approver never runs a tool that needs approval', async (ctx) => {
  const a = await spawnAgent(ctx, 'loose', false);
  const r = (await ctx.system.ask(a, { type: 'task', taskId: 't', input: 'refund 50' })) as TaskResult;
  assert.match(answerOf(r), /needs a person's approval and this agent has no approver/);
});

test('an agent waiting for a person does not block another agent on the same thread', async (ctx) => {
  const detach = await ctx.human.onRequest(() => undefined);
  const waiting = await spawnAgent(ctx, 'waiting');
  const busy = await spawnAgent(ctx, 'busy');
  const opened = nextRequest(ctx);
  const held = ctx.system.ask(waiting, { type: 'task', taskId: 'held', input: 'refund 10' }, { timeoutMs: 30_000 });
  const request = await opened;
  // While `waiting` waits on the person, `busy` (same thread) runs a whole task to the end.
  // (The loopback model calls the first tool with what it can find: no amount, so the call is refused
  // by its schema before any approval, and the task completes.)
  const other = (await ctx.system.ask(busy, { type: 'task', taskId: 'free', input: 'hello there' })) as TaskResult;
  assert.is(other.status, 'completed');
  assert.match(answerOf(other), /invalid-arguments/);
  assert.is((await ctx.human.pending()).length, 1);
  await ctx.human.answer(request.id, { kind: 'approval', decision: 'approve' });
  assert.match(answerOf((await held) as TaskResult), /refunded 10/);
  await detach();
});

test('the model can ask a person through ask_human, and continues with the answer', async (ctx) => {
  ctx.server.addRule({
    when: { lastUserIncludes: 'deploy', afterToolResult: false },
    reply: { kind: 'tool-calls', calls: [{ name: 'ask_human', arguments: { question: 'Which region first?', options: ['eu', 'us'] } }] },
  });
  const detach = await ctx.human.onRequest((r) => void ctx.human.answer(r.id, { kind: 'choice', choice: 'eu' }));
  const a = (await ctx.system.spawn(agent, {
    placement: { thread: 1 },
    props: { name: 'deployer', model: { model: 'apiary-mock', baseURL: ctx.server.baseURL }, stream: false, humanInput: { ref: ctx.human.asker, timeoutMs: 30_000 } },
  })) as ActorRef<AgentMessage, TaskResult>;
  const r = (await ctx.system.ask(a, { type: 'task', taskId: 'd1', input: 'deploy the release' }, { timeoutMs: 30_000 })) as TaskResult;
  assert.is(answerOf(r), 'Based on 1 tool result: eu');
  const settled = ctx.server.requests.at(-1)!.messages.find((m) => m.role === 'tool');
  assert.is(settled?.content, 'eu');
  await detach();
});

test.run();
