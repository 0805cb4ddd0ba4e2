import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import { z } from 'zod';
import * as assert from 'uvu/assert';
import { MockOpenAIServer } from '@apiary/mock-openai';
import { ErrorCodes } from '@apiary/runtime';
import { AgentErrorCodes, ModelClient, type ModelEvent } from '../src/index.ts';

const test = suite<{ server: MockOpenAIServer }>('model client', {} as { server: MockOpenAIServer });

test.before(async (ctx) => {
  ctx.server = await MockOpenAIServer.start();
});
test.after.each(({ server }) => server.clearRules());
test.after(async ({ server }) => server.close());

const fast = { minDelayMs: 5, maxDelayMs: 20, jitter: 0 };
const client = (server: MockOpenAIServer, extra: Partial<ConstructorParameters<typeof ModelClient>[0]> = {}) =>
  new ModelClient({ model: 'apiary-mock', baseURL: server.baseURL, retry: fast, timeoutMs: 2_000, ...extra });

const add = {
  type: 'function' as const,
  function: { name: 'add', description: 'adds', parameters: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] } },
};

test('a completion returns content, usage and cost from the price table', async ({ server }) => {
  const r = await client(server).complete({ messages: [{ role: 'user', content: 'hi there' }] });
  assert.is(r.content, 'Echo: hi there');
  assert.is(r.attempts, 1);
  assert.is(r.usage.priced, true);
  assert.is(r.usage.estimated, false);
  assert.ok(r.usage.costUsd > 0);
  assert.is(r.usage.totalTokens, r.usage.promptTokens + r.usage.completionTokens);
  assert.equal(r.message, { role: 'assistant', content: 'Echo: hi there' });
});

test('tool calls come back as requests with raw argument text', async ({ server }) => {
  const r = await client(server).complete({ messages: [{ role: 'user', content: 'add 3 and 4' }], tools: [add] });
  assert.is(r.finishReason, 'tool_calls');
  assert.is(r.toolCalls[0]?.name, 'add');
  assert.equal(JSON.parse(r.toolCalls[0]!.arguments), { a: 3, b: 4 });
  assert.is(r.message.tool_calls?.length, 1);
});

test('streaming emits token events and assembles the same answer, with the server usage', async ({ server }) => {
  const events: ModelEvent[] = [];
  const r = await client(server).complete({ messages: [{ role: 'user', content: 'one two three four' }], stream: true, onEvent: (e) => events.push(e) });
  const tokens = events.filter((e) => e.type === 'token').map((e) => (e as { delta: string }).delta);
  assert.ok(tokens.length >= 4);
  assert.is(tokens.join(''), 'Echo: one two three four');
  assert.is(r.content, 'Echo: one two three four');
  assert.is(r.usage.estimated, false);
  const withTools = await client(server).complete({ messages: [{ role: 'user', content: 'add 1 and 2' }], tools: [add], stream: true });
  assert.equal(JSON.parse(withTools.toolCalls[0]!.arguments), { a: 1, b: 2 });
});

test('429s are retried, waiting at least the Retry-After the server asked for', async ({ server }) => {
  server.inject({ type: 'rate-limit', retryAfterSeconds: 0.1 }, 2);
  const events: ModelEvent[] = [];
  const started = performance.now();
  const r = await client(server).complete({ messages: [{ role: 'user', content: 'patience' }], onEvent: (e) => events.push(e) });
  assert.is(r.content, 'Echo: patience');
  assert.is(r.attempts, 3);
  const retries = events.filter((e) => e.type === 'retry');
  assert.is(retries.length, 2);
  assert.ok(retries.every((e) => e.type === 'retry' && e.delayMs >= 100 && e.status === 429));
  assert.ok(performance.now() - started >= 200);
});

test('when the primary model keeps failing, the fallback answers', async ({ server }) => {
  server.inject({ type: 'server-error', status: 503 }, 100, { model: 'primary' });
  const events: ModelEvent[] = [];
  const r = await client(server, { model: 'primary', fallbackModels: ['apiary-mock'], retry: { ...fast, maxRetries: 1 } }).complete({
    messages: [{ role: 'user', content: 'anyone?' }],
    onEvent: (e) => events.push(e),
  });
  assert.is(r.model, 'apiary-mock');
  assert.is(r.attempts, 3); // two on primary, one on the fallback
  const fallbacks = events.filter((e) => e.type === 'fallback');
  assert.is(fallbacks.length, 1);
  assert.ok(fallbacks[0]!.type === 'fallback' && fallbacks[0]!.from === 'primary' && fallbacks[0]!.to === 'apiary-mock');
});

test('retries and fallbacks exhausted: ModelUnavailableError listing every attempt, never a partial answer', async ({ server }) => {
  server.inject({ type: 'server-error' }, 100);
  const error = (await client(server, { fallbackModels: ['gpt-4o-mini'], retry: { ...fast, maxRetries: 2 } })
    .complete({ messages: [{ role: 'user', content: 'x' }] })
    .catch((e: unknown) => e)) as { code: string; data: { attempts: { model: string; status: number }[] } };
  assert.is(error.code, AgentErrorCodes.MODEL_UNAVAILABLE);
  assert.is(error.data.attempts.length, 6);
  assert.equal([...new Set(error.data.attempts.map((a) => a.model))], ['apiary-mock', 'gpt-4o-mini']);
  assert.ok(error.data.attempts.every((a) => a.status === 500));
});

test('a hung request times out per attempt and is retried', async ({ server }) => {
  server.inject({ type: 'hang' }, 1);
  const events: ModelEvent[] = [];
  const r = await client(server, { timeoutMs: 150 }).complete({ messages: [{ role: 'user', content: 'after a hang' }], onEvent: (e) => events.push(e) });
  assert.is(r.content, 'Echo: after a hang');
  assert.is(events.filter((e) => e.type === 'retry').length, 1);
});

test('a stream cut before the end is retried, not returned as a short answer', async ({ server }) => {
  server.inject({ type: 'truncate-stream', afterChunks: 2 }, 1);
  const events: ModelEvent[] = [];
  const r = await client(server).complete({ messages: [{ role: 'user', content: 'a b c d e f' }], stream: true, onEvent: (e) => events.push(e) });
  assert.is(r.content, 'Echo: a b c d e f');
  assert.is(r.attempts, 2);
  assert.is(events.filter((e) => e.type === 'retry').length, 1);
});

test('a Retry-After longer than maxRetryAfterMs moves on to the fallback at once', async ({ server }) => {
  server.inject({ type: 'rate-limit', retryAfterSeconds: 60 }, 1, { model: 'primary' });
  const started = performance.now();
  const r = await client(server, { model: 'primary', fallbackModels: ['apiary-mock'], retry: { ...fast, maxRetryAfterMs: 1_000 } }).complete({
    messages: [{ role: 'user', content: 'quick' }],
  });
  assert.is(r.model, 'apiary-mock');
  assert.ok(performance.now() - started < 1_000);
});

test('a request the server refuses fails at once with ModelRejectedError', async () => {
  const locked = await MockOpenAIServer.start({ apiKey: 'right' });
  try {
    const error = (await new ModelClient({ model: 'apiary-mock', baseURL: locked.baseURL, apiKey: 'wrong', retry: fast })
      .complete({ messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e)) as { code: string; data: { status: number } };
    assert.is(error.code, AgentErrorCodes.MODEL_REJECTED);
    assert.is(error.data.status, 401);
    assert.is(locked.stats.chatCompletions, 0); // rejected before the handler: no retries either
  } finally {
    await locked.close();
  }
});

test('an abort signal stops a call, even while it waits to retry', async ({ server }) => {
  server.inject({ type: 'rate-limit', retryAfterSeconds: 5 }, 1);
  const controller = new AbortController();
  const pending = client(server, { retry: { ...fast, maxRetryAfterMs: 10_000 } }).complete({ messages: [{ role: 'user', content: 'x' }], signal: controller.signal });
  setImmediate(() => controller.abort(new Error('cancelled by the test')));
  const started = performance.now();
  const error = await pending.catch((e: unknown) => e);
  assert.instance(error, Error);
  assert.ok(performance.now() - started < 2_000);
});

test('structured output: JSON by schema is parsed and validated; a non-JSON answer is a ModelOutputError', async ({ server }) => {
  const schema = z.object({ score: z.number(), label: z.string() });
  const { value } = await client(server).completeJson({ messages: [{ role: 'user', content: 'rate it 9' }] }, schema, 'rating');
  assert.equal(value, { score: 9, label: 'rate it 9' });
  server.inject({ type: 'invalid-json-content' });
  const error = (await client(server).completeJson({ messages: [{ role: 'user', content: 'x' }] }, schema).catch((e: unknown) => e)) as { code: string; name: string };
  assert.is(error.code, AgentErrorCodes.MODEL_OUTPUT);
  assert.is(error.name, 'ModelOutputError');
  server.addRule({ reply: { kind: 'text', text: '{"score":"high"}' }, times: 1 });
  const misfit = (await client(server).completeJson({ messages: [{ role: 'user', content: 'x' }] }, schema).catch((e: unknown) => e)) as { code: string };
  assert.is(misfit.code, AgentErrorCodes.MODEL_OUTPUT);
});

test('the README error table lists exactly the runtime and agent codes (memory and worker check their own)', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const memory = /^APIARY_ERR_(MEMORY|EMBEDD|HUMAN|INVALID_ANSWER)/; // checked by the memory and worker packages
  const documented = new Set([...readme.matchAll(/\|\s*`(APIARY_ERR_[A-Z_]+)`\s*\|/g)].map((m) => m[1]!).filter((code) => !memory.test(code)));
  const defined = new Set<string>([...Object.values(ErrorCodes), ...Object.values(AgentErrorCodes)]);
  assert.equal([...documented].sort(), [...defined].sort());
});

test('bad options are rejected with InvalidArgumentError', () => {
  assert.throws(() => new ModelClient({ model: '' }), (e: { code: string }) => e.code === ErrorCodes.INVALID_ARGUMENT);
  assert.throws(
    () => new ModelClient({ model: 'x', baseURL: 'https://api.example.invalid/v1', apiKey: undefined, retry: { maxRetries: -1 } }),
    (e: { code: string }) => e.code === ErrorCodes.INVALID_ARGUMENT,
  );
});

test.run();
