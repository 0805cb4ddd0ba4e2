import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { InvalidArgumentError } from '@apiary/runtime';
import type { ModelClient, ModelEvent, ModelUsage } from './model-client.js';
import { runToolCalls, toolsForModel, type ApprovalGate, type Tool, type ToolFailure } from './tools.js';
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
 * The model/tool loop of one task: ask the model; run the tools it calls (concurrently, capped) and
 * feed back their results or errors; repeat until it answers without tools or a budget is reached.
 * Everything is local to this call: nothing carries over between tasks.
 */
export async function runTask(client: ModelClient, tools: readonly Tool[], task: TaskSpec): Promise<TaskResult> {
  const byName = new Map(tools.map((t) => [t.name, t]));
  const offered = toolsForModel(tools);
  const messages: ChatCompletionMessageParam[] = [];
  if (task.system !== undefined && task.system.length > 0) messages.push({ role: 'system', content: task.system });
  messages.push({ role: 'user', content: task.input });
  const maxTurns = task.budgets.maxTurns ?? 10;
  const records: ToolCallRecord[] = [];
  let usage: TaskUsage = { promptTokens: 0, completionTokens: 0, totalTokens: 0, costUsd: 0 };
  const exceeded = (budget: 'turns' | 'tokens' | 'cost', limit: number, used: number, turns: number): TaskResult => ({
    status: 'budget-exceeded',
    taskId: task.taskId,
    budget,
    limit,
    used,
    turns,
    toolCalls: records,
    usage,
  });

  for (let turn = 1; ; turn++) {
    if (turn > maxTurns) return exceeded('turns', maxTurns, turn - 1, turn - 1);
    const response = await client.complete({
      messages,
      ...(offered.length > 0 ? { tools: offered } : {}),
      stream: task.stream,
      ...(task.signal === undefined ? {} : { signal: task.signal }),
      ...(task.onEvent === undefined ? {} : { onEvent: task.onEvent }),
    });
    usage = {
      promptTokens: usage.promptTokens + response.usage.promptTokens,
      completionTokens: usage.completionTokens + response.usage.completionTokens,
      totalTokens: usage.totalTokens + response.usage.totalTokens,
      costUsd: usage.costUsd + response.usage.costUsd,
    };
    task.onEvent?.({ type: 'turn', turn, model: response.model, usage: response.usage, toolCalls: response.toolCalls.length });
    if (task.budgets.maxTokens !== undefined && usage.totalTokens > task.budgets.maxTokens) return exceeded('tokens', task.budgets.maxTokens, usage.totalTokens, turn);
    if (task.budgets.maxCostUsd !== undefined && usage.costUsd > task.budgets.maxCostUsd) return exceeded('cost', task.budgets.maxCostUsd, usage.costUsd, turn);
    messages.push(response.message);
    if (response.toolCalls.length === 0) {
      return { status: 'completed', taskId: task.taskId, answer: response.content ?? '', turns: turn, toolCalls: records, usage, model: response.model };
    }
    const outcomes = await runToolCalls(byName, response.toolCalls, task.toolConcurrency, task.signal, task.cpu, task.approve, task.taskId);
    for (const outcome of outcomes) {
      const record: ToolCallRecord = { name: outcome.name, callId: outcome.callId, ok: outcome.ok, failure: outcome.ok ? undefined : outcome.failure, ms: outcome.ms };
      records.push(record);
      task.onEvent?.({ type: 'tool', ...record });
      messages.push({ role: 'tool', tool_call_id: outcome.callId, content: outcome.content });
    }
  }
}
