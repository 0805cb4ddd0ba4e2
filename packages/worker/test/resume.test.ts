import * as assert from 'uvu/assert';
import { ErrorCodes, supervisor, type ActorRef } from '@apiary/runtime';
import { agent, toolRef, type AgentDefinition, type AgentMessage, type TaskReport, type TaskResult } from '@apiary/agent';
import { eventually, recordEvents, waitForEvent } from '@apiary/testkit';
import { WorkerTracker, type HumanRequest } from '../src/index.ts';
import { humanSuite, type HumanCtx } from './fixtures/human-suite.ts';
import { note, NOTES_CHANNEL, refund } from './fixtures/tools.ts';
import { reportSink, sink, type ReportSinkMsg } from './fixtures/behaviors.ts';

type Ctx = HumanCtx;
const test = humanSuite('a task waiting on a person survives a restart of its agent');

const model = (ctx: Ctx): AgentDefinition['model'] => ({ model: 'apiary-mock', baseURL: ctx.server.baseURL });
const answerOf = (r: TaskResult): string => (r.status === 'completed' ? r.answer : `(${r.status})`);
const nextRequest = (ctx: Ctx): Promise<HumanRequest> => waitForEvent(ctx.system.events, 'human-request-opened', () => true, 10_000).then((e) => e.request);
const reportsOf = async (ctx: Ctx, ref: ActorRef<ReportSinkMsg, unknown>): Promise<TaskReport[]> => (await ctx.system.ask(ref, { type: 'reports' })) as TaskReport[];

test('restarted in place (one-for-all) while an approval is open: the next incarnation resumes the task and answers the original ask', async (ctx) => {
  // One turn, four calls, two at a time: `note first` runs beside `refund`, which waits on a person;
  // the two notes after them are held (not started) until the person answers.
  const words = ['first', 'second', 'last'];
  ctx.server.addRule({
    when: { lastUserIncludes: 'refund with notes', afterToolResult: false },
    reply: { kind: 'tool-calls', calls: [{ name: 'note', arguments: { word: 'first' } }, { name: 'refund', arguments: { amount: 120 } }, ...words.slice(1).map((word) => ({ name: 'note', arguments: { word } }))] },
  });
  const detach = await ctx.human.onRequest(() => undefined);
  const reports = (await ctx.system.spawn(reportSink, { placement: 'main' })) as ActorRef<ReportSinkMsg, unknown>;
  const def: AgentDefinition = { name: 'clerk', model: model(ctx), stream: false, toolConcurrency: 2, tools: [toolRef(note), toolRef(refund)], approver: { ref: ctx.human.approver, timeoutMs: 60_000 } };
  await ctx.system.spawn(
    supervisor({
      strategy: 'one-for-all',
      intensity: 10,
      periodMs: 60_000,
      backoff: false,
      children: [
        { name: 'clerk', behavior: agent, props: def, placement: { thread: 1 } },
        { name: 'buddy', behavior: sink, placement: 'main' },
      ],
    }),
    { name: 'desk' },
  );
  const clerk = ctx.system.registry.get('/desk/clerk') as ActorRef<AgentMessage, TaskResult>;
  const buddy = ctx.system.registry.get('/desk/buddy')!;
  const events = recordEvents(ctx.system.events);
  // What the note tool ran, as it ran, from the agent's thread.
  const ran: string[] = [];
  const notes = new BroadcastChannel(NOTES_CHANNEL);
  notes.onmessage = (m: { data: unknown }) => void ran.push(String(m.data));

  const opened = nextRequest(ctx);
  const task = ctx.system.ask(clerk, { type: 'task', taskId: 'r1', input: 'refund with notes', replyTo: reports }, { timeoutMs: 30_000 });
  const request = await opened;
  assert.is(request.question.kind, 'approval');
  // The sibling fails; one-for-all restarts the clerk too, on its thread, while the request is open.
  const restarted = waitForEvent(ctx.system.events, 'actor-restarted', (e) => e.ref.id === clerk.id, 10_000);
  ctx.system.tell(buddy, { type: 'crash' });
  await restarted;
  // Only the call that ran beside the approval has run: the rest of the turn is held.
  await eventually(async () => ran.length === 1, 5_000, 'note first');
  assert.equal(ran, ['first']);
  await ctx.human.answer(request.id, { kind: 'approval', decision: 'approve' });

  const result = (await task) as TaskResult;
  const expected = 'Based on 4 tool results: noted first; refunded 120; noted second; noted last';
  assert.is(answerOf(result), expected);
  assert.is(result.turns, 2);
  assert.equal(result.toolCalls.map((c) => [c.name, c.ok]), [['note', true], ['refund', true], ['note', true], ['note', true]]);
  const resumed = events.ofType('task-resumed');
  assert.equal(resumed.map((e) => [e.taskId, e.waitedFor, e.turn]), [['r1', 'approval', 1]]);
  // Every call ran exactly once across both incarnations; the held notes only after the person answered.
  await eventually(async () => ran.length >= 3, 5_000, 'every note');
  await ctx.system.ask(clerk, { type: 'usage' }); // a round trip to the agent's thread: a late duplicate would be here by now
  assert.equal(ran, ['first', 'second', 'last']);
  assert.equal(events.ofType('tool-called').filter((e) => e.taskId === 'r1').map((e) => e.name), ['note', 'refund', 'note', 'note']);
  notes.close();
  assert.is(events.ofType('task-finished').filter((e) => e.taskId === 'r1').length, 1);
  await eventually(async () => (await reportsOf(ctx, reports)).length === 1, 5_000, 'the report');
  const [report] = await reportsOf(ctx, reports);
  assert.is(report?.type, 'task-done');
  assert.is(report?.type === 'task-done' ? answerOf(report.result) : '', expected);
  events.stop();
  await detach();
});

test("its thread crashed while a question was open: the ask fails with the thread, the restarted agent finishes the task and tells replyTo", async (ctx) => {
  ctx.server.addRule({
    when: { lastUserIncludes: 'deploy', afterToolResult: false },
    reply: { kind: 'tool-calls', calls: [{ name: 'ask_human', arguments: { question: 'Which region first?', options: ['eu', 'us'] } }] },
  });
  const tracker = WorkerTracker.start(ctx.system);
  const detach = await ctx.human.onRequest(() => undefined);
  try {
    const reports = (await ctx.system.spawn(reportSink, { placement: 'main' })) as ActorRef<ReportSinkMsg, unknown>;
    const deployer = (await ctx.system.spawn(agent, {
      placement: { thread: 1 },
      props: { name: 'deployer', model: model(ctx), stream: false, humanInput: { ref: ctx.human.asker, timeoutMs: 60_000 } } satisfies AgentDefinition,
    })) as ActorRef<AgentMessage, TaskResult>;
    const events = recordEvents(ctx.system.events);
    const opened = nextRequest(ctx);
    const task = ctx.system.ask(deployer, { type: 'task', taskId: 'd1', input: 'deploy the release', replyTo: reports }, { timeoutMs: 30_000 });
    const failed = task.then(() => 'no error', (e: { code?: string }) => e.code);
    const request = await opened;
    const ready = waitForEvent(ctx.system.events, 'agent-ready', (e) => e.id === deployer.id, 20_000);
    await ctx.system.terminateThread(1);
    assert.is(await failed, ErrorCodes.THREAD_CRASHED);
    // The answer may come while the agent's thread is still being replaced: the broker keeps trying.
    await ctx.human.answer(request.id, { kind: 'choice', choice: 'eu' });
    await ready;
    await eventually(async () => (await reportsOf(ctx, reports)).length === 1, 20_000, 'the report');
    const [report] = await reportsOf(ctx, reports);
    assert.is(report?.type === 'task-done' ? answerOf(report.result) : JSON.stringify(report), 'Based on 1 tool result: eu');
    assert.equal(events.ofType('task-resumed').map((e) => [e.taskId, e.waitedFor]), [['d1', 'question']]);
    assert.is(ctx.server.requests.at(-1)!.messages.find((m) => m.role === 'tool')?.content, 'eu');
    // The tracker saw it through: waiting for the person across the restart, then done.
    assert.ok(events.ofType('worker-status').some((e) => e.name === 'deployer' && e.status.kind === 'restarting'));
    await eventually(async () => tracker.get(deployer.id)?.status.kind === 'idle' && tracker.get(deployer.id)?.tasksDone === 1, 5_000, 'deployer idle, one task done');
    // Answered before or after the new incarnation was up: either way, never idle while the task is pending.
    const after = events.ofType('worker-status').filter((e) => e.name === 'deployer').map((e) => e.status.kind);
    const sequence = after.slice(after.indexOf('restarting')).join(' > ');
    assert.ok(['restarting > waiting-for-human > busy > idle', 'restarting > busy > idle'].includes(sequence), sequence);
    events.stop();
  } finally {
    await detach();
    tracker.stop();
  }
});

test('an agent stopped while a task waits on a person answers that task at once with ActorStoppedError', async (ctx) => {
  const detach = await ctx.human.onRequest(() => undefined);
  const clerk = (await ctx.system.spawn(agent, {
    placement: { thread: 1 },
    props: { name: 'clerk', model: model(ctx), stream: false, tools: [toolRef(refund)], approver: { ref: ctx.human.approver, timeoutMs: 60_000 } } satisfies AgentDefinition,
  })) as ActorRef<AgentMessage, TaskResult>;
  const opened = nextRequest(ctx);
  const task = ctx.system.ask(clerk, { type: 'task', taskId: 's1', input: 'refund 30' }, { timeoutMs: 30_000 });
  const failed = task.then(() => 'no error', (e: { code?: string }) => e.code);
  const request = await opened;
  const withdrawn = waitForEvent(ctx.system.events, 'human-request-settled', (e) => e.request.id === request.id, 10_000);
  await ctx.system.stop(clerk);
  assert.is(await failed, ErrorCodes.ACTOR_STOPPED);
  // Nobody is left to act on the approval: the broker withdrew it rather than leave it to a person.
  assert.is((await withdrawn).outcome.status, 'cancelled');
  assert.equal(await ctx.human.pending(), []);
  await detach();
});

test('a settled notice with a malformed checkpoint is refused with a typed error; the agent carries on', async (ctx) => {
  const a = (await ctx.system.spawn(agent, { placement: { thread: 1 }, props: { name: 'a', model: model(ctx), stream: false } satisfies AgentDefinition })) as ActorRef<AgentMessage, unknown>;
  const bad = { kind: 'apiary.task-checkpoint', version: 1, incarnation: 'x', task: { taskId: 't' }, progress: { messages: [] }, waiting: { callId: 'c' } };
  const code = await ctx.system.ask(a, { type: 'human-settled', continuation: bad, reply: { ok: true, value: null } }).then(() => 'no error', (e: { code?: string }) => e.code);
  assert.is(code, ErrorCodes.INVALID_ARGUMENT);
  // Not a checkpoint at all (another actor's continuation): ignored.
  assert.is(await ctx.system.ask(a, { type: 'human-settled', continuation: { resumeAt: 'x' }, reply: { ok: true, value: null } }), undefined);
  assert.is(((await ctx.system.ask(a, { type: 'task', taskId: 'ok', input: 'hello' })) as TaskResult).status, 'completed');
});

test.run();
