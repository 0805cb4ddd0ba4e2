import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import { ErrorCodes } from '@apiary/runtime';
import { defineTool, runToolCall, runToolCalls, toolsForModel, MAX_TOOL_CONTENT, type Tool } from '../src/index.ts';
import { add, fails, sleepy } from './fixtures/tools.ts';

const tools = new Map<string, Tool>([add, fails, sleepy].map((t) => [t.name, t as Tool]));

test('a tool exposes its zod schema as JSON Schema for the model', () => {
  const [fn] = toolsForModel([add as Tool]);
  assert.equal(fn?.type === 'function' ? fn.function.parameters : undefined, {
    type: 'object',
    properties: { a: { type: 'number' }, b: { type: 'number' } },
    required: ['a', 'b'],
    additionalProperties: false,
  });
});

test('valid arguments run the handler; the result is what the model reads', async () => {
  const r = await runToolCall(tools, { id: 'c1', name: 'add', arguments: '{"a":2,"b":3}' });
  assert.ok(r.ok);
  assert.is(r.content, '5');
});

test('every failure becomes a bounded message for the model, never a throw', async () => {
  const cases: [string, string, string][] = [
    ['nope', '{}', 'unknown-tool'],
    ['add', '{"a": 1,', 'invalid-json'],
    ['add', '{"a":"one","b":2}', 'invalid-arguments'],
    ['fails', '{"why":"because"}', 'handler-error'],
    ['sleepy', '{}', 'timeout'],
  ];
  for (const [name, args, failure] of cases) {
    const r = await runToolCall(tools, { id: 'c', name, arguments: args });
    assert.not.ok(r.ok, name);
    if (!r.ok) {
      assert.is(r.failure, failure);
      assert.ok(r.content.startsWith(`Error (${failure})`));
    }
  }
  const invalid = await runToolCall(tools, { id: 'c', name: 'add', arguments: '{"a":"one","b":2}' });
  assert.match(invalid.content, /a/); // names the field that failed
  const huge = defineTool(import.meta.url, 'huge', { name: 'huge', description: 'big', parameters: z.object({}), handler: () => 'x'.repeat(100_000) });
  const r = await runToolCall(new Map([['huge', huge as Tool]]), { id: 'c', name: 'huge', arguments: '' });
  assert.ok(r.content.length <= MAX_TOOL_CONTENT);
});

test('parallel tool calls run concurrently up to the cap, results in call order', async () => {
  let running = 0;
  let peak = 0;
  const slow = defineTool(import.meta.url, 'slow', {
    name: 'slow',
    description: 'waits a tick',
    parameters: z.object({ n: z.number() }),
    handler: async ({ n }) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setImmediate(resolve));
      running--;
      return n;
    },
  });
  const calls = Array.from({ length: 9 }, (_, i) => ({ id: `c${i}`, name: 'slow', arguments: JSON.stringify({ n: i }) }));
  const out = await runToolCalls(new Map([['slow', slow as Tool]]), calls, 3);
  assert.equal(out.map((o) => o.content), calls.map((_, i) => String(i)));
  assert.is(peak, 3);
});

test('bad tool definitions are rejected with InvalidArgumentError', () => {
  const bad = (spec: Record<string, unknown>) => () => defineTool(import.meta.url, 'x', { name: 'ok', description: 'd', parameters: z.object({}), handler: () => 1, ...spec } as never);
  for (const spec of [{ name: 'has space' }, { description: '' }, { parameters: {} }, { parameters: z.string() }, { timeoutMs: 0 }]) {
    assert.throws(bad(spec), (e: { code: string }) => e.code === ErrorCodes.INVALID_ARGUMENT, JSON.stringify(spec));
  }
});

test.run();
