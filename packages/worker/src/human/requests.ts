import { InvalidArgumentError, type ActorRef } from '@apiary/runtime';
import { checkAnswer, validateQuestion, type Answer, type Question } from './questions.js';
import type { HumanSettledNotice } from '@apiary/agent';

/**
 * What happens when nobody answers in time: `deny` (an approval is rejected, a confirmation is
 * "no"), `answer` (continue with a stated answer), or `fail` (the task fails with HumanTimeoutError).
 */
export type TimeoutDefault = { readonly kind: 'deny' } | { readonly kind: 'answer'; readonly answer: Answer } | { readonly kind: 'fail' };

/** A request as a worker opens it. */
export interface HumanRequestSpec {
  /** The asking worker's id and name. */
  readonly worker: string;
  readonly workerName?: string;
  readonly taskId: string;
  readonly question: Question;
  /** Time allowed for an answer. Default 300000 ms (5 minutes). */
  readonly timeoutMs?: number;
  /** Default `{ kind: 'deny' }` for approvals and confirmations, `{ kind: 'fail' }` otherwise. */
  readonly onTimeout?: TimeoutDefault;
}

/** An open request, as channels and people see it. */
export interface HumanRequest {
  readonly id: string;
  readonly worker: string;
  readonly workerName: string | null;
  readonly taskId: string;
  readonly question: Question;
  /** Epoch ms. */
  readonly createdAt: number;
  readonly deadline: number;
  readonly onTimeout: TimeoutDefault;
}

/** How a request ended, as delivered to the asking worker. */
export type HumanOutcome =
  | { readonly id: string; readonly status: 'answered'; readonly answer: Answer; readonly channel: string }
  /**
   * Nobody answered in time; `answer` is what the default made of it (deny or the stated answer).
   * `noChannel`: no channel was attached to ask anyone, so the default applied at once.
   */
  | { readonly id: string; readonly status: 'timed-out'; readonly answer: Answer; readonly applied: 'deny' | 'answer'; readonly noChannel: boolean }
  | { readonly id: string; readonly status: 'timed-out'; readonly applied: 'fail'; readonly noChannel: boolean }
  | { readonly id: string; readonly status: 'cancelled'; readonly reason: string };

/** The deny answer of a question, or null when the question has no "no" to give. */
export function denyAnswer(question: Question): Answer | null {
  if (question.kind === 'approval') return { kind: 'approval', decision: 'reject', reason: 'nobody approved this call before the deadline' };
  if (question.kind === 'confirm') return { kind: 'confirm', confirmed: false };
  return null;
}

/** Checks a spec at the boundary and fills its defaults. */
export function openRequest(id: string, spec: HumanRequestSpec, now: number): HumanRequest {
  if (typeof spec?.worker !== 'string' || spec.worker.length === 0) throw new InvalidArgumentError('request.worker', 'must be the asking worker id');
  if (typeof spec.taskId !== 'string' || spec.taskId.length === 0) throw new InvalidArgumentError('request.taskId', 'must be a non-empty string');
  const question = validateQuestion(spec.question);
  const timeoutMs = spec.timeoutMs ?? 300_000;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new InvalidArgumentError('request.timeoutMs', 'must be > 0');
  const onTimeout = spec.onTimeout ?? (denyAnswer(question) === null ? { kind: 'fail' } : { kind: 'deny' });
  if (onTimeout.kind === 'deny' && denyAnswer(question) === null) {
    throw new InvalidArgumentError('request.onTimeout', `a '${question.kind}' question has nothing to deny: use 'answer' or 'fail'`);
  }
  if (onTimeout.kind === 'answer') {
    const checked = checkAnswer(question, onTimeout.answer);
    if (!checked.ok) throw new InvalidArgumentError('request.onTimeout.answer', checked.problem);
  } else if (onTimeout.kind !== 'deny' && onTimeout.kind !== 'fail') {
    throw new InvalidArgumentError('request.onTimeout', "must be { kind: 'deny' | 'answer' | 'fail' }");
  }
  return { id, worker: spec.worker, workerName: spec.workerName ?? null, taskId: spec.taskId, question, createdAt: now, deadline: now + timeoutMs, onTimeout };
}

/**
 * What the broker sends to a request's `replyTo` when it ends (with the asker's continuation, if
 * any). `reply` is what the request's ask was answered with (an approval's decision, or its error),
 * or the outcome for a request opened with `open`: the agent level's `HumanSettledNotice`.
 */
export interface HumanSettled<C = unknown> extends HumanSettledNotice {
  readonly outcome: HumanOutcome;
  readonly request: HumanRequest;
  readonly continuation: C | null;
}

/** Where a settled request is delivered. */
export type SettledTarget = ActorRef<HumanSettled, unknown>;
