/**
 * How an agent actor runs its tasks: admission up to `maxConcurrentTasks`, the run itself, the end
 * of a task (answered to the asker, told to its `replyTo`, published), waits on a person that
 * survive a restart (checkpoints), and what a restart or a stop does to tasks in flight.
 */
import { ActorStoppedError, ErrorReply, serializeError, toError, type ActorContext, type ReplyToken } from '@apiary/runtime';
import type { ModelClient } from './model-client.js';
import { finishTurn, holdCalls, newProgress, nextChange, NO_USAGE, runTask, tighter, type TaskEvent, type TaskProgress, type TaskResult, type TaskSpec } from './runner.js';
import type { ApprovalDecision, ApprovalGate, Tool } from './tools.js';
import type { CpuPool } from './cpu-pool.js';
import { recallFor, type MemoryBinding } from './memory-tools.js';
import { checkpointOf, progressOf, resumeTurn, type CheckpointTask, type HumanSettledNotice, type Park, type TaskCheckpoint, type TaskReport } from './human-wait.js';
import type { AgentDefinition, AgentMessage, AgentTotals, ApprovalAsk } from './agent-behavior.js';

/** A task message, as the agent takes it. */
export type TaskMessage = Extract<AgentMessage, { type: 'task' }>;

/** One task of this incarnation, queued or running. */
interface TaskEntry {
  readonly task: CheckpointTask;
  readonly controller: AbortController;
  /** Where the task stands once it runs (what a checkpoint is made of). */
  progress: TaskProgress | null;
  /** The wait on a person in progress, if any: a task asks one thing at a time. */
  waiting: Promise<unknown> | null;
  /** Calls of the current turn waiting for their turn to ask a person (they have done nothing yet). */
  readonly parked: Set<string>;
  /** Ended here (answered, told, published): nothing more may be said about it from here. */
  ended: boolean;
  /** Left to a later incarnation, which will resume it when its person answers. */
  handedOver: boolean;
}

/** The part of an agent's state its tasks use. */
export interface AgentTasks {
  readonly def: AgentDefinition;
  readonly client: ModelClient;
  readonly tools: readonly Tool[];
  readonly cpu: CpuPool | undefined;
  readonly memory: MemoryBinding | undefined;
  /** Random per incarnation: a checkpoint names the incarnation that parked it. */
  readonly incarnation: string;
  /** How this incarnation's tasks wait on a person ({@link parker}). */
  readonly park: Park;
  /** Tasks waiting for a free slot, oldest first. */
  readonly queue: TaskEntry[];
  /** Running tasks, by task id. */
  readonly running: Map<string, TaskEntry>;
  /** Checkpoints resumed by this incarnation (task id and waiting call), so a repeated notice is ignored. */
  readonly resumed: Set<string>;
  totals: AgentTotals;
}

type Ctx = ActorContext<AgentMessage>;

/** Admits a task: it runs when a slot is free, and its result answers `token` and is told to `replyTo`. */
export function admit(state: AgentTasks, message: TaskMessage, token: ReplyToken<TaskResult> | null, ctx: Ctx): void {
  state.queue.push(entryOf({
    taskId: message.taskId,
    input: message.input,
    budgets: tighter(state.def.budgets ?? {}, message.budgets),
    token,
    replyTo: message.replyTo ?? null,
    startedAt: Date.now(),
  }));
  drain(state, ctx);
}

/**
 * Goes on with a task that a previous incarnation parked on a person, now that the person's reply is
 * here. It runs at once, even above `maxConcurrentTasks`: it was admitted before the restart.
 */
export function resume(state: AgentTasks, checkpoint: TaskCheckpoint, reply: HumanSettledNotice['reply'], ctx: Ctx): void {
  const key = `${checkpoint.task.taskId}\u0000${checkpoint.waiting.callId}`;
  if (state.resumed.has(key) || state.running.has(checkpoint.task.taskId)) return;
  state.resumed.add(key);
  const entry = entryOf(checkpoint.task);
  state.running.set(entry.task.taskId, entry);
  ctx.publish({ type: 'task-resumed', time: Date.now(), agent: ctx.self.path, taskId: entry.task.taskId, turn: checkpoint.progress.turn, waitedFor: checkpoint.waiting.kind });
  void run(state, entry, ctx, { checkpoint, reply }).then(() => {
    state.running.delete(entry.task.taskId);
    drain(state, ctx);
  });
}

/**
 * Before a restart: tasks waiting on a person are handed over (their request carries their
 * checkpoint, and the next incarnation resumes them when it settles); every other task ends here
 * with `ActorStoppedError`, queued ones included.
 */
export function handOver(state: AgentTasks, why: string, ctx: Ctx): void {
  for (const entry of state.running.values()) if (entry.waiting !== null) entry.handedOver = true;
  endAll(state, why, ctx);
}

/** Ends every task of this incarnation with `ActorStoppedError` (a stop; after `handOver`, the rest). */
export function endAll(state: AgentTasks, why: string, ctx: Ctx): void {
  for (const entry of [...state.running.values(), ...state.queue.splice(0)]) {
    entry.controller.abort(new Error(why));
    end(state, entry, new ActorStoppedError(`task ${entry.task.taskId}`, why), ctx);
  }
}

function entryOf(task: CheckpointTask): TaskEntry {
  return { task, controller: new AbortController(), progress: null, waiting: null, parked: new Set(), ended: false, handedOver: false };
}

/** Starts queued tasks while fewer than `maxConcurrentTasks` run. */
function drain(state: AgentTasks, ctx: Ctx): void {
  const max = state.def.maxConcurrentTasks ?? 1;
  while (state.running.size < max && state.queue.length > 0) {
    const entry = state.queue.shift()!;
    state.running.set(entry.task.taskId, entry);
    ctx.publish({ type: 'task-started', time: Date.now(), agent: ctx.self.path, taskId: entry.task.taskId });
    void run(state, entry, ctx).then(() => {
      state.running.delete(entry.task.taskId);
      drain(state, ctx);
    });
  }
}

/** Runs one task (from its start, or from a checkpoint) to its end; never rejects. */
async function run(state: AgentTasks, entry: TaskEntry, ctx: Ctx, from?: { checkpoint: TaskCheckpoint; reply: HumanSettledNotice['reply'] }): Promise<void> {
  const { task } = entry;
  const signal = entry.controller.signal;
  try {
    let progress: TaskProgress;
    if (from === undefined) {
      const memories = state.memory === undefined ? undefined : await recallFor(state.memory, task.input);
      progress = newProgress([state.def.system, memories].filter((part) => part !== undefined && part.length > 0).join('\n\n'), task.input);
    } else {
      progress = progressOf(from.checkpoint);
    }
    entry.progress = progress;
    const onEvent = forward(ctx, task.taskId);
    const spec: TaskSpec = {
      taskId: task.taskId,
      input: task.input,
      budgets: task.budgets,
      toolConcurrency: state.def.toolConcurrency ?? 4,
      stream: state.def.stream ?? true,
      onEvent,
      cpu: state.cpu,
      approve: approverGate(state.def, ctx, task.taskId, state.park),
      signal,
    };
    if (from !== undefined) {
      const tools = new Map(state.tools.map((t) => [t.name, t]));
      const outcomes = await resumeTurn(from.checkpoint, from.reply, progress, { tools, signal, cpu: state.cpu, approve: spec.approve, taskId: task.taskId });
      signal.throwIfAborted();
      finishTurn(progress, outcomes, onEvent);
    }
    end(state, entry, await runTask(state.client, state.tools, spec, progress), ctx);
  } catch (error) {
    // The model stayed unavailable (or refused), or the task was stopped: the asker gets the typed
    // error; the agent is fine and is not restarted (a flaky API must not burn its supervisor's intensity).
    end(state, entry, toError(error), ctx);
  }
}

/** The end of a task, said once: totals, the task-finished event, the asker's answer, the report to `replyTo`. */
function end(state: AgentTasks, entry: TaskEntry, outcome: TaskResult | Error, ctx: Ctx): void {
  if (entry.ended || entry.handedOver) return;
  entry.ended = true;
  const { task } = entry;
  const t = state.totals;
  const failed = outcome instanceof Error;
  const usage = failed ? (entry.progress?.usage ?? NO_USAGE) : outcome.usage;
  state.totals = {
    promptTokens: t.promptTokens + usage.promptTokens,
    completionTokens: t.completionTokens + usage.completionTokens,
    totalTokens: t.totalTokens + usage.totalTokens,
    costUsd: t.costUsd + usage.costUsd,
    tasksCompleted: t.tasksCompleted + (!failed && outcome.status === 'completed' ? 1 : 0),
    tasksFailed: t.tasksFailed + (failed ? 1 : 0),
    tasksOverBudget: t.tasksOverBudget + (!failed && outcome.status === 'budget-exceeded' ? 1 : 0),
  };
  ctx.publish({
    type: 'task-finished',
    time: Date.now(),
    agent: ctx.self.path,
    taskId: task.taskId,
    status: failed ? 'failed' : outcome.status,
    turns: failed ? (entry.progress?.turn ?? 0) : outcome.turns,
    usage,
    ms: Date.now() - task.startedAt,
    ...(failed ? { error: outcome.message } : {}),
  });
  if (task.token !== null) ctx.answer(task.token, failed ? new ErrorReply(outcome) : outcome);
  if (task.replyTo !== null) {
    const report: TaskReport = failed
      ? { type: 'task-failed', agent: ctx.self.path, taskId: task.taskId, error: serializeError(outcome) }
      : { type: 'task-done', agent: ctx.self.path, taskId: task.taskId, result: outcome };
    ctx.tell(task.replyTo, report);
  }
}

/**
 * The waits of this incarnation's tasks on a person. A task asks one thing at a time; while it
 * waits, no other call of its turn starts, and it asks only once the calls already running have
 * finished. Its checkpoint is then exact: one waiting call, every finished call's result, the rest
 * not started, nothing running whose outcome a restart would lose. The request carries it.
 */
export function parker(tasks: () => AgentTasks, ctx: Ctx): Park {
  return async (taskId, callId, kind, ask) => {
    const state = tasks();
    const entry = taskId === undefined ? undefined : state.running.get(taskId);
    const progress = entry?.progress;
    if (entry === undefined || progress === null || progress === undefined || !progress.calls.some((c) => c.id === callId)) return ask(undefined);
    // No other call of the turn starts until this wait is over; the ones running finish first.
    const release = holdCalls(progress);
    entry.parked.add(callId);
    try {
      for (;;) {
        entry.controller.signal.throwIfAborted();
        if (entry.waiting !== null) {
          await entry.waiting.catch(() => undefined);
          continue;
        }
        const busy = progress.calls.some((c, i) => c.id !== callId && progress.states[i]?.status === 'running' && !entry.parked.has(c.id));
        if (!busy) break;
        await nextChange(progress);
      }
    } catch (error) {
      release();
      throw error;
    } finally {
      entry.parked.delete(callId);
    }
    const continuation = checkpointOf(state.incarnation, entry.task, progress, callId, kind, entry.parked);
    const waiting = ask({ replyTo: ctx.self, continuation });
    entry.waiting = waiting;
    try {
      return await waiting;
    } finally {
      entry.waiting = null;
      release();
    }
  };
}

/** The approval gate of a task: each call that needs approval is asked of the agent's approver. */
function approverGate(def: AgentDefinition, ctx: Ctx, taskId: string, park: Park): ApprovalGate | undefined {
  const approver = def.approver;
  if (approver === undefined) return undefined;
  const timeoutMs = approver.timeoutMs ?? 300_000;
  return ({ tool, callId, arguments: args }) =>
    park<ApprovalDecision>(taskId, callId, 'approval', (resume) => {
      const ask: ApprovalAsk = {
        type: 'approve',
        agent: ctx.self.path,
        agentName: def.name,
        taskId,
        tool: tool.name,
        description: tool.description,
        callId,
        arguments: args,
        schema: tool.jsonSchema,
        timeoutMs,
        ...(resume === undefined ? {} : { resume }),
      };
      // The approver settles by the deadline; the slack covers the messages there and back.
      return ctx.ask(approver.ref, ask, { timeoutMs: timeoutMs + 10_000 });
    });
}

function forward(ctx: Ctx, taskId: string): (event: TaskEvent) => void {
  const agent = ctx.self.path;
  return (event) => {
    const time = Date.now();
    switch (event.type) {
      case 'token':
        if (!ctx.wants('model-token')) return; // the hot one: tens of events per answer
        ctx.publish({ type: 'model-token', time, agent, taskId, model: event.model, delta: event.delta });
        return;
      case 'retry':
        ctx.publish({ type: 'model-retry', time, agent, taskId, model: event.model, attempt: event.attempt, delayMs: event.delayMs, status: event.status, error: event.error });
        return;
      case 'fallback':
        ctx.publish({ type: 'model-fallback', time, agent, taskId, from: event.from, to: event.to, error: event.error });
        return;
      case 'turn':
        if (!ctx.wants('token-usage')) return;
        ctx.publish({
          type: 'token-usage',
          time,
          agent,
          taskId,
          model: event.model,
          promptTokens: event.usage.promptTokens,
          completionTokens: event.usage.completionTokens,
          costUsd: event.usage.costUsd,
          estimated: event.usage.estimated,
        });
        return;
      case 'tool':
        ctx.publish({ type: 'tool-called', time, agent, taskId, name: event.name, callId: event.callId, ok: event.ok, failure: event.failure, ms: event.ms });
        return;
      default: {
        const never: never = event;
        throw new Error(`unknown task event ${JSON.stringify(never)}`);
      }
    }
  };
}

