/**
 * Third act of the demo: a tool call that needs a person's approval. On a terminal, the demo asks
 * you (approve, reject with a reason, or edit the arguments); without one (CI, piped output) nobody
 * can answer, so the request is settled at once by its timeout default (deny), and the demo says so.
 */
import { ActorSystem, type ActorRef } from '@apiary/runtime';
import { agent, toolRef, type AgentMessage, type TaskResult } from '@apiary/agent';
import { MockOpenAIServer } from '@apiary/mock-openai';
import { HumanInput, WorkerTracker } from '@apiary/worker';
import { sendEmail } from './tools.js';

export async function approvalDemo(say: (text: string) => void): Promise<void> {
  const server = await MockOpenAIServer.start();
  // The scripted model: asked about the outage, it wants to email ops (then it reports the tool's result).
  server.addRule({
    when: { lastUserIncludes: 'outage', afterToolResult: false },
    reply: { kind: 'tool-calls', calls: [{ name: 'send_email', arguments: { to: 'ops@example.com', subject: 'Outage at 09:14: checkout down' } }] },
  });
  const system = await ActorSystem.start({ threads: 1 });
  const tracker = WorkerTracker.start(system);
  const human = await HumanInput.start(system);
  const terminal = process.stdin.isTTY === true ? await human.attachTerminal() : null;
  system.events.on('worker-status', (e) => say(`  event worker-status    ${e.name}: ${e.previous ?? 'new'} -> ${e.status.kind}`));
  system.events.on('human-request-settled', (e) => {
    const o = e.outcome;
    if (o.status === 'timed-out') say(`  no answer${o.noChannel ? ' (no terminal attached: nobody to ask)' : ''}: the default '${o.applied}' applied`);
    else if (o.status === 'answered') say(`  answered on ${o.channel}`);
  });
  try {
    const clerk = (await system.spawn(agent, {
      name: 'clerk',
      props: {
        name: 'clerk',
        capabilities: ['email'],
        model: { model: 'apiary-mock', baseURL: server.baseURL },
        stream: false,
        tools: [toolRef(sendEmail)],
        approver: { ref: human.approver, timeoutMs: 60_000 },
      },
    })) as ActorRef<AgentMessage, TaskResult>;
    say(terminal === null ? 'the clerk wants to send an email; stdin is not a terminal, so nobody can approve it' : 'the clerk wants to send an email: approve it below (a), reject it (r) or edit it (e)');
    const r = (await system.ask(clerk, { type: 'task', taskId: 'mail-1', input: 'tell ops about the outage' }, { timeoutMs: 120_000 })) as TaskResult;
    say(`  clerk: ${r.status === 'completed' ? r.answer : r.status}`);
    const info = tracker.get(clerk.id);
    say(`  tracker: ${info?.name} (${info?.capabilities.join(', ')}), ${info?.tasksDone} task done, ${info?.tokens} tokens, status ${info?.status.kind}`);
  } finally {
    await terminal?.detach();
    tracker.stop();
    await system.stop();
    await server.close();
  }
}
