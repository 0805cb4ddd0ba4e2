import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MockOpenAIServer } from '@apiary/mock-openai';
import { ActorSystem, type ActorRef } from '@apiary/runtime';
import { agent, toolRef, type AgentMessage, type TaskResult } from '@apiary/agent';
import { eventually, recordEvents, waitForEvent } from '@apiary/testkit';
import { HumanInput, WorkerTracker } from '../src/index.ts';
import { refund } from './fixtures/tools.ts';

test('workers are tracked by id, status and capability, with counters; status changes are events', async () => {
  const server = await MockOpenAIServer.start();
  const system = await ActorSystem.start({ threads: 2 });
  const tracker = WorkerTracker.start(system);
  const human = await HumanInput.start(system);
  const detach = await human.onRequest(() => undefined);
  try {
    const events = recordEvents(system.events);
    const spawnWorker = async (name: string, thread: number, swarm: string, capabilities: string[]): Promise<ActorRef<AgentMessage, TaskResult>> =>
      (await system.spawn(agent, {
        name,
        placement: { thread },
        props: {
          name,
          swarm,
          capabilities,
          model: { model: 'apiary-mock', baseURL: server.baseURL },
          stream: false,
          tools: [toolRef(refund)],
          approver: { ref: human.approver, timeoutMs: 60_000 },
        },
      })) as ActorRef<AgentMessage, TaskResult>;
    const ada = await spawnWorker('ada', 1, 'billing', ['refunds', 'sql']);
    const bob = await spawnWorker('bob', 2, 'billing', ['sql']);
    await spawnWorker('cy', 2, 'support', ['chat']);
    await eventually(async () => tracker.list().length === 3, 5_000, 'three workers tracked');

    assert.equal(tracker.list({ capabilities: ['sql'] }).map((w) => w.name), ['ada', 'bob']);
    assert.equal(tracker.list({ swarm: 'support' }).map((w) => w.name), ['cy']);
    assert.equal(tracker.list({ status: 'idle' }).length, 3);
    assert.is(tracker.get(ada.path)?.id, ada.id);

    // A task that needs a person: busy, then waiting for the human, then busy again, then idle.
    const opened = waitForEvent(system.events, 'human-request-opened', () => true, 10_000);
    const task = system.ask(ada, { type: 'task', taskId: 'r1', input: 'refund 40' }, { timeoutMs: 30_000 });
    const request = (await opened).request;
    await eventually(async () => tracker.get(ada.id)?.status.kind === 'waiting-for-human', 5_000, 'ada waiting');
    assert.equal(tracker.list({ status: 'waiting-for-human' }).map((w) => w.name), ['ada']);
    await human.answer(request.id, { kind: 'approval', decision: 'approve' });
    await task;
    await eventually(async () => tracker.get(ada.id)?.status.kind === 'idle', 5_000, 'ada idle again');
    const seen = events.ofType('worker-status').filter((e) => e.name === 'ada').map((e) => e.status.kind);
    assert.equal(seen, ['idle', 'busy', 'waiting-for-human', 'busy', 'idle']);
    const info = tracker.get(ada.id)!;
    assert.is(info.tasksDone, 1);
    assert.ok(info.tokens > 0 && info.costUsd >= 0);
    assert.ok(info.meanTaskMs !== null && info.meanTaskMs > 0);

    // A crash: restarting, then idle again with one restart counted; a stop: stopped.
    await system.terminateThread(2);
    await eventually(async () => tracker.get(bob.id)?.restarts === 1 && tracker.get(bob.id)?.status.kind === 'idle', 20_000, 'bob back');
    assert.ok(events.ofType('worker-status').some((e) => e.name === 'bob' && e.status.kind === 'restarting'));
    await system.stop(bob);
    assert.is(tracker.get(bob.id)?.status.kind, 'stopped');
    events.stop();
  } finally {
    await detach();
    tracker.stop();
    await system.stop();
    await server.close();
  }
});

test.run();
