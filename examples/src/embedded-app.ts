/**
 * Embedding Apiary in an application, with the programmatic human-input channel:
 * `npx --yes pnpm@10 build && node examples/dist/embedded-app.js`.
 *
 * Your application decides how people answer (a web UI, a chat bot, a rules engine); here a policy
 * function approves refunds up to 100, edits larger ones down to 100, and answers plan questions
 * from a (pretend) CRM. The worker tracker shows what each worker is doing.
 */
import { ActorSystem, type ActorRef } from '@apiary/runtime';
import { agent, toolRef, type AgentMessage, type TaskResult } from '@apiary/agent';
import { MockOpenAIServer } from '@apiary/mock-openai';
import { HumanInput, WorkerTracker, type Answer, type HumanRequest } from '@apiary/worker';
import { refund } from './tools.js';

const server = await MockOpenAIServer.start();
server.addRule({
  when: { lastUserIncludes: 'refund', afterToolResult: false },
  reply: (r) => ({ kind: 'tool-calls', calls: [{ name: 'refund', arguments: { amount: Number(/\d+/.exec(String(r.messages.at(-1)?.content))?.[0] ?? 1), reason: 'customer request' } }] }),
});
const system = await ActorSystem.start({ threads: 2 });
const tracker = WorkerTracker.start(system);
const human = await HumanInput.start(system);

/** The application's policy, standing in for a person. */
function decide(request: HumanRequest): Answer {
  const q = request.question;
  if (q.kind === 'approval') {
    const amount = (q.arguments as { amount: number }).amount;
    if (amount <= 100) return { kind: 'approval', decision: 'approve' };
    return { kind: 'approval', decision: 'edit', arguments: { ...(q.arguments as object), amount: 100 } };
  }
  if (q.kind === 'choice') return { kind: 'choice', choice: q.options[1]! };
  if (q.kind === 'confirm') return { kind: 'confirm', confirmed: true };
  return { kind: 'text', text: 'handled by policy' };
}

// The programmatic channel: an async iterator of requests (a callback API, onRequest, also exists).
const serving = (async () => {
  for await (const request of human.requests()) {
    console.log(`  request ${request.id} from ${request.workerName}: ${request.question.prompt}`);
    await human.answer(request.id, decide(request), 'policy-engine');
  }
})();

const workers = await Promise.all(
  ['alice', 'bruno'].map(async (name, i) =>
    (await system.spawn(agent, {
      name,
      placement: { thread: 1 + i },
      props: {
        name,
        swarm: 'billing',
        capabilities: ['refunds'],
        model: { model: 'apiary-mock', baseURL: server.baseURL },
        stream: false,
        tools: [toolRef(refund)],
        approver: { ref: human.approver, timeoutMs: 30_000 },
      },
    })) as ActorRef<AgentMessage, TaskResult>,
  ),
);
const results = (await Promise.all([
  system.ask(workers[0]!, { type: 'task', taskId: 'T-1', input: 'refund 40 to the customer' }, { timeoutMs: 60_000 }),
  system.ask(workers[1]!, { type: 'task', taskId: 'T-2', input: 'refund 250 to the customer' }, { timeoutMs: 60_000 }),
])) as TaskResult[];
for (const r of results) console.log(`  ${r.taskId}: ${r.status === 'completed' ? r.answer : r.status}`);
for (const w of tracker.list({ swarm: 'billing' })) console.log(`  ${w.name}: ${w.status.kind}, ${w.tasksDone} done, ${w.tokens} tokens, mean ${w.meanTaskMs?.toFixed(0)} ms`);

await system.stop(); // ends the iterator's broker; the loop below finishes with it
await Promise.race([serving.catch(() => undefined), Promise.resolve()]);
tracker.stop();
await server.close();
