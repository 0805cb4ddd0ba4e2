import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MockOpenAIServer, embed as mockEmbed, type EmbeddingsRequest } from '@apiary/mock-openai';
import { ErrorCodes, deserializeError, serializeError } from '@apiary/runtime';
import { eventually } from '@apiary/testkit';
import { EmbedderErrorCodes, EmbeddingDimensionError, EmbedderUnavailableError, type EmbedderAttempt } from '../src/embedder-errors.ts';
import { checkEmbeddings } from '../src/embedders.ts';
import { DEFAULT_HASH_DIMENSIONS, HashEmbedder } from '../src/hash-embedder.ts';
import { OpenAIEmbedder, type OpenAIEmbedderOptions } from '../src/openai-embedder.ts';

const dot = (a: Float32Array, b: Float32Array): number => a.reduce((s, x, i) => s + x * b[i]!, 0);
const norm = (a: Float32Array): number => Math.sqrt(dot(a, a));
const digest = (v: Float32Array): string => createHash('sha256').update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)).digest('hex');

type Failure = Error & { code?: string; data?: Record<string, unknown> };
/** Awaits a rejection and returns it; a promise that resolves fails the test. */
const rejection = (promise: Promise<unknown>): Promise<Failure> =>
  promise.then(
    () => assert.unreachable('expected a rejection'),
    (error: unknown) => error as Failure,
  ) as Promise<Failure>;
const attemptsOf = (error: Failure): EmbedderAttempt[] => error.data?.attempts as EmbedderAttempt[];

/** The `/v1/embeddings` answer as the front sees it, before passing it on. */
type Answer = { data: { index: number; embedding: number[] | string }[] };
type Rewrite = (body: Answer) => unknown;

type Fault =
  | { readonly kind: 'pass' }
  | { readonly kind: 'status'; readonly status: number; readonly headers?: Record<string, string> }
  | { readonly kind: 'hang' }
  | { readonly kind: 'drop' }
  | { readonly kind: 'rewrite'; readonly rewrite: Rewrite };

/**
 * A loopback front for the mock server: the mock injects faults into chat requests only, so this
 * forwards `/v1/embeddings` to it, applying queued faults (one per request) and recording each body.
 */
async function startFront(upstream: string) {
  const faults: Fault[] = [];
  const bodies: EmbeddingsRequest[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
      const text = Buffer.concat(chunks).toString('utf8');
      bodies.push(JSON.parse(text) as EmbeddingsRequest);
      const fault = faults.shift() ?? { kind: 'pass' };
      if (fault.kind === 'hang') return;
      if (fault.kind === 'drop') return void req.socket.destroy();
      if (fault.kind === 'status') {
        res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
        return void res.end(JSON.stringify({ error: { message: `injected ${fault.status}`, type: 'server_error', param: null, code: null } }));
      }
      const answer = await fetch(`${upstream}${req.url ?? ''}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
      const body = (await answer.json()) as Answer;
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(fault.kind === 'rewrite' ? fault.rewrite(body) : body));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    faults,
    bodies,
    baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    reset: (): void => {
      faults.length = 0;
      bodies.length = 0;
    },
    close: (): Promise<void> =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // hung requests included
      }),
  };
}

let mock: MockOpenAIServer;
let front: Awaited<ReturnType<typeof startFront>>;

test.before(async () => {
  mock = await MockOpenAIServer.start();
  front = await startFront(mock.url);
});
test.before.each(() => front.reset());
test.after(async () => {
  await front.close();
  await mock.close();
});

/** Fast retries and a bounded per-attempt timeout, so no test waits on real backoff. */
const openai = (extra: Partial<OpenAIEmbedderOptions> = {}): OpenAIEmbedder =>
  new OpenAIEmbedder({ baseURL: front.baseURL, dimensions: 1536, retryDelayMs: 1, maxRetryDelayMs: 5, timeoutMs: 2_000, ...extra });

const texts = (n: number): string[] => Array.from({ length: n }, (_, i) => `memory note number ${i} about topic ${i % 7}`);

// ---------- HashEmbedder ----------

test('hash: deterministic across calls, instances and a pinned digest', async () => {
  const a = await new HashEmbedder().embed(['The quick brown fox', 'jumps over the lazy dog']);
  const b = await new HashEmbedder().embed(['The quick brown fox', 'jumps over the lazy dog']);
  assert.equal(a.map(digest), b.map(digest));
  // Pinned: a change here means stored vectors would change, so `name` must get a new version.
  assert.is(digest(a[0]!), 'f55d22da8129bcffc06b8b7a23806411cbfadda3b4ae4dcee11f192be711dc7b');
});

test('hash: the same vectors on a worker thread', async () => {
  const sample = ['Ünïcödé ﬁle 🐝 bees', 'plain ascii text'];
  const url = new URL('../src/hash-embedder.ts', import.meta.url).href;
  // A Node 20 worker ignores the parent's `--import tsx` for TypeScript imports, so it registers tsx itself.
  const tsx = import.meta.resolve('tsx/esm/api');
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     (async () => {
       (await import(workerData.tsx)).register();
       const m = await import(workerData.url);
       parentPort.postMessage(await new m.HashEmbedder({ dimensions: 128 }).embed(workerData.sample));
     })();`,
    { eval: true, workerData: { url, tsx, sample } },
  );
  const fromWorker = await new Promise<Float32Array[]>((resolve, reject) => worker.once('message', resolve).once('error', reject));
  await worker.terminate();
  const here = await new HashEmbedder({ dimensions: 128 }).embed(sample);
  assert.equal(fromWorker.map(digest), here.map(digest));
});

test('hash: unit length, and case, whitespace and Unicode forms do not matter', async () => {
  const vectors = await new HashEmbedder().embed(['a', '🐝', 'x'.repeat(10_000), 'Hello   World', ' hello world\n', 'ﬁle café', 'file cafe\u0301']);
  for (const v of vectors) {
    assert.is(v.length, DEFAULT_HASH_DIMENSIONS);
    assert.ok(Math.abs(norm(v) - 1) < 1e-5, `norm ${norm(v)}`);
  }
  assert.is(digest(vectors[3]!), digest(vectors[4]!));
  assert.is(digest(vectors[5]!), digest(vectors[6]!));
});

test('hash: texts sharing wording score higher than unrelated ones', async () => {
  const sample = ['the cat sat on the mat', 'a cat sat on a mat', 'on the mat the cat sat', 'quarterly revenue report for investors', 'kubernetes pod scheduling latency'];
  const [query, ...others] = await new HashEmbedder().embed(sample);
  const scores = others.map((v) => dot(query!, v)); // measured: 0.63, 0.96, -0.08, 0.06
  assert.ok(scores[0]! > 0.5 && scores[1]! > 0.5 && scores[2]! < 0.25 && scores[3]! < 0.25, String(scores));
});

test('hash: dimensions option; empty text refused; no texts give no vectors; abort honoured', async () => {
  assert.is(new HashEmbedder().dimensions, 384);
  const [v] = await new HashEmbedder({ dimensions: 64 }).embed(['sixty four']);
  assert.is(v!.length, 64);
  assert.ok(Math.abs(norm(v!) - 1) < 1e-5);
  for (const dimensions of [0, 1.5, 70_000, Number.NaN]) {
    assert.throws(() => new HashEmbedder({ dimensions }), (e: Failure) => e.code === ErrorCodes.INVALID_ARGUMENT);
  }
  const e = new HashEmbedder();
  const error = await rejection(e.embed(['fine', '  \n\t ']));
  assert.is(error.code, ErrorCodes.INVALID_ARGUMENT);
  assert.is(error.data?.field, 'texts[1]');
  assert.is((await rejection(e.embed(['']))).code, ErrorCodes.INVALID_ARGUMENT);
  assert.equal(await e.embed([]), []);
  const reason = new Error('stop');
  assert.is(await rejection(e.embed(['x'], { signal: AbortSignal.abort(reason) })), reason);
});

test('hash: a long call yields to the event loop and stops when aborted', async () => {
  const reason = new Error('enough');
  const controller = new AbortController();
  let ticked = false;
  setTimeout(() => {
    ticked = true;
    controller.abort(reason);
  }, 0);
  // The timer can only fire at a yield, and a call that ran to the end would resolve: rejecting with
  // the reason proves both the yield and the early stop, without timing assertions.
  assert.is(await rejection(new HashEmbedder().embed(texts(20_000), { signal: controller.signal })), reason);
  assert.ok(ticked);
});

// ---------- checkEmbeddings and the errors ----------

test('checkEmbeddings: wrong length, non-finite values and wrong counts are typed errors', () => {
  const spec = { name: 'test', dimensions: 3 };
  checkEmbeddings(spec, [new Float32Array(3)], 1);
  assert.throws(() => checkEmbeddings(spec, [new Float32Array(3), new Float32Array(2)], 2, 10), (e: EmbeddingDimensionError) =>
    e instanceof EmbeddingDimensionError && e.code === EmbedderErrorCodes.EMBEDDING_DIMENSION && e.data.expected === 3 && e.data.actual === 2 && e.data.index === 11,
  );
  assert.throws(() => checkEmbeddings(spec, [Float32Array.of(0, Number.NaN, 0)]), (e: Failure) => e.code === EmbedderErrorCodes.EMBEDDER_OUTPUT);
  assert.throws(() => checkEmbeddings(spec, [], 1), (e: Failure) => e.code === EmbedderErrorCodes.EMBEDDER_OUTPUT);
});

test('embedder errors survive crossing a thread as data', () => {
  const attempts: EmbedderAttempt[] = [{ attempt: 1, error: 'boom', status: 503, retryAfterMs: null }];
  const back = deserializeError(structuredClone(serializeError(new EmbedderUnavailableError('openai:x', attempts, new Error('boom')))));
  assert.instance(back, EmbedderUnavailableError);
  assert.is((back as EmbedderUnavailableError).code, EmbedderErrorCodes.EMBEDDER_UNAVAILABLE);
  assert.equal((back as EmbedderUnavailableError).data.attempts, attempts);
  const dim = deserializeError(serializeError(new EmbeddingDimensionError('hash', 4, 5, 0)));
  assert.instance(dim, EmbeddingDimensionError);
  assert.is((dim as EmbeddingDimensionError).data.actual, 5);
});

// ---------- OpenAIEmbedder against the mock server ----------

test('openai: base64 (default) and float answers decode to the exact server vectors', async () => {
  const input = ['first text', 'second text'];
  const expected = input.map((t) => digest(mockEmbed(t, 1536)));
  assert.equal((await openai().embed(input)).map(digest), expected);
  assert.equal((await openai({ encodingFormat: 'float' }).embed(input)).map(digest), expected);
  assert.equal(front.bodies.map((b) => b.encoding_format), ['base64', 'float']);
});

test('openai: 600 inputs with batchSize 256 make 3 requests, results in input order', async () => {
  const before = mock.stats.embeddings;
  const input = texts(600);
  const e = openai({ batchSize: 256, dimensions: 64, sendDimensions: true });
  const vectors = await e.embed(input);
  assert.is(mock.stats.embeddings - before, 3);
  assert.equal(front.bodies.map((b) => (b.input as string[]).length), [256, 256, 88]);
  assert.equal(vectors.map(digest), input.map((t) => digest(mockEmbed(t, 64))));
  assert.equal(e.usage.requests, 3);
  assert.ok(e.usage.promptTokens > 0);
});

test('openai: vectors are placed by the index the server returns, with concurrent batches too', async () => {
  const input = texts(40);
  const reverse: Fault = { kind: 'rewrite', rewrite: (body) => ({ ...body, data: [...body.data].reverse() }) };
  front.faults.push(reverse, reverse, reverse, reverse);
  const vectors = await openai({ batchSize: 10, concurrency: 3, dimensions: 32, sendDimensions: true }).embed(input);
  assert.is(front.bodies.length, 4);
  assert.equal(vectors.map(digest), input.map((t) => digest(mockEmbed(t, 32))));
});

test('openai: dimensions is sent only with sendDimensions; a size mismatch is EmbeddingDimensionError', async () => {
  const [v] = await openai({ dimensions: 256, sendDimensions: true }).embed(['short vectors']);
  assert.is(v!.length, 256);
  assert.is(front.bodies[0]!.dimensions, 256);
  const error = await rejection(openai({ dimensions: 256 }).embed(['native size']));
  assert.is(front.bodies[1]!.dimensions, undefined);
  assert.instance(error, EmbeddingDimensionError);
  assert.equal(error.data, { embedder: 'openai:text-embedding-3-small', expected: 256, actual: 1536, index: 0 });
  assert.is(front.bodies.length, 2, 'not retried');
});

test('openai: one short vector in the second batch names its input', async () => {
  front.faults.push({ kind: 'pass' }, { kind: 'rewrite', rewrite: (body) => (body.data[3]!.embedding = (body.data[3]!.embedding as number[]).slice(1), body) });
  const error = await rejection(openai({ batchSize: 4, encodingFormat: 'float' }).embed(texts(8)));
  assert.is(error.code, EmbedderErrorCodes.EMBEDDING_DIMENSION);
  assert.equal([error.data?.expected, error.data?.actual, error.data?.index], [1536, 1535, 7]);
});

test('openai: NaN, missing vectors and repeated indexes are EmbedderOutputError, not retried', async () => {
  const nan = Buffer.from(Float32Array.of(Number.NaN, ...new Array<number>(1535).fill(0)).buffer).toString('base64');
  const rewrites: Rewrite[] = [
    (body) => (body.data[1]!.embedding = nan, body),
    (body) => ({ ...body, data: body.data.slice(1) }),
    (body) => ({ ...body, data: body.data.map((d) => ({ ...d, index: 0 })) }),
    (body) => (body.data[0]!.embedding = 'not base64!', body),
  ];
  for (const rewrite of rewrites) {
    front.reset();
    front.faults.push({ kind: 'rewrite', rewrite });
    const error = await rejection(openai().embed(['one', 'two']));
    assert.is(error.code, EmbedderErrorCodes.EMBEDDER_OUTPUT, error.message);
    assert.is(front.bodies.length, 1);
  }
});

test('openai: 429s are retried, waiting at least what Retry-After asks, unless it asks too much', async () => {
  front.faults.push({ kind: 'status', status: 429, headers: { 'retry-after': '0.2' } }, { kind: 'status', status: 429, headers: { 'retry-after-ms': '200' } });
  const e = openai();
  const started = performance.now();
  const [v] = await e.embed(['rate limited']);
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 390, `waited only ${elapsed} ms`);
  assert.is(digest(v!), digest(mockEmbed('rate limited', 1536)));
  assert.equal(e.usage, { requests: 3, retries: 2, promptTokens: e.usage.promptTokens });
  // A Retry-After beyond maxRetryAfterMs is not waited for.
  front.faults.push({ kind: 'status', status: 429, headers: { 'retry-after': '3600' } });
  const error = await rejection(e.embed(['later']));
  assert.instance(error, EmbedderUnavailableError);
  assert.equal(attemptsOf(error).map((a) => [a.attempt, a.status, a.retryAfterMs]), [[1, 429, 3_600_000]]);
  assert.is(front.bodies.length, 4);
});

test('openai: 5xx and dropped connections are retried; then EmbedderUnavailableError', async () => {
  front.faults.push({ kind: 'status', status: 500 }, { kind: 'drop' }, { kind: 'status', status: 503 });
  const [v] = await openai().embed(['eventually']);
  assert.is(digest(v!), digest(mockEmbed('eventually', 1536)));
  assert.is(front.bodies.length, 4);
  // 500 on every attempt: EmbedderUnavailableError listing each of the 1 + maxRetries attempts.
  front.reset();
  for (let i = 0; i < 10; i++) front.faults.push({ kind: 'status', status: 500 });
  const error = await rejection(openai({ maxRetries: 3 }).embed(['down']));
  assert.instance(error, EmbedderUnavailableError);
  assert.is(error.code, EmbedderErrorCodes.EMBEDDER_UNAVAILABLE);
  assert.equal(attemptsOf(error).map((a) => [a.attempt, a.status]), [[1, 500], [2, 500], [3, 500], [4, 500]]);
  assert.is(front.bodies.length, 4);
});

test('openai: a hung request times out per attempt and counts as a retriable failure', async () => {
  front.faults.push({ kind: 'hang' }, { kind: 'hang' });
  const started = performance.now();
  const error = await rejection(openai({ timeoutMs: 150, maxRetries: 1 }).embed(['slow']));
  assert.instance(error, EmbedderUnavailableError);
  assert.equal(attemptsOf(error).map((a) => a.status), [null, null]);
  assert.ok(performance.now() - started < 1_500);
});

test('openai: a failed batch cancels its siblings; nothing partial comes back', async () => {
  front.faults.push({ kind: 'hang' }, { kind: 'status', status: 400 });
  const started = performance.now();
  const error = await rejection(openai({ batchSize: 1, concurrency: 2, timeoutMs: 10_000 }).embed(['a', 'b', 'c']));
  assert.is(error.code, EmbedderErrorCodes.EMBEDDER_REJECTED);
  assert.is(front.bodies.length, 2, 'the third batch never started');
  assert.ok(performance.now() - started < 5_000, 'did not wait for the hung sibling');
});

test('openai: a refused request is EmbedderRejectedError at once', async () => {
  const guarded = await MockOpenAIServer.start({ apiKey: 'right' });
  try {
    const e = new OpenAIEmbedder({ baseURL: guarded.baseURL, apiKey: 'wrong', dimensions: 1536, retryDelayMs: 1, timeoutMs: 2_000 });
    const error = await rejection(e.embed(['hello']));
    assert.is(error.code, EmbedderErrorCodes.EMBEDDER_REJECTED);
    assert.is(error.data?.status, 401);
    assert.is(e.usage.requests, 1);
  } finally {
    await guarded.close();
  }
});

test('openai: abort rejects with the reason, mid-request and mid-backoff', async () => {
  front.faults.push({ kind: 'hang' });
  const reason = new Error('caller gave up');
  const controller = new AbortController();
  const seen = front.bodies.length;
  const pending = openai().embed(['hung'], { signal: controller.signal });
  // Abort once the server holds the request (mid-request), not after a guessed delay.
  await eventually(async () => front.bodies.length > seen, 5_000, 'the hung request at the server');
  controller.abort(reason);
  assert.is(await rejection(pending), reason);
  front.faults.push({ kind: 'status', status: 429, headers: { 'retry-after': '30' } });
  const later = new AbortController();
  const served = front.bodies.length;
  const waiting = openai().embed(['backing off'], { signal: later.signal });
  // The 429 was answered: the embedder now waits out its 30 s Retry-After (mid-backoff).
  await eventually(async () => front.bodies.length > served, 5_000, 'the 429 to be served');
  later.abort(reason);
  assert.is(await rejection(waiting), reason);
});

test('openai: input validation happens before any request', async () => {
  const e = openai();
  assert.is((await rejection(e.embed(['ok', '']))).data?.field, 'texts[1]');
  assert.equal(await e.embed([]), []);
  assert.is(front.bodies.length, 0);
  assert.throws(() => openai({ batchSize: 0 }), (err: Failure) => err.code === ErrorCodes.INVALID_ARGUMENT);
  const saved = process.env.OPENAI_API_KEY;
  delete process.env.OPENAI_API_KEY;
  try {
    assert.throws(() => new OpenAIEmbedder({ baseURL: 'https://api.example.com/v1', dimensions: 8 }), (err: Failure) => err.data?.field === 'apiKey');
    assert.is(new OpenAIEmbedder({ baseURL: 'http://localhost:1/v1', dimensions: 8 }).name, 'openai:text-embedding-3-small');
  } finally {
    if (saved !== undefined) process.env.OPENAI_API_KEY = saved;
  }
});

test.run();
