import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MockOpenAIServer } from '@apiary/mock-openai';
import { ActorSystem } from '@apiary/runtime';
import { waitForEvent } from '@apiary/testkit';
import { CpuPool, agent, runToolCall, toolRef, type TaskResult, type Tool } from '../src/index.ts';
import { ping } from './fixtures/behaviors.ts';
import { burn, forever } from './fixtures/tools.ts';

interface Ctx {
  server: MockOpenAIServer;
  system: ActorSystem;
}
const test = suite<Ctx>('CPU-bound tools', {} as Ctx);

test.before(async (ctx) => {
  ctx.server = await MockOpenAIServer.start();
  ctx.system = await ActorSystem.start({ threads: 1 });
});
test.after(async (ctx) => {
  await ctx.system.stop();
  await ctx.server.close();
});

test('a CPU tool runs on the piscina pool and returns its value', async () => {
  const pool = new CpuPool();
  try {
    const r = await runToolCall(new Map([['burn', burn as Tool]]), { id: 'c', name: 'burn', arguments: '{"ms": 20}' }, undefined, pool);
    assert.ok(r.ok, r.content);
    assert.equal(r.ok ? r.value : null, { spun: 20, spins: true });
  } finally {
    await pool.close();
  }
});

test('a CPU tool that never ends is stopped by its timeout (the pool thread is terminated)', async () => {
  const pool = new CpuPool();
  try {
    const started = performance.now();
    const r = await runToolCall(new Map([['forever', forever as Tool]]), { id: 'c', name: 'forever', arguments: '{}' }, undefined, pool);
    assert.not.ok(r.ok);
    assert.is(r.ok ? null : r.failure, 'timeout');
    assert.ok(performance.now() - started < 5_000);
    // The pool still works after losing a thread.
    const again = await runToolCall(new Map([['burn', burn as Tool]]), { id: 'd', name: 'burn', arguments: '{"ms": 1}' }, undefined, pool);
    assert.ok(again.ok);
  } finally {
    await pool.close();
  }
});

test('an agent busy with a CPU tool does not block the other actors on its thread', async (ctx) => {
  const a = await ctx.system.spawn(agent, {
    placement: { thread: 1 },
    props: { name: 'burner', model: { model: 'apiary-mock', baseURL: ctx.server.baseURL }, tools: [toolRef(burn)], stream: false },
  });
  const p = await ctx.system.spawn(ping, { placement: { thread: 1 } });
  const firstTurn = waitForEvent(ctx.system.events, 'token-usage', (e) => e.taskId === 'cpu');
  const task = ctx.system.ask(a, { type: 'task', taskId: 'cpu', input: 'burn 600' }, { timeoutMs: 20_000 });
  // Once the first turn is done, the tool is burning 600 ms of CPU on the pool; the neighbour
  // must keep answering quickly meanwhile.
  await firstTurn;
  const latencies: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    assert.is(await ctx.system.ask(p, 'ping'), 'pong');
    latencies.push(performance.now() - t0);
  }
  const result = (await task) as TaskResult;
  assert.is(result.status, 'completed');
  assert.equal(result.toolCalls.map((c) => [c.name, c.ok]), [['burn', true]]);
  assert.ok(Math.max(...latencies) < 300, `neighbour latency ${latencies.map((l) => l.toFixed(0)).join(', ')} ms`);
});

test.run();
