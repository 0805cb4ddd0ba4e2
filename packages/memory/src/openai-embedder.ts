import OpenAI from 'openai';
import { InvalidArgumentError } from '@apiary/runtime';
import { EmbedderError, EmbedderOutputError, EmbedderRejectedError, EmbedderUnavailableError, EmbeddingDimensionError, type EmbedderAttempt } from './embedder-errors.js';
import { checkEmbeddings, checkTexts, type EmbedOptions, type Embedder } from './embedders.js';

/** Options of {@link OpenAIEmbedder}. Every default is listed. */
export interface OpenAIEmbedderOptions {
  /** Length of every vector. Required: the model's native size, or the size asked for with `sendDimensions`. */
  readonly dimensions: number;
  /** Default `text-embedding-3-small` (native size 1536). */
  readonly model?: string;
  /**
   * Send `dimensions` as the API's `dimensions` parameter, so the model shortens its vectors. Only
   * `text-embedding-3` and later models, and not every compatible server, accept it, hence opt-in.
   * Default false: the server's native size must then equal `dimensions`.
   */
  readonly sendDimensions?: boolean;
  /** Any OpenAI-compatible endpoint. Default: `OPENAI_BASE_URL`, else OpenAI's. */
  readonly baseURL?: string;
  /** Default: `OPENAI_API_KEY`; a loopback `baseURL` needs none (`unused` is sent). */
  readonly apiKey?: string;
  /** Inputs per request, 1..2048 (the API's limit). Default 256. */
  readonly batchSize?: number;
  /** Requests in flight at once, 1..16. Default 1: sequential batches stay clear of rate limits. */
  readonly concurrency?: number;
  /** Retries of one request after its first attempt, on 429, 408, 409, 5xx, timeouts and connection errors. Default 3. */
  readonly maxRetries?: number;
  /** First backoff delay; it doubles each retry, with jitter. Default 500 ms. */
  readonly retryDelayMs?: number;
  /** Largest backoff delay. Default 8000 ms. */
  readonly maxRetryDelayMs?: number;
  /** A `Retry-After` longer than this is not waited for: the call fails with EmbedderUnavailableError at once. Default 60000 ms. */
  readonly maxRetryAfterMs?: number;
  /** Time allowed for one attempt of one request (connect to last byte). Default 60000 ms. */
  readonly timeoutMs?: number;
  /**
   * Wire format of the vectors. `base64` (default) is a quarter of the bytes and exactly the model's
   * float32 values; `float` is for servers that do not implement base64. Either form is accepted in
   * the answer, since some servers ignore the parameter.
   */
  readonly encodingFormat?: 'base64' | 'float';
}

/** Counters of an {@link OpenAIEmbedder} since it was made. */
export interface OpenAIEmbedderUsage {
  /** HTTP requests sent, retries included. */
  readonly requests: number;
  /** Of those, retries. */
  readonly retries: number;
  /** Tokens the server reported for successful requests. */
  readonly promptTokens: number;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Embeds through the official `openai` SDK against any OpenAI-compatible `/v1/embeddings` endpoint.
 *
 * Inputs are split into batches of `batchSize`, sent `concurrency` at a time, and the vectors come
 * back in input order (placed by the `index` the server returns, not by arrival). Each request is
 * retried on its own with exponential backoff and jitter, waiting at least what `Retry-After`
 * (or `retry-after-ms`) asks; the SDK's own retries are off so that this policy is the only one.
 * Every vector is checked before anything is returned: exactly `dimensions` entries
 * (EmbeddingDimensionError) and all finite, one per input (EmbedderOutputError). Failure modes:
 * retries exhausted gives EmbedderUnavailableError, a refused request (400, 401, 403, 404, 422) gives
 * EmbedderRejectedError at once, an abort rejects with the signal's reason. When any batch fails the
 * others are cancelled and nothing partial is returned.
 */
export class OpenAIEmbedder implements Embedder {
  /** Length of every vector. */
  readonly dimensions: number;
  /** `openai:<model>`. */
  readonly name: string;
  /** The model asked. */
  readonly model: string;
  readonly #sdk: OpenAI;
  readonly #sendDimensions: boolean;
  readonly #batchSize: number;
  readonly #concurrency: number;
  readonly #maxRetries: number;
  readonly #retryDelayMs: number;
  readonly #maxRetryDelayMs: number;
  readonly #maxRetryAfterMs: number;
  readonly #encodingFormat: 'base64' | 'float';
  #usage = { requests: 0, retries: 0, promptTokens: 0 };

  constructor(options: OpenAIEmbedderOptions) {
    const model = options.model ?? 'text-embedding-3-small';
    if (typeof model !== 'string' || model.length === 0) throw new InvalidArgumentError('model', 'must be a non-empty string');
    this.dimensions = integer('dimensions', options.dimensions, 1, 65_536);
    this.#batchSize = integer('batchSize', options.batchSize ?? 256, 1, 2048);
    this.#concurrency = integer('concurrency', options.concurrency ?? 1, 1, 16);
    this.#maxRetries = integer('maxRetries', options.maxRetries ?? 3, 0, 100);
    this.#retryDelayMs = integer('retryDelayMs', options.retryDelayMs ?? 500, 0, 3_600_000);
    this.#maxRetryDelayMs = integer('maxRetryDelayMs', options.maxRetryDelayMs ?? 8000, 0, 3_600_000);
    this.#maxRetryAfterMs = integer('maxRetryAfterMs', options.maxRetryAfterMs ?? 60_000, 0, 3_600_000);
    const timeoutMs = integer('timeoutMs', options.timeoutMs ?? 60_000, 1, 3_600_000);
    const encodingFormat = options.encodingFormat ?? 'base64';
    if (encodingFormat !== 'base64' && encodingFormat !== 'float') throw new InvalidArgumentError('encodingFormat', "must be 'base64' or 'float'");
    const baseURL = options.baseURL ?? process.env.OPENAI_BASE_URL;
    const apiKey = options.apiKey ?? process.env.OPENAI_API_KEY ?? (baseURL !== undefined && isLoopback(baseURL) ? 'unused' : undefined);
    if (apiKey === undefined) throw new InvalidArgumentError('apiKey', 'no API key: pass apiKey, set OPENAI_API_KEY, or point baseURL at a local server');
    this.model = model;
    this.name = `openai:${model}`;
    this.#sendDimensions = options.sendDimensions ?? false;
    this.#encodingFormat = encodingFormat;
    this.#sdk = new OpenAI({ apiKey, ...(baseURL === undefined ? {} : { baseURL }), maxRetries: 0, timeout: timeoutMs });
  }

  /** Requests, retries and tokens so far (a copy). */
  get usage(): OpenAIEmbedderUsage {
    return { ...this.#usage };
  }

  /** Embeds `texts` (see the class notes); rejects at once on an empty text, before any request. */
  async embed(texts: readonly string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    checkTexts(texts);
    options.signal?.throwIfAborted();
    if (texts.length === 0) return [];
    const starts: number[] = [];
    for (let start = 0; start < texts.length; start += this.#batchSize) starts.push(start);
    const results: Float32Array[][] = new Array<Float32Array[]>(starts.length);
    // One controller for the whole call: a failed batch cancels its siblings, and the caller's abort reaches them all.
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < starts.length) {
        const b = next++;
        const start = starts[b]!;
        results[b] = await this.#batch(texts.slice(start, start + this.#batchSize), start, controller.signal);
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(this.#concurrency, starts.length) }, worker));
    } catch (error) {
      controller.abort(error);
      throw error;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
    return results.flat();
  }

  /** One request, with its retries. `offset` is the position of `inputs[0]` in the caller's texts. */
  async #batch(inputs: string[], offset: number, signal: AbortSignal): Promise<Float32Array[]> {
    const attempts: EmbedderAttempt[] = [];
    for (let attempt = 1; ; attempt++) {
      signal.throwIfAborted();
      try {
        this.#usage.requests++;
        if (attempt > 1) this.#usage.retries++;
        const response = await this.#sdk.embeddings.create(
          { model: this.model, input: inputs, encoding_format: this.#encodingFormat, ...(this.#sendDimensions ? { dimensions: this.dimensions } : {}) },
          { signal },
        );
        const vectors = this.#decode(response.data as unknown, inputs.length, offset);
        this.#usage.promptTokens += response.usage?.prompt_tokens ?? 0;
        return vectors;
      } catch (error) {
        signal.throwIfAborted();
        if (error instanceof EmbedderError) throw error;
        const status = error instanceof OpenAI.APIError ? error.status : undefined;
        if (status !== undefined && !retriable(status)) throw new EmbedderRejectedError(this.name, status, error);
        const waitFor = error instanceof OpenAI.APIError ? retryAfterMs(error.headers) : null;
        attempts.push({ attempt, error: error instanceof Error ? error.message : String(error), status: status ?? null, retryAfterMs: waitFor });
        if (attempt > this.#maxRetries || (waitFor !== null && waitFor > this.#maxRetryAfterMs)) {
          throw new EmbedderUnavailableError(this.name, attempts, error);
        }
        await sleep(this.#delay(attempt, waitFor), signal);
      }
    }
  }

  /** Exponential from retryDelayMs, capped, with "equal jitter" (half fixed, half random); Retry-After wins when longer. */
  #delay(retry: number, retryAfter: number | null): number {
    const base = Math.min(this.#maxRetryDelayMs, this.#retryDelayMs * 2 ** (retry - 1));
    const backoff = base / 2 + Math.random() * (base / 2);
    return retryAfter === null ? backoff : Math.max(backoff, retryAfter);
  }

  /** The answer's vectors in input order, checked; throws EmbedderOutputError or EmbeddingDimensionError. */
  #decode(data: unknown, count: number, offset: number): Float32Array[] {
    if (!Array.isArray(data)) throw new EmbedderOutputError(this.name, 'the answer has no data array');
    if (data.length !== count) throw new EmbedderOutputError(this.name, `${data.length} vectors for ${count} inputs`);
    const slots = new Array<Float32Array | undefined>(count);
    for (let position = 0; position < data.length; position++) {
      const item = data[position] as { index?: unknown; embedding?: unknown } | null;
      // Servers that omit `index` are taken to answer in input order.
      const index = item?.index ?? position;
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= count || slots[index] !== undefined) {
        throw new EmbedderOutputError(this.name, `bad or repeated index ${String(index)} at position ${position}`);
      }
      const vector = toVector(item?.embedding);
      if (vector === null) throw new EmbedderOutputError(this.name, `input ${offset + index} has no float array or base64 float32 embedding`);
      if (vector.length !== this.dimensions) {
        const hint = this.#sendDimensions
          ? 'the server ignored the dimensions parameter; set dimensions to its native size'
          : `set dimensions to ${vector.length}, or sendDimensions: true if the model can shorten its vectors`;
        throw new EmbeddingDimensionError(this.name, this.dimensions, vector.length, offset + index, hint);
      }
      slots[index] = vector;
    }
    const vectors = slots as Float32Array[];
    checkEmbeddings(this, vectors, count, offset);
    return vectors;
  }
}

/** A float array or a base64 string of little-endian float32s, as a fresh Float32Array; null for anything else. */
function toVector(embedding: unknown): Float32Array | null {
  if (Array.isArray(embedding)) {
    // Non-numbers become NaN here and are then reported by checkEmbeddings as non-finite.
    return Float32Array.from(embedding, (x: unknown) => (typeof x === 'number' ? x : Number.NaN));
  }
  if (typeof embedding !== 'string' || !BASE64.test(embedding)) return null;
  const bytes = Buffer.from(embedding, 'base64');
  if (bytes.length % 4 !== 0) return null;
  const vector = new Float32Array(bytes.length / 4);
  // Copy rather than view: Buffer.from may return a slice of a shared pool at an offset not aligned to 4.
  if (LITTLE_ENDIAN) new Uint8Array(vector.buffer).set(bytes);
  else for (let i = 0; i < vector.length; i++) vector[i] = bytes.readFloatLE(i * 4);
  return vector;
}

/** Rate limits, timeouts, conflicts and server errors are worth retrying; other statuses mean the request itself is wrong. */
function retriable(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** Reads `retry-after-ms` or `retry-after` (seconds or an HTTP date). */
function retryAfterMs(headers: Headers | undefined): number | null {
  const ms = headers?.get('retry-after-ms');
  if (ms != null && ms.trim() !== '' && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = headers?.get('retry-after');
  if (value == null || value.trim() === '') return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

function isLoopback(baseURL: string): boolean {
  try {
    const host = new URL(baseURL).hostname;
    return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}

function integer(field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new InvalidArgumentError(field, `must be an integer in ${min}..${max} (got ${value})`);
  return value;
}

/** Sleeps `ms`, or rejects early with the signal's reason. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
