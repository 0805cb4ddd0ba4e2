import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { InvalidArgumentError } from '@apiary/runtime';
import type { ModelClient, ModelEvent, ModelUsage, ToolCallRequest } from './model-client.js';
import { runToolCalls, toolsForModel, type ApprovalGate, type CallState, type CallTracker, type Tool, type ToolFailure, type ToolOutcome } from './tools.js';
import type { CpuPool } from './cpu-pool.js';

/** Limits of one task (and defaults of an agent). Every default is listed. */
export interface Budgets {
  /** Model calls per task. Default 10. */
  readonly maxTurns?: number;
  /** Prompt plus completion tokens per task. Default: unlimited. */
  readonly maxTokens?: number;
  /** Cost per task in USD, by the price table. Default: unlimited. */
  readonly maxCostUsd?: number;
}

/** Totals of a task. */
export interface TaskUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
  readonly costUsd: number;
}

/** One tool call the task made. */
export interface ToolCallRecord {
  readonly name: string;
  readonly callId: string;
  readonly ok: boolean;
  readonly failure?: ToolFailure | undefined;
  readonly ms: number;
}

/** A task the model finished: its final answer, with what it took. */
export interface TaskCompleted {
  readonly status: 'completed';
  readonly taskId: string;
  readonly answer: string;
  readonly turns: number;
  readonly toolCalls: readonly ToolCallRecord[];
  readonly usage: TaskUsage;
  /** The model that gave the answer (a fallback, perhaps). */
  readonly model: string;
}

/** A task stopped by one of its budgets: which one, its limit, and how far the task had got. */
export interface BudgetExceeded {
  readonly status: 'budget-exceeded';
  readonly taskId: string;
  readonly budget: 'turns' | 'tokens' | 'cost';
  readonly limit: number;
  readonly used: number;
  readonly turns: number;
  readonly toolCalls: readonly ToolCallRecord[];
  readonly usage: TaskUsage;
}

/** How a task ended. A budget reached is a result, not an error; a model that never answered is an error. */
export type TaskResult = TaskCompleted | BudgetExceeded;

/** What a running task reports (the agent actor forwards these to the event bus). */
export type TaskEvent =
  | ModelEvent
  | { readonly type: 'turn'; readonly turn: number; readonly model: string; readonly usage: ModelUsage; readonly toolCalls: number }
  | { readonly type: 'tool'; readonly name: string; readonly callId: string; readonly ok: boolean; readonly failure?: ToolFailure | undefined; readonly ms: number };

/** One task for {@link runTask}. */
export interface TaskSpec {
  readonly taskId: string;
  readonly input: string;
  readonly system?: string | undefined;
  readonly budgets: Budgets;
  readonly toolConcurrency: number;
  readonly stream: boolean;
  readonly signal?: AbortSignal | undefined;
  readonly onEvent?: ((event: TaskEvent) => void) | undefined;
  /** Runs the CPU-bound tools. */
  readonly cpu?: CpuPool | undefined;
  /** Approves calls of tools marked `requiresApproval`. */
  readonly approve?: ApprovalGate | undefined;
}

/** Checks budgets, naming the field. */
export function validateBudgets(budgets: Budgets, field: string): void {
  if (budgets.maxTurns !== undefined && !(Number.isInteger(budgets.maxTurns) && budgets.maxTurns >= 1)) {
    throw new InvalidArgumentError(`${field}.maxTurns`, 'must be an integer >= 1');
  }
  if (budgets.maxTokens !== undefined && !(budgets.maxTokens > 0)) throw new InvalidArgumentError(`${field}.maxTokens`, 'must be > 0');
  if (budgets.maxCostUsd !== undefined && !(budgets.maxCostUsd > 0)) throw new InvalidArgumentError(`${field}.maxCostUsd`, 'must be > 0');
}

/** The tighter of two budgets, field by field. */
export function tighter(a: Budgets, b: Budgets | undefined): Budgets {
  const min = (x: number | undefined, y: number | undefined): number | undefined => (x === undefined ? y : y === undefined ? x : Math.min(x, y));
  return { maxTurns: min(a.maxTurns, b?.maxTurns), maxTokens: min(a.maxTokens, b?.maxTokens), maxCostUsd: min(a.maxCostUsd, b?.maxCostUsd) };
}

/**
 * Where a task stands, kept up to date by {@link runTask}: the conversation, the turns and usage so
 * far, and the current turn's tool calls with where each stands. Plain data (with
 * {@link checkpointOf}), so a task waiting on a person can be checkpointed and resumed by a restarted
 * agent.
 */
export interface TaskProgress {
  readonly messages: ChatCompletionMessageParam[];
  /** Model calls made so far. */
  turn: number;
  usage: TaskUsage;
  readonly records: ToolCallRecord[];
  /** The tool calls of the turn in progress (empty between turns) and where each stands. */
  calls: readonly ToolCallRequest[];
  states: CallState[];
  /** Called whenever a call's state changes or a hold ends (not part of a checkpoint). */
  readonly watchers: Set<() => void>;
  /** Holds on starting further calls of the turn (not part of a checkpoint). */
  holds: number;
}

/** Records where call `index` of the turn stands, and tells the watchers. */
export function setCallState(progress: TaskProgress, index: number, state: CallState): void {
  progress.states[index] = state;
  notify(progress);
}

/** Resolves at the next change of `progress` (a call's state, a hold released). */
export function nextChange(progress: TaskProgress): Promise<void> {
  return new Promise((resolve) => {
    const wake = (): void => {
      progress.watchers.delete(wake);
      resolve();
    };
    progress.watchers.add(wake);
  });
}

/** Stops further calls of the turn from starting until the returned release is called. */
export function holdCalls(progress: TaskProgress): () => void {
  progress.holds++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    progress.holds--;
    notify(progress);
  };
}

function notify(progress: TaskProgress): void {
  for (const watcher of [...progress.watchers]) watcher();
}

/** The tracker {@link runTask} gives {@link runToolCalls}: states into `progress`, starts held while it holds. */
function trackerOf(progress: TaskProgress): CallTracker {
  return {
    state: (index, state) => setCallState(progress, index, state),
    ready: async () => {
      while (progress.holds > 0) await nextChange(progress);
    },
  };
}

/** The usage of a task that has made no model call. */
export const NO_USAGE: TaskUsage = Object.freeze({ promptTokens: 0, completionTokens: 0, totalTokens: 0, costUsd: 0 });

/** The progress of a task that has not started: its system prompt and input. */
export function newProgress(system: string | undefined, input: string): TaskProgress {
  const messages: ChatCompletionMessageParam[] = [];
  if (system !== undefined && system.length > 0) messages.push({ role: 'system', content: system });
  messages.push({ role: 'user', content: input });
  return { messages, turn: 0, usage: NO_USAGE, records: [], calls: [], states: [], watchers: new Set(), holds: 0 };
}

/**
 * Ends the turn in progress with these outcomes (one per call, in call order): records them,
 * reports them, and hands their results to the model as tool messages.
 */
export function finishTurn(progress: TaskProgress, outcomes: readonly ToolOutcome[], onEvent?: (event: TaskEvent) => void): void {
  for (const outcome of outcomes) {
    const record: ToolCallRecord = { name: outcome.name, callId: outcome.callId, ok: outcome.ok, failure: outcome.ok ? undefined : outcome.failure, ms: outcome.ms };
    progress.records.push(record);
    onEvent?.({ type: 'tool', ...record });
    progress.messages.push({ role: 'tool', tool_call_id: outcome.callId, content: outcome.content });
  }
  progress.calls = [];
  progress.states = [];
}

/**
 * The model/tool loop of one task: ask the model; run the tools it calls (concurrently, capped) and
 * feed back their results or errors; repeat until it answers without tools or a budget is reached.
 * Everything is local to this call and `progress`: nothing carries over between tasks. Given the
 * progress of a task that was interrupted between turns, it goes on from there.
 */
export async function runTask(client: ModelClient, tools: readonly Tool[], task: TaskSpec, progress: TaskProgress = newProgress(task.system, task.input)): Promise<TaskResult> {
  const byName = new Map(tools.map((t) => [t.name, t]));
  const offered = toolsForModel(tools);
  const { messages, records } = progress;
  const maxTurns = task.budgets.maxTurns ?? 10;
  const exceeded = (budget: 'turns' | 'tokens' | 'cost', limit: number, used: number, turns: number): TaskResult => ({
    status: 'budget-exceeded',
    taskId: task.taskId,
    budget,
    limit,
    used,
    turns,
    toolCalls: records,
    usage: progress.usage,
  });

  for (;;) {
    task.signal?.throwIfAborted();
    const turn = progress.turn + 1;
    if (turn > maxTurns) return exceeded('turns', maxTurns, turn - 1, turn - 1);
    const response = await client.complete({
      messages,
      ...(offered.length > 0 ? { tools: offered } : {}),
      stream: task.stream,
      ...(task.signal === undefined ? {} : { signal: task.signal }),
      ...(task.onEvent === undefined ? {} : { onEvent: task.onEvent }),
    });
    const usage = progress.usage;
    progress.usage = {
      promptTokens: usage.promptTokens + response.usage.promptTokens,
      completionTokens: usage.completionTokens + response.usage.completionTokens,
      totalTokens: usage.totalTokens + response.usage.totalTokens,
      costUsd: usage.costUsd + response.usage.costUsd,
    };
    progress.turn = turn;
    task.onEvent?.({ type: 'turn', turn, model: response.model, usage: response.usage, toolCalls: response.toolCalls.length });
    if (task.budgets.maxTokens !== undefined && progress.usage.totalTokens > task.budgets.maxTokens) return exceeded('tokens', task.budgets.maxTokens, progress.usage.totalTokens, turn);
    if (task.budgets.maxCostUsd !== undefined && progress.usage.costUsd > task.budgets.maxCostUsd) return exceeded('cost', task.budgets.maxCostUsd, progress.usage.costUsd, turn);
    messages.push(response.message);
    if (response.toolCalls.length === 0) {
      return { status: 'completed', taskId: task.taskId, answer: response.content ?? '', turns: turn, toolCalls: records, usage: progress.usage, model: response.model };
    }
    progress.calls = response.toolCalls;
    progress.states = response.toolCalls.map(() => ({ status: 'queued' }));
    const outcomes = await runToolCalls(byName, response.toolCalls, task.toolConcurrency, task.signal, task.cpu, task.approve, task.taskId, trackerOf(progress));
    task.signal?.throwIfAborted();
    finishTurn(progress, outcomes, task.onEvent);
  }
}
