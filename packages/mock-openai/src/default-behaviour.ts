import type { Reply, ScriptedToolCall } from './script.js';
import { contentText, type ChatRequest, type ChatTool, type JsonSchema } from './wire.js';

/**
 * What the server answers when no rule matches: deterministic, and good enough to drive a tool loop.
 * - JSON asked for (json_schema / json_object): a value built from the schema.
 * - Tools offered and not yet used since the last user message: call the tool the user named (else the
 *   first), with arguments built from its schema: strings take the user's text, numbers the numbers
 *   found in it, in order.
 * - After tool results: a final answer that quotes them.
 * - Otherwise: `Echo: <last user message>`.
 */
export function defaultReply(request: ChatRequest): Reply {
  const messages = request.messages;
  const lastUserIndex = messages.map((m) => m.role).lastIndexOf('user');
  const userText = contentText(messages[lastUserIndex]);
  const format = request.response_format;
  if (messages.at(-1)?.role === 'tool') {
    const results = messages.slice(lastUserIndex + 1).filter((m) => m.role === 'tool').map((m) => contentText(m));
    const text = `Based on ${results.length} tool result${results.length === 1 ? '' : 's'}: ${results.join('; ').slice(0, 500)}`;
    if (format?.type === 'json_schema') return { kind: 'text', text: JSON.stringify(valueFor(format.json_schema.schema, text, numbersIn(text))) };
    return { kind: 'text', text };
  }
  const tools = request.tools ?? [];
  const usedTools = messages.slice(lastUserIndex + 1).some((m) => m.role === 'tool');
  if (tools.length > 0 && !usedTools && request.tool_choice !== 'none') {
    const lower = userText.toLowerCase();
    const named = tools.filter((t) => lower.includes(t.function.name.toLowerCase()));
    const chosen: readonly ChatTool[] = named.length > 0 ? (request.parallel_tool_calls === false ? named.slice(0, 1) : named) : [tools[0]!];
    const numbers = numbersIn(userText);
    const calls: ScriptedToolCall[] = chosen.map((tool) => ({ name: tool.function.name, arguments: valueFor(tool.function.parameters, userText, numbers) }));
    return { kind: 'tool-calls', calls };
  }
  if (format?.type === 'json_schema') return { kind: 'text', text: JSON.stringify(valueFor(format.json_schema.schema, userText, numbersIn(userText))) };
  if (format?.type === 'json_object') return { kind: 'text', text: JSON.stringify({ echo: userText }) };
  return { kind: 'text', text: `Echo: ${userText}` };
}

function numbersIn(text: string): number[] {
  return [...text.matchAll(/-?\d+(?:\.\d+)?/g)].map((m) => Number(m[0]));
}

/** A value that satisfies `schema`, filled from the user's text and numbers where types allow. */
export function valueFor(schema: JsonSchema | undefined, text: string, numbers: number[]): unknown {
  if (schema === undefined) return {};
  if (schema.const !== undefined) return schema.const;
  if (schema.default !== undefined) return schema.default;
  if (schema.enum !== undefined && schema.enum.length > 0) return schema.enum[0];
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants !== undefined && variants.length > 0) return valueFor(variants.find((v) => v.type !== 'null') ?? variants[0], text, numbers);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'string':
      return text.slice(0, 200);
    case 'number':
      return numbers.shift() ?? schema.minimum ?? 0;
    case 'integer':
      return Math.round(numbers.shift() ?? schema.minimum ?? 0);
    case 'boolean':
      return false;
    case 'null':
      return null;
    case 'array':
      return schema.items === undefined ? [] : [valueFor(schema.items, text, numbers)];
    case 'object':
    default: {
      const out: Record<string, unknown> = {};
      for (const [key, sub] of Object.entries(schema.properties ?? {})) out[key] = valueFor(sub, text, numbers);
      return out;
    }
  }
}
