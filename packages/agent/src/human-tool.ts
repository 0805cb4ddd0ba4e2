import { z } from 'zod';
import type { ActorContext, ActorRef } from '@apiary/runtime';
import type { Park, ResumeWith } from './human-wait.js';
import { defineTool, type Tool } from './tools.js';

/**
 * What an agent sends to ask a person (`AgentDefinition.humanInput`); the worker level's broker
 * answers it with the request's outcome when it settles.
 */
export interface HumanAsk {
  readonly type: 'ask';
  readonly spec: {
    readonly worker: string;
    readonly workerName: string;
    readonly taskId: string;
    readonly question: { readonly kind: 'text'; readonly prompt: string } | { readonly kind: 'choice'; readonly prompt: string; readonly options: readonly string[] };
    readonly timeoutMs: number;
    readonly onTimeout: { readonly kind: 'fail' };
  };
  /** Tell the outcome here too, with this continuation (the asking task's checkpoint). */
  readonly resume?: ResumeWith | undefined;
}

/** The part of an outcome the agent reads. */
export type HumanAskOutcome =
  | { readonly status: 'answered'; readonly answer: { readonly kind: 'text'; readonly text: string } | { readonly kind: 'choice'; readonly choice: string } }
  | { readonly status: 'timed-out' | 'cancelled' };

/** What `ask_human` hands the model for an outcome. */
export function answerText(outcome: HumanAskOutcome): string {
  if (outcome.status !== 'answered') return `no answer from a person (${outcome.status})`;
  return outcome.answer.kind === 'text' ? outcome.answer.text : outcome.answer.choice;
}

/**
 * The `ask_human` tool: the model asks a person a free-text question, or to choose among options.
 * A question nobody answers in time comes back to the model as "no answer" (the model decides what
 * to do without it); it never hangs the task past `timeoutMs`. The wait goes through `park`, so the
 * task survives a restart of its agent meanwhile.
 */
export function askHumanTool(ref: ActorRef<HumanAsk, HumanAskOutcome>, agentName: string, timeoutMs: number, ctx: Pick<ActorContext<unknown>, 'ask' | 'self'>, park: Park): Tool {
  return defineTool(import.meta.url, 'askHumanTool', {
    name: 'ask_human',
    description: 'Asks a person a question and waits for the answer. Give options when the answer should be one of them.',
    parameters: z.object({ question: z.string().min(3).max(2_000), options: z.array(z.string().min(1)).min(2).max(10).optional() }),
    // The person's deadline, plus the time for the messages.
    timeoutMs: timeoutMs + 10_000,
    handler: async ({ question, options }, tool) => {
      const outcome = await park(tool.taskId, tool.callId, 'question', (resume) =>
        ctx.ask(
          ref,
          {
            type: 'ask',
            spec: {
              worker: ctx.self.path,
              workerName: agentName,
              taskId: tool.taskId ?? 'unknown',
              question: options === undefined ? { kind: 'text', prompt: question } : { kind: 'choice', prompt: question, options },
              timeoutMs,
              onTimeout: { kind: 'fail' },
            },
            ...(resume === undefined ? {} : { resume }),
          },
          { timeoutMs: timeoutMs + 10_000 },
        ),
      );
      return answerText(outcome);
    },
  });
}
