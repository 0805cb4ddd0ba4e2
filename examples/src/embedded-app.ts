/**
 * Embedding Apiary in an application, with the programmatic human-input channel:
 * `npx --yes pnpm@10 build && node examples/dist/embedded-app.js`.
 *
 * Your application decides how people answer (a web UI, a chat bot, a rules engine); here a policy
 * function approves refunds up to 100, edits larger ones down to 100, and answers plan questions
 * from a (pretend) CRM. The worker tracker shows what each worker is doing. Last, a refund over 400
 * waits for a supervisor who is slow to answer, and the worker's thread crashes meanwhile: the
 * restarted worker resumes the task when the answer comes and reports to its `replyTo`.
 */
import { ActorSystem, type ActorRef, type ApiaryEvent } from '@apiary/runtime';
import { agent, toolRef, type AgentMessage, type TaskResult } from '@apiary/agent';
import { MockOpenAIServer } from '@apiary/mock-openai';
import { HumanInput, WorkerTracker, type Answer, type HumanRequest } from '@apiary/worker';
import { refund } from './tools.js';
import { reportPrinter } from './behaviors.js';

const server = await MockOpenAIServer.start();
server.addRule({
  when: { lastUserIncludes: 'refund', afterToolResult: false },
  reply: (r) => ({ kind: 'tool-calls', calls: [{ name: 'refund', arguments: { amount: Number(/\d+/.exec(String(r.messages.at(-1)?.content))?.[0] ?? 1), reason: 'customer request' } }] }),
});
const system = await ActorSystem.start({ threads: 2 });
const tracker = WorkerTracker.start(system);
const human = await HumanInput.start(system);

/** Large refunds wait for a supervisor; here, until the example has crashed the worker's thread. */
let supervisorBack: () => void = () => undefined;
const supervisorAnswers = new Promise<void>((resolve) => (supervisorBack = resolve));

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
    const large = request.question.kind === 'approval' && (request.question.arguments as { amount: number }).amount > 400;
    // Not awaited for the large one: other requests keep being served while it waits.
    const answering = (large ? supervisorAnswers : Promise.resolve()).then(() => human.answer(request.id, decide(request), 'policy-engine'));
    if (!large) await answering;
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

// A task waiting on a person survives a crash of its worker's thread: the ask fails with the thread,
// the request keeps the task's checkpoint, and the restarted worker finishes the task when the answer
// comes, telling its `replyTo`.
const printer = await system.spawn(reportPrinter, { placement: 'main' });
const opened = new Promise<ApiaryEvent>((resolve) => {
  const off = system.events.on('human-request-opened', (e) => (off(), resolve(e)));
});
const asked = system.ask(workers[0]!, { type: 'task', taskId: 'T-3', input: 'refund 500 to the customer', replyTo: printer }, { timeoutMs: 60_000 });
const failed = asked.then(() => 'answered', (e: Error) => e.name);
await opened;
await system.terminateThread(1);
console.log(`  T-3's ask after alice's thread crashed: ${await failed}`);
supervisorBack();
const report = await system.ask(printer, { type: 'next' }, { timeoutMs: 60_000 });
console.log(`  T-3 ${report?.type === 'task-done' ? 'finished' : 'failed'} in the restarted alice`);

await system.stop(); // ends the iterator's broker; the loop below finishes with it
await Promise.race([serving.catch(() => undefined), Promise.resolve()]);
tracker.stop();
await server.close();
