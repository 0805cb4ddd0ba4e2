import type { Reply } from './script.js';
import { contentText, estimateTokens, type ChatRequest, type Usage, type WireToolCall } from './wire.js';

/** A reply turned into what the API returns: content or tool calls, usage, finish reason. */
export interface Answer {
  readonly id: string;
  readonly created: number;
  readonly model: string;
  readonly content: string | null;
  readonly toolCalls: readonly WireToolCall[];
  readonly finishReason: 'stop' | 'tool_calls' | 'length';
  readonly usage: Usage;
}

let seq = 0;

/** Builds the answer for a non-fault reply (`malformed` turns tool arguments into broken JSON). */
export function answer(request: ChatRequest, reply: Exclude<Reply, { kind: 'fault' }>, options: { malformedArgs?: boolean; invalidJson?: boolean } = {}): Answer {
  const id = `chatcmpl-apiary-${++seq}`;
  const prompt = request.messages.map((m) => contentText(m) + (m.tool_calls?.map((c) => c.function.arguments).join('') ?? '')).join('\n');
  let content: string | null = null;
  let toolCalls: WireToolCall[] = [];
  if (reply.kind === 'text') {
    content = options.invalidJson === true ? `Sure! Here is the data you asked for: ${reply.text.slice(0, 40)}` : reply.text;
  } else {
    toolCalls = reply.calls.map((call, i) => ({
      id: `call_${seq}_${i}`,
      type: 'function' as const,
      function: {
        name: call.name,
        arguments: options.malformedArgs === true ? '{"oops": ' : typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments ?? {}),
      },
    }));
  }
  const limit = request.max_completion_tokens ?? request.max_tokens;
  let completionTokens = estimateTokens((content ?? '') + toolCalls.map((c) => c.function.name + c.function.arguments).join(''));
  let finishReason: Answer['finishReason'] = toolCalls.length > 0 ? 'tool_calls' : 'stop';
  if (limit !== undefined && content !== null && completionTokens > limit) {
    content = content.slice(0, limit * 4);
    completionTokens = limit;
    finishReason = 'length';
  }
  const promptTokens = estimateTokens(prompt);
  return {
    id,
    created: Math.floor(Date.now() / 1000),
    model: request.model,
    content,
    toolCalls,
    finishReason,
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
  };
}

/** The non-streaming response body. */
export function completionBody(a: Answer): unknown {
  return {
    id: a.id,
    object: 'chat.completion',
    created: a.created,
    model: a.model,
    system_fingerprint: 'apiary-mock',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: a.content, refusal: null, ...(a.toolCalls.length > 0 ? { tool_calls: a.toolCalls } : {}) },
        logprobs: null,
        finish_reason: a.finishReason,
      },
    ],
    usage: a.usage,
  };
}

/** The streaming chunks (`chat.completion.chunk` objects), in order; usage last when asked for. */
export function streamChunks(a: Answer, includeUsage: boolean): unknown[] {
  const base = { id: a.id, object: 'chat.completion.chunk', created: a.created, model: a.model, system_fingerprint: 'apiary-mock' };
  const chunk = (delta: unknown, finish: string | null): unknown => ({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
  const out: unknown[] = [chunk({ role: 'assistant', content: a.toolCalls.length > 0 ? null : '' }, null)];
  if (a.content !== null) {
    // Word-sized pieces, so token events arrive as they would from a real model.
    for (const piece of a.content.match(/\S+\s*|\s+/g) ?? []) out.push(chunk({ content: piece }, null));
  }
  a.toolCalls.forEach((call, index) => {
    out.push(chunk({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } }] }, null));
    for (const piece of call.function.arguments.match(/.{1,16}/gs) ?? []) {
      out.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }, null));
    }
  });
  out.push(chunk({}, a.finishReason));
  if (includeUsage) out.push({ ...base, choices: [], usage: a.usage });
  return out;
}
