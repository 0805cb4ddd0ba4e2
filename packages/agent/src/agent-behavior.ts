import { ActorStoppedError, defineBehavior, ErrorReply, InvalidArgumentError, toError, type ActorContext, type ActorRef, type DeferredReply } from '@apiary/runtime';
import './events.js';
import { ModelClient } from './model-client.js';
import type { RetryOptions } from './retry.js';
import type { PriceTable } from './pricing.js';
import { runTask, tighter, validateBudgets, type Budgets, type TaskEvent, type TaskResult, type TaskUsage } from './runner.js';
import { isTool, type ApprovalDecision, type ApprovalGate, type Tool } from './tools.js';
import { CpuPool, type CpuPoolOptions } from './cpu-pool.js';
import { bindMemory, recallFor, type AgentMemory, type MemoryBinding } from './memory-tools.js';
import { askHumanTool, type HumanAsk, type HumanAskOutcome } from './human-tool.js';

/** Where a tool lives: what an agent definition carries instead of the tool itself. */
export interface ToolRef {
  readonly module: string;
  readonly exportName: string;
}

/**
 * An agent, as plain data (so it can be spawned on any thread and restarted by its supervisor).
 * Secrets are not carried: the API key is read from the environment variable `apiKeyEnv` on the
 * thread that runs the agent.
 */
export interface AgentDefinition {
  readonly name: string;
  readonly model: {
    readonly model: string;
    readonly fallbackModels?: readonly string[];
    /** Any OpenAI-compatible endpoint. Default: `OPENAI_BASE_URL`, else OpenAI's. */
    readonly baseURL?: string;
    /** Environment variable holding the key. Default `OPENAI_API_KEY`. */
    readonly apiKeyEnv?: string;
    readonly timeoutMs?: number;
    readonly retry?: RetryOptions;
    readonly prices?: PriceTable;
  };
  readonly system?: string;
  readonly tools?: readonly ToolRef[];
  /** Default budgets of every task (a task may only tighten them). */
  readonly budgets?: Budgets;
  /** Tool calls of one turn run concurrently, at most this many at once. Default 4. */
  readonly toolConcurrency?: number;
  /** Tags a swarm orchestrator matches tasks against (e.g. `['sql', 'billing']`). Default none. */
  readonly capabilities?: readonly string[];
  /** The swarm this agent works in, for trackers and queries. Default none. */
  readonly swarm?: string;
  /**
   * Tasks this agent runs at once, each with its own conversation; more wait in order. Default 1
   * (strictly one at a time): a model's context and a person's attention are per task.
   */
  readonly maxConcurrentTasks?: number;
  /** Stream answers (token events on the bus). Default true. */
  readonly stream?: boolean;
  /** The pool for CPU-bound tools (made only if the agent has one). */
  readonly cpu?: CpuPoolOptions;
  /** A shared memory namespace: `remember` / `recall` tools and, if asked, memories put before each task. */
  readonly memory?: AgentMemory;
  /**
   * Who approves calls of tools marked `requiresApproval`: an actor answering {@link ApprovalAsk}
   * with an {@link ApprovalDecision} (the worker level's human-input broker does). Without one, such
   * calls are rejected.
   */
  readonly approver?: { readonly ref: ActorRef<ApprovalAsk, ApprovalDecision>; readonly timeoutMs?: number };
  /** Gives the model an `ask_human` tool that asks a person through this actor (the human-input broker). */
  readonly humanInput?: { readonly ref: ActorRef<HumanAsk, HumanAskOutcome>; readonly timeoutMs?: number };
}

/** What an agent asks its approver before a tool call that needs approval. */
export interface ApprovalAsk {
  readonly type: 'approve';
  /** The asking agent's path and name. */
  readonly agent: string;
  readonly agentName: string;
  readonly taskId: string;
  readonly tool: string;
  readonly description: string;
  readonly callId: string;
  /** The validated arguments. */
  readonly arguments: unknown;
  /** The tool's parameters as JSON Schema (an edit must fit it). */
  readonly schema: Record<string, unknown>;
  /** How long a person has. */
  readonly timeoutMs: number;
}

/** What an agent actor understands. */
export type AgentMessage =
  | { readonly type: 'task'; readonly taskId: string; readonly input: string; readonly budgets?: Budgets }
  | { readonly type: 'usage' };

/** An agent's running totals, across tasks. */
export interface AgentTotals extends TaskUsage {
  readonly tasksCompleted: number;
  readonly tasksFailed: number;
  readonly tasksOverBudget: number;
}

/** A reference to a tool, for an {@link AgentDefinition}. */
export function toolRef(tool: Tool): ToolRef {
  return { module: tool.module, exportName: tool.exportName };
}

interface AgentState {
  readonly def: AgentDefinition;
  readonly client: ModelClient;
  readonly tools: readonly Tool[];
  readonly cpu: CpuPool | undefined;
  readonly memory: MemoryBinding | undefined;
  /** Tasks waiting for a free slot, oldest first. */
  readonly queue: { readonly task: TaskMessage; readonly reply: DeferredReply<TaskResult> }[];
  /** Running tasks, by task id. */
  readonly running: Map<string, AbortController>;
  totals: AgentTotals;
}

type TaskMessage = Extract<AgentMessage, { type: 'task' }>;

async function loadTools(refs: readonly ToolRef[]): Promise<Tool[]> {
  const tools: Tool[] = [];
  for (const [i, ref] of refs.entries()) {
    const mod = (await import(ref.module)) as Record<string, unknown>;
    const tool = mod[ref.exportName];
    if (!isTool(tool)) throw new InvalidArgumentError(`tools[${i}]`, `${ref.exportName} in ${ref.module} is not a tool made by defineTool()`);
    tools.push(tool);
  }
  return tools;
}

function checkNames(tools: Tool[]): Tool[] {
  const names = new Set<string>();
  for (const t of tools) {
    // The memory tools are named remember and recall: a tool of the agent's own must not shadow them.
    if (names.has(t.name)) throw new InvalidArgumentError('tools', `two tools are named ${t.name}`);
    names.add(t.name);
  }
  return tools;
}


/** Ends this incarnation's tasks: running ones are aborted, queued ones answered with the reason. */
function abortAll(state: AgentState, why: string): void {
  for (const controller of state.running.values()) controller.abort(new Error(why));
  for (const { reply, task } of state.queue.splice(0)) reply.resolve(new ErrorReply(new ActorStoppedError(`task ${task.taskId}`, why)));
}

/** Starts queued tasks while fewer than `maxConcurrentTasks` run. */
function drain(state: AgentState, ctx: ActorContext<AgentMessage>): void {
  const max = state.def.maxConcurrentTasks ?? 1;
  while (state.running.size < max && state.queue.length > 0) {
    const { task, reply } = state.queue.shift()!;
    const controller = new AbortController();
    state.running.set(task.taskId, controller);
    void runOne(state, task, ctx, controller.signal).then((result) => {
      state.running.delete(task.taskId);
      reply.resolve(result);
      drain(state, ctx);
    });
  }
}

/** Runs one task to its end; never rejects (a failure is an ErrorReply for the asker). */
async function runOne(state: AgentState, message: TaskMessage, ctx: ActorContext<AgentMessage>, signal: AbortSignal): Promise<TaskResult | ErrorReply> {
  const started = performance.now();
  ctx.publish({ type: 'task-started', time: Date.now(), agent: ctx.self.path, taskId: message.taskId });
  const onEvent = forward(ctx, message.taskId);
  try {
    const memories = state.memory === undefined ? undefined : await recallFor(state.memory, message.input);
    const system = [state.def.system, memories].filter((part) => part !== undefined && part.length > 0).join('\n\n');
    const result = await runTask(state.client, state.tools, {
      taskId: message.taskId,
      input: message.input,
      system,
      budgets: tighter(state.def.budgets ?? {}, message.budgets),
      toolConcurrency: state.def.toolConcurrency ?? 4,
      stream: state.def.stream ?? true,
      onEvent,
      cpu: state.cpu,
      approve: approverGate(state.def, ctx, message.taskId),
      signal,
    });
    const t = state.totals;
    state.totals = {
      promptTokens: t.promptTokens + result.usage.promptTokens,
      completionTokens: t.completionTokens + result.usage.completionTokens,
      totalTokens: t.totalTokens + result.usage.totalTokens,
      costUsd: t.costUsd + result.usage.costUsd,
      tasksCompleted: t.tasksCompleted + (result.status === 'completed' ? 1 : 0),
      tasksFailed: t.tasksFailed,
      tasksOverBudget: t.tasksOverBudget + (result.status === 'budget-exceeded' ? 1 : 0),
    };
    ctx.publish({ type: 'task-finished', time: Date.now(), agent: ctx.self.path, taskId: message.taskId, status: result.status, turns: result.turns, usage: result.usage, ms: performance.now() - started });
    return result;
  } catch (error) {
    state.totals = { ...state.totals, tasksFailed: state.totals.tasksFailed + 1 };
    ctx.publish({
      type: 'task-finished',
      time: Date.now(),
      agent: ctx.self.path,
      taskId: message.taskId,
      status: 'failed',
      turns: 0,
      usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0, costUsd: 0 },
      ms: performance.now() - started,
      error: toError(error).message,
    });
    // The model stayed unavailable (or refused): the asker gets the typed error; the agent is
    // fine and is not restarted (a flaky API must not burn its supervisor's intensity).
    return new ErrorReply(toError(error));
  }
}

/** The approval gate of a task: each call that needs approval is asked of the agent's approver. */
function approverGate(def: AgentDefinition, ctx: ActorContext<AgentMessage>, taskId: string): ApprovalGate | undefined {
  const approver = def.approver;
  if (approver === undefined) return undefined;
  const timeoutMs = approver.timeoutMs ?? 300_000;
  return async ({ tool, callId, arguments: args }) =>
    ctx.ask(
      approver.ref,
      { type: 'approve', agent: ctx.self.path, agentName: def.name, taskId, tool: tool.name, description: tool.description, callId, arguments: args, schema: tool.jsonSchema, timeoutMs },
      // The approver settles by the deadline; the slack covers the messages there and back.
      { timeoutMs: timeoutMs + 10_000 },
    );
}

function forward(ctx: ActorContext<AgentMessage>, taskId: string): (event: TaskEvent) => void {
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

/**
 * The agent actor. Spawn it with an {@link AgentDefinition} as props; ask it `{ type: 'task' }` and
 * it replies with a {@link TaskResult} (a model that stays unavailable fails the ask with
 * ModelUnavailableError). Up to `maxConcurrentTasks` tasks run at once (default 1), the rest wait
 * in order; meanwhile the agent answers other messages, and agents on one thread interleave while
 * they wait on the model or a person. Every task's state is local to it.
 */
export const agent = defineBehavior(import.meta.url, 'agent', {
  async setup(def: AgentDefinition, ctx: ActorContext<AgentMessage>): Promise<AgentState> {
    if (typeof def?.name !== 'string' || def.name.length === 0) throw new InvalidArgumentError('definition.name', 'must be a non-empty string');
    validateBudgets(def.budgets ?? {}, 'definition.budgets');
    const tasks = def.maxConcurrentTasks ?? 1;
    if (!Number.isInteger(tasks) || tasks < 1) throw new InvalidArgumentError('definition.maxConcurrentTasks', 'must be an integer >= 1');
    const concurrency = def.toolConcurrency ?? 4;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new InvalidArgumentError('definition.toolConcurrency', 'must be an integer >= 1');
    const apiKey = process.env[def.model.apiKeyEnv ?? 'OPENAI_API_KEY'];
    const client = new ModelClient({ ...def.model, ...(apiKey === undefined ? {} : { apiKey }) });
    const memory = def.memory === undefined ? undefined : bindMemory(def.memory, ctx);
    const human = def.humanInput === undefined ? [] : [askHumanTool(def.humanInput.ref, def.name, def.humanInput.timeoutMs ?? 300_000, ctx)];
    const tools = checkNames([...(await loadTools(def.tools ?? [])), ...(memory?.tools ?? []), ...human]);
    const cpu = tools.some((t) => t.cpu === true) ? new CpuPool(def.cpu) : undefined;
    if (def.capabilities !== undefined && !(Array.isArray(def.capabilities) && def.capabilities.every((c) => typeof c === 'string'))) {
      throw new InvalidArgumentError('definition.capabilities', 'must be an array of strings');
    }
    ctx.publish({
      type: 'agent-ready',
      time: Date.now(),
      agent: ctx.self.path,
      id: ctx.self.id,
      name: def.name,
      capabilities: [...(def.capabilities ?? [])],
      swarm: def.swarm ?? null,
      maxConcurrentTasks: tasks,
    });
    return { def, client, tools, cpu, memory, queue: [], running: new Map(), totals: { promptTokens: 0, completionTokens: 0, totalTokens: 0, costUsd: 0, tasksCompleted: 0, tasksFailed: 0, tasksOverBudget: 0 } };
  },

  receive(state, message: AgentMessage, ctx): AgentTotals | ErrorReply | DeferredReply<TaskResult> {
    switch (message.type) {
      case 'usage':
        return state.totals;
      case 'task': {
        // A bad task is the asker's problem: answer with the error, keep the agent running.
        if (typeof message.taskId !== 'string' || typeof message.input !== 'string') {
          return new ErrorReply(new InvalidArgumentError('task', 'needs taskId and input strings'));
        }
        try {
          if (message.budgets !== undefined) validateBudgets(message.budgets, 'task.budgets');
        } catch (error) {
          return new ErrorReply(toError(error));
        }
        // Answered when the task ends; meanwhile the agent takes other messages (and, up to
        // maxConcurrentTasks, other tasks).
        const reply = ctx.deferReply<TaskResult>();
        state.queue.push({ task: message, reply });
        drain(state, ctx);
        return reply;
      }
      default: {
        const never: never = message;
        return new ErrorReply(new InvalidArgumentError('message', `unknown agent message ${JSON.stringify(never)}`));
      }
    }
  },

  async preRestart(state) {
    abortAll(state, 'the agent is restarting');
    await state.cpu?.close();
  },

  async postStop(state) {
    abortAll(state, 'the agent stopped');
    await state.cpu?.close();
  },
});
