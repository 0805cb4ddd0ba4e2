/**
 * Human in the loop on a terminal: `npx --yes pnpm@10 build && node examples/dist/human-terminal.js`.
 *
 * A support agent asks you which plan a customer is on (a choice), then wants to issue a refund (a
 * tool that needs your approval: approve, reject with a reason, or edit the amount). Without a
 * terminal (piped stdin) nobody can be asked: each request settles by its default and says so.
 */
import { ActorSystem, type ActorRef } from '@apiary/runtime';
import { agent, toolRef, type AgentMessage, type TaskResult } from '@apiary/agent';
import { MockOpenAIServer } from '@apiary/mock-openai';
import { HumanInput, type HumanOutcome } from '@apiary/worker';
import { refund } from './tools.js';

const server = await MockOpenAIServer.start();
server.addRule({ when: { lastUserIncludes: 'refund', afterToolResult: false }, reply: { kind: 'tool-calls', calls: [{ name: 'refund', arguments: { amount: 80, reason: 'double charge' } }] } });
const system = await ActorSystem.start({ threads: 1 });
const human = await HumanInput.start(system);
const terminal = await human.attachTerminal(); // null when stdin is not a TTY
if (terminal === null) console.log('(stdin is not a terminal: requests will settle by their defaults)');
system.events.on('human-request-settled', (e) => {
  if (e.outcome.status === 'timed-out') console.log(`(request ${e.request.id}: default '${e.outcome.applied}' applied${e.outcome.noChannel ? ', no channel attached' : ''})`);
});

// 1. A direct question, asked through the broker as any actor can (`ctx.ask` inside one).
const plan = (await system.ask(
  human.broker,
  {
    type: 'ask',
    spec: {
      worker: 'support-agent',
      workerName: 'support',
      taskId: 'ticket-4711',
      question: { kind: 'choice', prompt: 'Which plan is the customer on?', options: ['free', 'pro', 'enterprise'] },
      timeoutMs: 60_000,
      onTimeout: { kind: 'answer', answer: { kind: 'choice', choice: 'free' } },
    },
  },
  { timeoutMs: 70_000 },
)) as HumanOutcome;
console.log(`plan: ${plan.status === 'cancelled' || (plan.status === 'timed-out' && plan.applied === 'fail') ? plan.status : JSON.stringify(plan.answer)}`);

// 2. A tool call that needs approval.
const support = (await system.spawn(agent, {
  props: {
    name: 'support',
    model: { model: 'apiary-mock', baseURL: server.baseURL },
    stream: false,
    tools: [toolRef(refund)],
    approver: { ref: human.approver, timeoutMs: 60_000 },
  },
})) as ActorRef<AgentMessage, TaskResult>;
const result = (await system.ask(support, { type: 'task', taskId: 'ticket-4711', input: 'the customer was charged twice, refund them' }, { timeoutMs: 120_000 })) as TaskResult;
console.log(`support: ${result.status === 'completed' ? result.answer : result.status}`);

await terminal?.detach();
await system.stop();
await server.close();
