import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ActorSystem, type ActorRef } from '@apiary/runtime';
import { eventually, waitForEvent } from '@apiary/testkit';
import { HumanInput, serveHttp, type HumanRequest, type HumanSettled } from '../src/index.ts';
import { sink, type SinkMsg } from './fixtures/behaviors.ts';

const TOKEN = 'test-token-0123456789abcdef';

test('the HTTP channel: bearer auth, list, answer, and 400 / 401 / 404 / 405 / 409 / 422 as documented', async () => {
  const system = await ActorSystem.start({ threads: 1 });
  const human = await HumanInput.start(system);
  const channel = await serveHttp(human, { token: TOKEN });
  try {
    const asker = (await system.spawn(sink, { placement: { thread: 1 } })) as ActorRef<SinkMsg, unknown>;
    const open = async (question: HumanRequest['question'], timeoutMs = 60_000): Promise<string> =>
      ((await system.ask(human.broker, { type: 'open', spec: { worker: 'w-9', taskId: 't-9', question, timeoutMs }, replyTo: asker })) as { id: string }).id;
    const call = async (method: string, path: string, body?: unknown, token: string | null = TOKEN): Promise<{ status: number; json: Record<string, unknown> }> => {
      const res = await fetch(`${channel.url}${path}`, {
        method,
        headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };

    const id = await open({ kind: 'choice', prompt: 'Ship it?', options: ['ship', 'hold'] });
    assert.is((await call('GET', '/human/requests', undefined, null)).status, 401);
    assert.is((await call('GET', '/human/requests', undefined, 'wrong-token-0123456789abcdef')).status, 401);
    const list = await call('GET', '/human/requests');
    assert.is(list.status, 200);
    assert.equal((list.json.requests as HumanRequest[]).map((r) => r.id), [id]);
    assert.is((await call('GET', `/human/requests/${id}`)).json.taskId, 't-9');
    assert.is((await call('POST', `/human/requests/${id}`, '{not json')).status, 400);
    assert.is((await call('POST', `/human/requests/${id}`, [1, 2])).status, 400);
    const bad = await call('POST', `/human/requests/${id}`, { kind: 'choice', choice: 'maybe' });
    assert.is(bad.status, 422);
    assert.match(String(bad.json.problem), /one of: ship, hold/);
    assert.is(((await call('GET', '/human/requests')).json.requests as HumanRequest[]).length, 1); // still open
    assert.is((await call('POST', '/human/requests/hr-unknown', { kind: 'choice', choice: 'ship' })).status, 404);
    assert.is((await call('PUT', `/human/requests/${id}`, {})).status, 405);
    assert.is((await call('GET', '/elsewhere')).status, 404);
    const ok = await call('POST', `/human/requests/${id}`, { kind: 'choice', choice: 'ship' });
    assert.equal(ok, { status: 200, json: { ok: true } });
    assert.is((await call('POST', `/human/requests/${id}`, { kind: 'choice', choice: 'hold' })).status, 409);
    await eventually(async () => ((await system.ask(asker, { type: 'outcomes' })) as HumanSettled[]).some((s) => s.outcome.id === id && s.outcome.status === 'answered'), 5_000, 'the outcome');

    // A request that expired answers 409 too (the channel is attached, so it waited for its deadline).
    const expired = waitForEvent(system.events, 'human-request-settled', () => true, 5_000);
    const late = await open({ kind: 'confirm', prompt: 'Quick?' }, 20);
    await expired;
    assert.is((await call('POST', `/human/requests/${late}`, { kind: 'confirm', confirmed: true })).status, 409);
  } finally {
    await channel.close();
    await system.stop();
  }
});

test('a short token is refused at start', async () => {
  const system = await ActorSystem.start({ threads: 0 });
  const human = await HumanInput.start(system);
  const error = await serveHttp(human, { token: 'short' }).then(() => null, (e: { code?: string }) => e.code);
  assert.is(error, 'APIARY_ERR_INVALID_ARGUMENT');
  await system.stop();
});

test.run();
