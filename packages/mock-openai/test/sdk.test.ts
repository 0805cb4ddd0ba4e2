import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import OpenAI from 'openai';
import { MockOpenAIServer } from '../src/index.ts';

const test = suite<{ server: MockOpenAIServer; client: OpenAI }>('mock-openai with the official SDK', {} as { server: MockOpenAIServer; client: OpenAI });

test.before(async (ctx) => {
  ctx.server = await MockOpenAIServer.start();
  ctx.client = new OpenAI({ apiKey: 'test-key', baseURL: ctx.server.baseURL, maxRetries: 0, timeout: 5_000 });
});

test.after.each(({ server }) => server.clearRules());

test.after(async ({ server }) => {
  await server.close();
});

const addTool = {
  type: 'function' as const,
  function: {
    name: 'add',
    description: 'adds two numbers',
    parameters: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] },
  },
};

test('a plain completion answers deterministically with usage', async ({ client }) => {
  const r = await client.chat.completions.create({ model: 'apiary-mock', messages: [{ role: 'user', content: 'hello there' }] });
  assert.is(r.choices[0]?.message.content, 'Echo: hello there');
  assert.is(r.choices[0]?.finish_reason, 'stop');
  assert.ok((r.usage?.prompt_tokens ?? 0) > 0);
  assert.is(r.usage?.total_tokens, (r.usage?.prompt_tokens ?? 0) + (r.usage?.completion_tokens ?? 0));
});

test('with tools, the default behaviour calls the named tool with arguments from the text, then answers from the result', async ({ client }) => {
  const first = await client.chat.completions.create({
    model: 'apiary-mock',
    messages: [{ role: 'user', content: 'please add 2 and 40' }],
    tools: [addTool],
  });
  const call = first.choices[0]?.message.tool_calls?.[0];
  assert.is(first.choices[0]?.finish_reason, 'tool_calls');
  assert.ok(call !== undefined && call.type === 'function');
  assert.is(call.function.name, 'add');
  assert.equal(JSON.parse(call.function.arguments), { a: 2, b: 40 });
  const second = await client.chat.completions.create({
    model: 'apiary-mock',
    messages: [
      { role: 'user', content: 'please add 2 and 40' },
      first.choices[0]!.message,
      { role: 'tool', tool_call_id: call.id, content: '42' },
    ],
    tools: [addTool],
  });
  assert.is(second.choices[0]?.message.content, 'Based on 1 tool result: 42');
});

test('the SDK streaming helper assembles streamed text, tool calls and usage', async ({ client }) => {
  const deltas: string[] = [];
  const stream = client.chat.completions.stream({
    model: 'apiary-mock',
    messages: [{ role: 'user', content: 'stream me some words' }],
    stream_options: { include_usage: true },
  });
  stream.on('content', (delta) => deltas.push(delta));
  const final = await stream.finalChatCompletion();
  assert.is(final.choices[0]?.message.content, 'Echo: stream me some words');
  assert.ok(deltas.length > 3, 'several deltas');
  assert.is(deltas.join(''), 'Echo: stream me some words');
  assert.ok((final.usage?.completion_tokens ?? 0) > 0);

  const toolStream = client.chat.completions.stream({ model: 'apiary-mock', messages: [{ role: 'user', content: 'add 1 and 2' }], tools: [addTool] });
  const withTool = await toolStream.finalChatCompletion();
  const call = withTool.choices[0]?.message.tool_calls?.[0];
  assert.ok(call !== undefined && call.type === 'function');
  assert.equal(JSON.parse(call.function.arguments), { a: 1, b: 2 });
});

test('structured output by JSON schema parses with the SDK', async ({ client }) => {
  const r = await client.chat.completions.parse({
    model: 'apiary-mock',
    messages: [{ role: 'user', content: 'rate 7 things' }],
    response_format: {
      type: 'json_schema',
      json_schema: { name: 'rating', strict: true, schema: { type: 'object', properties: { score: { type: 'number' }, label: { type: 'string' } }, required: ['score', 'label'], additionalProperties: false } },
    },
  });
  assert.equal(r.choices[0]?.message.parsed, { score: 7, label: 'rate 7 things' });
});

test('scripted rules answer matching requests, in order, for a limited number of times', async ({ server, client }) => {
  server.addRule({ when: { lastUserIncludes: 'weather' }, reply: { kind: 'text', text: 'sunny' }, times: 1 });
  server.addRule({ when: { lastUserIncludes: /weather/ }, reply: () => ({ kind: 'text', text: 'rainy' }) });
  const ask = async (text: string) => (await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: text }] })).choices[0]?.message.content;
  assert.is(await ask('weather today?'), 'sunny');
  assert.is(await ask('weather tomorrow?'), 'rainy');
  assert.is(await ask('something else'), 'Echo: something else');
});

test('embeddings: float and base64 (the SDK default) decode to the same normalised vectors', async ({ client }) => {
  const viaSdk = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['the cat sat', 'the cat sat on the mat'], dimensions: 64 });
  assert.is(viaSdk.data.length, 2);
  const v = viaSdk.data[0]!.embedding;
  assert.is(v.length, 64);
  assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5);
  const asFloat = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'the cat sat', dimensions: 64, encoding_format: 'float' });
  assert.ok(asFloat.data[0]!.embedding.every((x, i) => Math.abs(x - v[i]!) < 1e-6));
  const dot = v.reduce((s, x, i) => s + x * viaSdk.data[1]!.embedding[i]!, 0);
  assert.ok(dot > 0.5, `similar texts are near (${dot})`);
});

test('models are listed and retrievable', async ({ client }) => {
  const ids: string[] = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.ok(ids.includes('apiary-mock'));
  assert.is((await client.models.retrieve('gpt-4o-mini')).id, 'gpt-4o-mini');
});

test('a 429 with Retry-After is retried by the SDK after the advertised delay', async ({ server }) => {
  const client = new OpenAI({ apiKey: 'k', baseURL: server.baseURL, maxRetries: 2 });
  server.inject({ type: 'rate-limit', retryAfterSeconds: 0.2 }, 1);
  const started = performance.now();
  const r = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'after the limit' }] });
  assert.is(r.choices[0]?.message.content, 'Echo: after the limit');
  assert.ok(performance.now() - started >= 150, 'waited for Retry-After');
  const noRetry = await new OpenAI({ apiKey: 'k', baseURL: server.baseURL, maxRetries: 0 }).chat.completions
    .create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })
    .then(() => 'ok', (e: unknown) => e);
  assert.is(noRetry, 'ok');
  server.inject({ type: 'rate-limit' }, 1);
  const limited = await new OpenAI({ apiKey: 'k', baseURL: server.baseURL, maxRetries: 0 }).chat.completions
    .create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })
    .catch((e: unknown) => e);
  assert.instance(limited, OpenAI.RateLimitError);
});

test('a 500 surfaces as InternalServerError', async ({ server, client }) => {
  server.inject({ type: 'server-error' });
  const error = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
  assert.instance(error, OpenAI.InternalServerError);
  assert.is((error as { status: number }).status, 500);
});

test('a hung request ends in the SDK timeout; closing the server cuts it', async ({ server }) => {
  server.inject({ type: 'hang' });
  const client = new OpenAI({ apiKey: 'k', baseURL: server.baseURL, maxRetries: 0, timeout: 200 });
  const error = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
  assert.instance(error, OpenAI.APIConnectionTimeoutError);
});

test('a truncated stream fails the SDK stream instead of yielding a partial answer as complete', async ({ server, client }) => {
  server.inject({ type: 'truncate-stream', afterChunks: 3 });
  const stream = client.chat.completions.stream({ model: 'm', messages: [{ role: 'user', content: 'a long enough answer to cut' }] });
  const error = await stream.finalChatCompletion().catch((e: unknown) => e);
  assert.instance(error, Error);
});

test('malformed tool-call arguments and non-JSON content arrive as the model sent them', async ({ server, client }) => {
  server.inject({ type: 'malformed-tool-args' });
  const r = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'add 1 2' }], tools: [addTool] });
  const call = r.choices[0]?.message.tool_calls?.[0];
  assert.ok(call !== undefined && call.type === 'function');
  assert.throws(() => JSON.parse(call.function.arguments));
  server.inject({ type: 'invalid-json-content' });
  const j = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'json please' }], response_format: { type: 'json_object' } });
  assert.throws(() => JSON.parse(j.choices[0]?.message.content ?? ''));
});

test('bad requests get OpenAI-style errors', async ({ server, client }) => {
  const missing = await client.chat.completions.create({ model: 'm', messages: [] }).catch((e: unknown) => e);
  assert.instance(missing, OpenAI.BadRequestError);
  const raw = await fetch(`${server.baseURL}/chat/completions`, { method: 'POST', body: '{not json', headers: { 'content-type': 'application/json' } });
  assert.is(raw.status, 400);
  const body = (await raw.json()) as { error: { code: string } };
  assert.is(body.error.code, 'invalid_request_error');
  assert.is((await fetch(`${server.baseURL}/nope`)).status, 404);
});

test('an API key can be required', async () => {
  const server = await MockOpenAIServer.start({ apiKey: 'secret' });
  try {
    const wrong = await new OpenAI({ apiKey: 'nope', baseURL: server.baseURL, maxRetries: 0 }).models.list().catch((e: unknown) => e);
    assert.instance(wrong, OpenAI.AuthenticationError);
    const right = await new OpenAI({ apiKey: 'secret', baseURL: server.baseURL, maxRetries: 0 }).models.retrieve('apiary-mock');
    assert.is(right.id, 'apiary-mock');
  } finally {
    await server.close();
  }
});

test('latency injection delays answers by the configured amount', async () => {
  const server = await MockOpenAIServer.start({ latency: { fixedMs: 80 } });
  try {
    const client = new OpenAI({ apiKey: 'k', baseURL: server.baseURL, maxRetries: 0 });
    const t0 = performance.now();
    await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'slow' }] });
    assert.ok(performance.now() - t0 >= 75);
    const bad = await MockOpenAIServer.start({ latency: { fixedMs: -1 } }).catch((e: unknown) => e);
    assert.instance(bad, RangeError);
  } finally {
    await server.close();
  }
});

test.run();
