/**
 * Tasks that wait on a person survive a restart of their agent. While a task waits (an approval, an
 * `ask_human` question), the request carries a checkpoint of the task as its continuation; the
 * human-input broker keeps it and, when the request settles, tells the agent. The incarnation that
 * asked answers in place (its ask is answered too); a restarted incarnation finds no such task and
 * resumes it from the checkpoint.
 */
import { deserializeError, InvalidArgumentError, type ActorRef, type ReplyToken, type SerializedError } from '@apiary/runtime';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { runToolCall, type ApprovalDecision, type ApprovalGate, type CallState, type Tool, type ToolOutcome } from './tools.js';
import type { CpuPool } from './cpu-pool.js';
import { setCallState, type Budgets, type TaskProgress, type TaskResult, type TaskUsage, type ToolCallRecord } from './runner.js';
import type { ToolCallRequest } from './model-client.js';
import { answerText, type HumanAskOutcome } from './human-tool.js';

/**
 * What the human-input broker tells the asker of a request opened with {@link ResumeWith} when it
 * settles: the continuation it was given, and what the ask was (or would have been) answered with.
 */
export interface HumanSettledNotice {
  readonly type: 'human-settled';
  readonly reply: { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: SerializedError };
  readonly continuation: unknown;
}

/** Attached to an approval or a question: where to tell the outcome, with what continuation. */
export interface ResumeWith {
  readonly replyTo: ActorRef<HumanSettledNotice, unknown>;
  readonly continuation: unknown;
}

/** What a task that ended tells the `replyTo` of its task message, from whichever incarnation ended it. */
export type TaskReport =
  | { readonly type: 'task-done'; readonly agent: string; readonly taskId: string; readonly result: TaskResult }
  | { readonly type: 'task-failed'; readonly agent: string; readonly taskId: string; readonly error: SerializedError };

/** What a waiting call waits for. */
export type WaitKind = 'approval' | 'question';

/**
 * How a task waits on a person: `ask` sends the request (with `resume`, when the wait belongs to a
 * task, so a restarted agent can go on with it) and resolves with its answer. A task waits on one
 * request at a time, so its checkpoint names exactly one waiting call.
 */
export type Park = <T>(taskId: string | undefined, callId: string, kind: WaitKind, ask: (resume: ResumeWith | undefined) => Promise<T>) => Promise<T>;

/** The task a checkpoint belongs to: enough to answer whoever gave it and to go on with it. */
export interface CheckpointTask {
  readonly taskId: string;
  readonly input: string;
  /** Resolved: the agent's defaults tightened by the task's own. */
  readonly budgets: Budgets;
  readonly token: ReplyToken<TaskResult> | null;
  readonly replyTo: ActorRef<TaskReport, unknown> | null;
  /** Epoch ms when the task first started (task times span incarnations). */
  readonly startedAt: number;
}

/** A task parked on a person, as plain data (it travels to the broker and back). */
export interface TaskCheckpoint {
  readonly kind: 'apiary.task-checkpoint';
  readonly version: 1;
  /** The agent incarnation that parked it. */
  readonly incarnation: string;
  readonly task: CheckpointTask;
  readonly progress: {
    readonly messages: readonly ChatCompletionMessageParam[];
    readonly turn: number;
    readonly usage: TaskUsage;
    readonly records: readonly ToolCallRecord[];
    readonly calls: readonly ToolCallRequest[];
    readonly states: readonly CallState[];
  };
  /** The call that waits on the person. */
  readonly waiting: { readonly callId: string; readonly kind: WaitKind };
}

/**
 * A checkpoint of `progress` as it stands, made when the call `callId` starts waiting on a person.
 * Its siblings in the turn are done, not started, or about to wait on a person themselves (`parked`,
 * recorded as not started: they have done nothing yet, and will ask again after a restart).
 */
export function checkpointOf(incarnation: string, task: CheckpointTask, progress: TaskProgress, callId: string, kind: WaitKind, parked: ReadonlySet<string>): TaskCheckpoint {
  return {
    kind: 'apiary.task-checkpoint',
    version: 1,
    incarnation,
    task,
    progress: {
      messages: [...progress.messages],
      turn: progress.turn,
      usage: progress.usage,
      records: [...progress.records],
      calls: [...progress.calls],
      // A tool's value stays behind (it need not be cloneable); the model only ever reads `content`.
      states: progress.states.map((s, i): CallState => {
        if (s.status === 'done') return s.outcome.ok ? { status: 'done', outcome: { ...s.outcome, value: null } } : s;
        return s.status === 'running' && progress.calls[i]!.id !== callId && parked.has(progress.calls[i]!.id) ? { status: 'queued' } : s;
      }),
    },
    waiting: { callId, kind },
  };
}

/** The checkpoint in a continuation, checked; null when the continuation is not one (not ours to resume). */
export function readCheckpoint(continuation: unknown): TaskCheckpoint | null {
  const c = continuation as Partial<TaskCheckpoint> | null;
  if (c?.kind !== 'apiary.task-checkpoint') return null;
  if (c.version !== 1) throw new InvalidArgumentError('continuation', `checkpoint version ${String(c.version)} is not supported`);
  const p = c.progress;
  const ok =
    typeof c.incarnation === 'string' &&
    typeof c.task?.taskId === 'string' &&
    typeof c.task.input === 'string' &&
    Array.isArray(p?.messages) &&
    Number.isInteger(p.turn) &&
    Array.isArray(p.calls) &&
    Array.isArray(p.states) &&
    p.calls.length === p.states.length &&
    p.calls.some((call) => call.id === c.waiting?.callId) &&
    // Only the waiting call may be running: a task parks once its other started calls are done.
    p.states.every((s, i) => s?.status !== 'running' || p.calls[i]?.id === c.waiting?.callId);
  if (!ok) throw new InvalidArgumentError('continuation', 'is a malformed task checkpoint');
  return c as TaskCheckpoint;
}

/** The progress a resumed task goes on from (fresh arrays: the checkpoint stays as it came). */
export function progressOf(checkpoint: TaskCheckpoint): TaskProgress {
  const p = checkpoint.progress;
  return { messages: [...p.messages], turn: p.turn, usage: p.usage, records: [...p.records], calls: [...p.calls], states: [...p.states], watchers: new Set(), holds: 0 };
}

/** The value a settled request's ask was answered with; its error, rebuilt, is thrown. */
function valueOf(reply: HumanSettledNotice['reply']): unknown {
  if (!reply.ok) throw deserializeError(reply.error);
  return reply.value;
}

/**
 * Finishes the turn that was waiting when the agent restarted, updating `progress.states`: calls
 * done before keep their outcome; the waiting call gets the person's reply (an approval decides
 * whether it runs; a question's answer is what `ask_human` returns); calls that had not started run
 * now, one after another. Resolves with one outcome per call, in call order.
 */
export async function resumeTurn(
  checkpoint: TaskCheckpoint,
  reply: HumanSettledNotice['reply'],
  progress: TaskProgress,
  run: { readonly tools: ReadonlyMap<string, Tool>; readonly signal: AbortSignal; readonly cpu: CpuPool | undefined; readonly approve: ApprovalGate | undefined; readonly taskId: string },
): Promise<ToolOutcome[]> {
  const outcomes: ToolOutcome[] = [];
  for (const [i, call] of progress.calls.entries()) {
    const state = progress.states[i]!;
    if (state.status === 'done') {
      outcomes.push(state.outcome);
      continue;
    }
    setCallState(progress, i, { status: 'running' });
    let outcome: ToolOutcome;
    if (call.id !== checkpoint.waiting.callId) {
      outcome = await runToolCall(run.tools, call, run.signal, run.cpu, run.approve, run.taskId);
    } else if (checkpoint.waiting.kind === 'approval') {
      outcome = await runToolCall(run.tools, call, run.signal, run.cpu, async () => valueOf(reply) as ApprovalDecision, run.taskId);
    } else {
      // The question's tool again, with the person's reply already in hand.
      const asked = run.tools.get(call.name);
      const answered: Tool | undefined = asked === undefined ? undefined : { ...asked, handler: () => answerText(valueOf(reply) as HumanAskOutcome) };
      outcome = await runToolCall(answered === undefined ? run.tools : new Map([...run.tools, [call.name, answered]]), call, run.signal, run.cpu, run.approve, run.taskId);
    }
    setCallState(progress, i, { status: 'done', outcome });
    outcomes.push(outcome);
  }
  return outcomes;
}
