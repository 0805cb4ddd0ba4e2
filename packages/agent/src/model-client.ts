import OpenAI from 'openai';
import type {
  ChatCompletion,
  ChatCompletionAssistantMessageParam,
  ChatCompletionChunk,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import { InvalidArgumentError } from '@apiary/runtime';
import { z } from 'zod';
import { ModelOutputError, ModelRejectedError, ModelUnavailableError, type ModelAttempt } from './errors.js';
import { DEFAULT_PRICES, costOf, priceOf, type PriceTable } from './pricing.js';
import { DEFAULT_RETRY, retriableStatus, retryAfterMs, retryDelay, sleep, type RetryOptions } from './retry.js';

/** How to reach a model. Every default is listed. */
export interface ModelClientOptions {
  /** The model to ask first. */
  readonly model: string;
  /** Models to ask, in order, when the previous one is unavailable after its retries. Default none. */
  readonly fallbackModels?: readonly string[];
  /** Any OpenAI-compatible endpoint. Default: `OPENAI_BASE_URL`, else OpenAI's. */
  readonly baseURL?: string;
  /** Default: `OPENAI_API_KEY`; a loopback `baseURL` needs none. */
  readonly apiKey?: string;
  /** Time allowed for one attempt (connect to last byte). Default 60000 ms. */
  readonly timeoutMs?: number;
  readonly retry?: RetryOptions;
  /** Prices for cost accounting, merged over {@link DEFAULT_PRICES}. */
  readonly prices?: PriceTable;
}

/** A JSON-schema response format (structured output). */
export interface JsonSchemaFormat {
  readonly name: string;
  readonly schema: Record<string, unknown>;
  readonly strict?: boolean;
}

/** One call to the model. */
export interface ModelRequest {
  readonly messages: readonly ChatCompletionMessageParam[];
  readonly tools?: readonly ChatCompletionTool[];
  /** Ask for JSON that fits this schema. */
  readonly jsonSchema?: JsonSchemaFormat;
  readonly maxTokens?: number;
  readonly temperature?: number;
  /** Stream the answer; token deltas arrive as `token` events. Default false. */
  readonly stream?: boolean;
  readonly signal?: AbortSignal;
  /** Receives tokens, retries and fallbacks as they happen. */
  readonly onEvent?: (event: ModelEvent) => void;
}

/** What happens during a call, for the event bus. */
export type ModelEvent =
  | { readonly type: 'token'; readonly model: string; readonly delta: string }
  | { readonly type: 'retry'; readonly model: string; readonly attempt: number; readonly delayMs: number; readonly status: number | null; readonly error: string }
  | { readonly type: 'fallback'; readonly from: string; readonly to: string; readonly error: string };

/** A tool call the model asked for; `arguments` is the raw JSON text, not yet validated. */
export interface ToolCallRequest {
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

/** Tokens and cost of one call (all attempts that returned usage). */
export interface ModelUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
  readonly costUsd: number;
  /** False when the model is not in the price table (cost counted as 0). */
  readonly priced: boolean;
  /** True when the server sent no usage and tokens were estimated (characters / 4). */
  readonly estimated: boolean;
}

/** The model's answer. */
export interface ModelResponse {
  /** The model that answered (a fallback, perhaps). */
  readonly model: string;
  readonly content: string | null;
  readonly toolCalls: readonly ToolCallRequest[];
  readonly finishReason: string;
  readonly usage: ModelUsage;
  /** Attempts made, over all models (1 when the first try answered). */
  readonly attempts: number;
  /** The assistant message to append to the conversation. */
  readonly message: ChatCompletionAssistantMessageParam;
}

/**
 * SDK clients are stateless, so agents on one thread talking to one endpoint share one: a thousand
 * agents should not hold a thousand SDK instances. The SDK's own retries are off: ours honour
 * Retry-After, move on to fallbacks, and report events.
 */
const sdkClients = new Map<string, OpenAI>();

function sharedSdk(apiKey: string, baseURL: string | undefined, timeoutMs: number): OpenAI {
  const key = JSON.stringify([apiKey, baseURL ?? null, timeoutMs]);
  let client = sdkClients.get(key);
  if (client === undefined) {
    client = new OpenAI({ apiKey, ...(baseURL === undefined ? {} : { baseURL }), maxRetries: 0, timeout: timeoutMs });
    sdkClients.set(key, client);
  }
  return client;
}

/** A stream that ended before the model said it was done (no finish reason). */
class StreamCutError extends Error {
  constructor(model: string) {
    super(`the stream from ${model} ended before the answer was complete`);
    this.name = 'StreamCutError';
  }
}

/**
 * Calls chat models through the official `openai` SDK, against any OpenAI-compatible endpoint:
 * per-attempt timeout, retries with exponential backoff and jitter on 429, 5xx, timeouts and
 * connection errors (honouring `Retry-After`), then the fallback models in order; when all of that is
 * exhausted, ModelUnavailableError. A request the server refuses (400, 401, 403, 422) fails at once
 * with ModelRejectedError. Streaming emits token events; a cut stream is retried like a failed call.
 */
export class ModelClient {
  readonly #sdk: OpenAI;
  readonly #models: readonly string[];
  readonly #retry: Required<RetryOptions>;
  readonly #prices: PriceTable;

  constructor(options: ModelClientOptions) {
    if (typeof options.model !== 'string' || options.model.length === 0) throw new InvalidArgumentError('model', 'must be a non-empty string');
    const timeoutMs = options.timeoutMs ?? 60_000;
    if (!(timeoutMs > 0)) throw new InvalidArgumentError('timeoutMs', 'must be > 0');
    const retry = { ...DEFAULT_RETRY, ...(options.retry ?? {}) };
    if (!Number.isInteger(retry.maxRetries) || retry.maxRetries < 0) throw new InvalidArgumentError('retry.maxRetries', 'must be an integer >= 0');
    const baseURL = options.baseURL ?? process.env.OPENAI_BASE_URL;
    const loopback = baseURL !== undefined && /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?\//.test(`${baseURL}/`);
    const apiKey = options.apiKey ?? process.env.OPENAI_API_KEY ?? (loopback ? 'unused' : undefined);
    if (apiKey === undefined) throw new InvalidArgumentError('apiKey', 'no API key: pass apiKey, set OPENAI_API_KEY, or point baseURL at a local server');
    this.#sdk = sharedSdk(apiKey, baseURL, timeoutMs);
    this.#models = [options.model, ...(options.fallbackModels ?? [])];
    this.#retry = retry;
    this.#prices = { ...DEFAULT_PRICES, ...(options.prices ?? {}) };
  }

  /** The models in the order they are tried. */
  get models(): readonly string[] {
    return this.#models;
  }

  /** Asks the model (then its fallbacks) until one answers. */
  async complete(request: ModelRequest): Promise<ModelResponse> {
    const attempts: ModelAttempt[] = [];
    let lastError: unknown;
    for (let m = 0; m < this.#models.length; m++) {
      const model = this.#models[m]!;
      for (let attempt = 1; attempt <= this.#retry.maxRetries + 1; attempt++) {
        try {
          const response = await this.#once(model, request);
          return { ...response, attempts: attempts.length + 1 };
        } catch (error) {
          if (request.signal?.aborted === true) throw error;
          const status = error instanceof OpenAI.APIError ? error.status : undefined;
          if (status !== undefined && !retriableStatus(status) && status !== 404) throw new ModelRejectedError(model, status, error);
          lastError = error;
          const waitFor = error instanceof OpenAI.APIError ? retryAfterMs(error.headers) : null;
          attempts.push({ model, attempt, error: error instanceof Error ? error.message : String(error), status: status ?? null, retryAfterMs: waitFor });
          // A missing model, or a server asking for a longer pause than we accept: go to the next model.
          if (status === 404 || (waitFor !== null && waitFor > this.#retry.maxRetryAfterMs)) break;
          if (attempt > this.#retry.maxRetries) break;
          const delayMs = retryDelay(attempt, this.#retry, waitFor);
          request.onEvent?.({ type: 'retry', model, attempt, delayMs, status: status ?? null, error: attempts.at(-1)!.error });
          await sleep(delayMs, request.signal);
        }
      }
      const next = this.#models[m + 1];
      if (next !== undefined) request.onEvent?.({ type: 'fallback', from: model, to: next, error: attempts.at(-1)?.error ?? 'unavailable' });
    }
    throw new ModelUnavailableError(this.#models, attempts, lastError);
  }

  /**
   * Structured output: asks for JSON fitting `schema` (zod v4, sent as JSON Schema) and returns the
   * parsed, validated value. An answer that is not JSON or does not fit fails with ModelOutputError.
   */
  async completeJson<S extends z.ZodType>(
    request: Omit<ModelRequest, 'jsonSchema' | 'tools'>,
    schema: S,
    name = 'output',
  ): Promise<{ readonly value: z.infer<S>; readonly response: ModelResponse }> {
    const { $schema: _ignored, ...jsonSchema } = z.toJSONSchema(schema) as Record<string, unknown>;
    const response = await this.complete({ ...request, jsonSchema: { name, schema: jsonSchema } });
    const text = response.content ?? '';
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw new ModelOutputError(response.model, 'the answer is not JSON', text);
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) throw new ModelOutputError(response.model, z.prettifyError(parsed.error), text);
    return { value: parsed.data, response };
  }

  async #once(model: string, request: ModelRequest): Promise<Omit<ModelResponse, 'attempts'>> {
    const body: ChatCompletionCreateParamsNonStreaming = {
      model,
      messages: [...request.messages],
      ...(request.tools !== undefined && request.tools.length > 0 ? { tools: [...request.tools] } : {}),
      ...(request.jsonSchema === undefined
        ? {}
        : { response_format: { type: 'json_schema', json_schema: { name: request.jsonSchema.name, schema: request.jsonSchema.schema, strict: request.jsonSchema.strict ?? true } } }),
      ...(request.maxTokens === undefined ? {} : { max_completion_tokens: request.maxTokens }),
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
    };
    const options = request.signal === undefined ? {} : { signal: request.signal };
    if (request.stream !== true) {
      const completion: ChatCompletion = await this.#sdk.chat.completions.create(body, options);
      const choice = completion.choices[0];
      const toolCalls: ToolCallRequest[] = [];
      for (const call of choice?.message.tool_calls ?? []) {
        if (call.type === 'function') toolCalls.push({ id: call.id, name: call.function.name, arguments: call.function.arguments });
      }
      const content = choice?.message.content ?? null;
      return this.#result(model, content, toolCalls, choice?.finish_reason ?? 'stop', completion.usage, request.messages);
    }
    const stream = await this.#sdk.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } }, options);
    let content = '';
    let sawContent = false;
    let finishReason: string | null = null;
    let usage: ChatCompletion['usage'];
    const calls = new Map<number, { id: string; name: string; arguments: string }>();
    for await (const chunk of stream as AsyncIterable<ChatCompletionChunk>) {
      if (chunk.usage != null) usage = chunk.usage;
      const choice = chunk.choices[0];
      if (choice === undefined) continue;
      const delta = choice.delta;
      if (typeof delta.content === 'string' && delta.content.length > 0) {
        sawContent = true;
        content += delta.content;
        request.onEvent?.({ type: 'token', model, delta: delta.content });
      }
      for (const part of delta.tool_calls ?? []) {
        const call = calls.get(part.index) ?? { id: '', name: '', arguments: '' };
        if (part.id !== undefined) call.id = part.id;
        if (part.function?.name !== undefined) call.name += part.function.name;
        if (part.function?.arguments !== undefined) call.arguments += part.function.arguments;
        calls.set(part.index, call);
      }
      if (choice.finish_reason !== null) finishReason = choice.finish_reason;
    }
    if (finishReason === null) throw new StreamCutError(model);
    const toolCalls = [...calls.entries()].sort((a, b) => a[0] - b[0]).map(([, c]) => c);
    return this.#result(model, sawContent ? content : null, toolCalls, finishReason, usage, request.messages);
  }

  #result(
    model: string,
    content: string | null,
    toolCalls: readonly ToolCallRequest[],
    finishReason: string,
    usage: ChatCompletion['usage'],
    messages: readonly ChatCompletionMessageParam[],
  ): Omit<ModelResponse, 'attempts'> {
    const estimated = usage == null;
    const promptTokens = usage?.prompt_tokens ?? Math.ceil(JSON.stringify(messages).length / 4);
    const completionTokens = usage?.completion_tokens ?? Math.ceil(((content ?? '') + toolCalls.map((c) => c.arguments).join('')).length / 4);
    const price = priceOf(this.#prices, model);
    const message: ChatCompletionAssistantMessageParam = {
      role: 'assistant',
      content,
      ...(toolCalls.length > 0 ? { tool_calls: toolCalls.map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: c.arguments } })) } : {}),
    };
    return {
      model,
      content,
      toolCalls,
      finishReason,
      usage: {
        promptTokens,
        completionTokens,
        totalTokens: promptTokens + completionTokens,
        costUsd: costOf(price, promptTokens, completionTokens),
        priced: price !== undefined,
        estimated,
      },
      message,
    };
  }
}
