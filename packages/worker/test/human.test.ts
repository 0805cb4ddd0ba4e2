import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ActorSystem, type ActorRef } from '@apiary/runtime';
import { eventually, waitForEvent, waitForEvents, within } from '@apiary/testkit';
import { HumanInput, WorkerErrorCodes, type HumanRequestSpec, type HumanSettled } from '../src/index.ts';
import { sink, type SinkMsg } from './fixtures/behaviors.ts';

interface Ctx {
  system: ActorSystem;
  human: HumanInput;
  sink: ActorRef<SinkMsg, unknown>;
}
const test = suite<Ctx>('human input broker and programmatic channel', {} as Ctx);

test.before.each(async (ctx) => {
  ctx.system = await ActorSystem.start({ threads: 1 });
  ctx.human = await HumanInput.start(ctx.system);
  ctx.sink = (await ctx.system.spawn(sink, { placement: { thread: 1 } })) as ActorRef<SinkMsg, unknown>;
});
test.after.each(async (ctx) => {
  await ctx.system.stop();
});

const spec = (question: HumanRequestSpec['question'], extra: Partial<HumanRequestSpec> = {}): HumanRequestSpec => ({ worker: 'w-1', workerName: 'ada', taskId: 't-1', question, ...extra });
const open = async (ctx: Ctx, s: HumanRequestSpec, continuation?: unknown): Promise<string> =>
  ((await ctx.system.ask(ctx.human.broker, { type: 'open', spec: s, replyTo: ctx.sink, continuation })) as { id: string }).id;
/** The outcome the asker received for `id` (asks the sink until it has arrived, bounded). */
const settledOf = async (ctx: Ctx, id: string): Promise<HumanSettled> => {
  let found: HumanSettled | undefined;
  await eventually(async () => {
    const all = (await ctx.system.ask(ctx.sink, { type: 'outcomes' })) as HumanSettled[];
    found = all.find((s) => s.request.id === id);
    return found !== undefined;
  }, 5_000, `the outcome of ${id} at the asker`);
  return found!;
};
const codeOf = (p: Promise<unknown>): Promise<string> => p.then(() => 'no error', (e: { code?: string }) => e.code ?? 'no code');

test('with no channel attached, a request settles at once by its default, never hangs', async (ctx) => {
  const settled = waitForEvent(ctx.system.events, 'human-request-settled', () => true, 5_000);
  const id = await open(ctx, spec({ kind: 'approval', prompt: 'Run rm?', tool: 'shell', arguments: { cmd: 'rm -rf /tmp/x' }, schema: { type: 'object' } }, { timeoutMs: 600_000 }));
  await settled;
  const s = await settledOf(ctx, id);
  assert.equal(s.outcome, { id, status: 'timed-out', applied: 'deny', noChannel: true, answer: { kind: 'approval', decision: 'reject', reason: 'nobody approved this call before the deadline' } });
  const failing = await open(ctx, spec({ kind: 'text', prompt: 'Name?' }));
  assert.equal((await settledOf(ctx, failing)).outcome, { id: failing, status: 'timed-out', applied: 'fail', noChannel: true });
});

test('the programmatic channel gets requests; a bad answer is refused and the request stays open; then answered once', async (ctx) => {
  const received: string[] = [];
  const detach = await ctx.human.onRequest((r) => received.push(r.id));
  const schema = z.toJSONSchema(z.object({ city: z.string(), nights: z.number().int().min(1) }));
  const id = await open(ctx, spec({ kind: 'structured', prompt: 'Where and how long?', schema }), { step: 3 });
  await within(
    (async () => {
      while (!received.includes(id)) await waitForEvent(ctx.system.events, 'human-request-opened', () => true, 1_000).catch(() => undefined);
    })(),
    5_000,
    'the channel to see the request',
  );
  assert.is(await codeOf(ctx.human.answer(id, { kind: 'structured', value: { city: 'Oslo', nights: 0 } })), WorkerErrorCodes.INVALID_ANSWER);
  assert.is(await codeOf(ctx.human.answer(id, { kind: 'text', text: 'Oslo' })), WorkerErrorCodes.INVALID_ANSWER);
  assert.is((await ctx.human.pending()).length, 1);
  await ctx.human.answer(id, { kind: 'structured', value: { city: 'Oslo', nights: 2 } });
  const s = await settledOf(ctx, id);
  assert.equal(s.outcome, { id, status: 'answered', answer: { kind: 'structured', value: { city: 'Oslo', nights: 2 } }, channel: 'programmatic' });
  assert.equal(s.continuation, { step: 3 });
  assert.is(s.request.workerName, 'ada');
  assert.is(await codeOf(ctx.human.answer(id, { kind: 'structured', value: { city: 'Rome', nights: 1 } })), WorkerErrorCodes.HUMAN_REQUEST_CLOSED);
  assert.is(await codeOf(ctx.human.answer('hr-nope', { kind: 'confirm', confirmed: true })), WorkerErrorCodes.HUMAN_REQUEST_NOT_FOUND);
  await detach();
});

test('an approval can be edited (checked against the tool schema) or rejected with a reason', async (ctx) => {
  const detach = await ctx.human.onRequest(() => undefined);
  const schema = z.toJSONSchema(z.object({ amount: z.number().max(100) }));
  const q = { kind: 'approval' as const, prompt: 'Refund?', tool: 'refund', arguments: { amount: 500 }, schema };
  const a = await open(ctx, spec(q));
  assert.is(await codeOf(ctx.human.answer(a, { kind: 'approval', decision: 'edit', arguments: { amount: 250 } })), WorkerErrorCodes.INVALID_ANSWER);
  await ctx.human.answer(a, { kind: 'approval', decision: 'edit', arguments: { amount: 100 } });
  assert.equal((await settledOf(ctx, a)).outcome, { id: a, status: 'answered', channel: 'programmatic', answer: { kind: 'approval', decision: 'edit', arguments: { amount: 100 } } });
  const b = await open(ctx, spec(q));
  assert.is(await codeOf(ctx.human.answer(b, { kind: 'approval', decision: 'reject', reason: '  ' })), WorkerErrorCodes.INVALID_ANSWER);
  await ctx.human.answer(b, { kind: 'approval', decision: 'reject', reason: 'too much' });
  assert.equal((await settledOf(ctx, b)).outcome, { id: b, status: 'answered', channel: 'programmatic', answer: { kind: 'approval', decision: 'reject', reason: 'too much' } });
  await detach();
});

test('a channel attached but nobody answering: the deadline applies the stated default', async (ctx) => {
  const detach = await ctx.human.onRequest(() => undefined);
  const settled = waitForEvent(ctx.system.events, 'human-request-settled', () => true, 5_000);
  const id = await open(ctx, spec({ kind: 'choice', prompt: 'Which?', options: ['a', 'b'] }, { timeoutMs: 30, onTimeout: { kind: 'answer', answer: { kind: 'choice', choice: 'b' } } }));
  await settled;
  assert.equal((await settledOf(ctx, id)).outcome, { id, status: 'timed-out', applied: 'answer', noChannel: false, answer: { kind: 'choice', choice: 'b' } });
  await detach();
});

test('the outcome reaches the asker even if it restarted while the request was open', async (ctx) => {
  const detach = await ctx.human.onRequest(() => undefined);
  const id = await open(ctx, spec({ kind: 'confirm', prompt: 'Deploy?' }), { resumeAt: 'deploy-step' });
  const restarted = waitForEvent(ctx.system.events, 'actor-restarted', (e) => e.ref.id === ctx.sink.id, 5_000);
  ctx.system.tell(ctx.sink, { type: 'crash' });
  await restarted;
  await ctx.human.answer(id, { kind: 'confirm', confirmed: true });
  const s = await settledOf(ctx, id);
  assert.equal(s.outcome, { id, status: 'answered', channel: 'programmatic', answer: { kind: 'confirm', confirmed: true } });
  assert.equal(s.continuation, { resumeAt: 'deploy-step' });
  await detach();
});

test('an asker that stops for good has its open requests withdrawn (cancelled, not delivered); a restart keeps them', async (ctx) => {
  const detach = await ctx.human.onRequest(() => undefined);
  const first = await open(ctx, spec({ kind: 'confirm', prompt: 'Deploy?' }));
  const second = await open(ctx, spec({ kind: 'text', prompt: 'Why?' }));
  const restarted = waitForEvent(ctx.system.events, 'actor-restarted', (e) => e.ref.id === ctx.sink.id, 5_000);
  ctx.system.tell(ctx.sink, { type: 'crash' });
  await restarted;
  assert.equal((await ctx.human.pending()).map((r) => r.id), [first, second]);
  const withdrawn = waitForEvents(ctx.system.events, 'human-request-settled', 2, (e) => e.outcome.status === 'cancelled', 5_000);
  await ctx.system.stop(ctx.sink);
  const events = await withdrawn;
  assert.equal(events.map((e) => e.request.id).sort(), [first, second].sort());
  for (const e of events) assert.match(e.outcome.status === 'cancelled' ? e.outcome.reason : '', `the asker ${ctx.sink.path} stopped`);
  assert.equal(await ctx.human.pending(), []);
  assert.is(await codeOf(ctx.human.answer(first, { kind: 'confirm', confirmed: true })), WorkerErrorCodes.HUMAN_REQUEST_CLOSED);
  await detach();
});

test("an actor can just ask and wait: the broker answers the ask with the outcome when it settles", async (ctx) => {
  const detach = await ctx.human.onRequest(() => undefined);
  const opened = waitForEvent(ctx.system.events, 'human-request-opened', () => true, 5_000);
  const outcome = ctx.system.ask(ctx.human.broker, { type: 'ask', spec: spec({ kind: 'text', prompt: 'Ticket title?', maxLength: 40 }) }, { timeoutMs: 10_000 });
  const { request } = await opened;
  // The broker keeps serving while that ask is open.
  assert.is((await ctx.human.pending()).length, 1);
  await ctx.human.answer(request.id, { kind: 'text', text: '  Checkout is down  ' });
  assert.equal(await outcome, { id: request.id, status: 'answered', channel: 'programmatic', answer: { kind: 'text', text: 'Checkout is down' } });
  await detach();
});

test('bad requests get typed errors', async (ctx) => {
  assert.is(await codeOf(open(ctx, spec({ kind: 'choice', prompt: 'x', options: ['only'] }))), 'APIARY_ERR_INVALID_ARGUMENT');
  assert.is(await codeOf(open(ctx, spec({ kind: 'text', prompt: 'x' }, { onTimeout: { kind: 'deny' } }))), 'APIARY_ERR_INVALID_ARGUMENT');
  assert.is(await codeOf(open(ctx, spec({ kind: 'confirm', prompt: '' }))), 'APIARY_ERR_INVALID_ARGUMENT');
  assert.is(await codeOf(open(ctx, spec({ kind: 'choice', prompt: 'x', options: ['a', 'b'] }, { onTimeout: { kind: 'answer', answer: { kind: 'choice', choice: 'c' } } }))), 'APIARY_ERR_INVALID_ARGUMENT');
});

test('the README error table lists exactly the worker codes', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const documented = [...readme.matchAll(/\|\s*`(APIARY_ERR_(?:HUMAN|INVALID_ANSWER)[A-Z_]*)`\s*\|/g)].map((m) => m[1]!);
  assert.equal(documented.sort(), Object.values(WorkerErrorCodes).sort());
});

test.run();
