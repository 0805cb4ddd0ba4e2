import { randomUUID } from 'node:crypto';
import { defineBehavior, ErrorReply, InvalidArgumentError, toError, type ActorContext, type ActorRef, type DeferredReply } from '@apiary/runtime';
import './events.js';
import { ModelClient } from './model-client.js';
import type { RetryOptions } from './retry.js';
import type { PriceTable } from './pricing.js';
import { NO_USAGE, validateBudgets, type Budgets, type TaskResult, type TaskUsage } from './runner.js';
import { isTool, type ApprovalDecision, type Tool } from './tools.js';
import { CpuPool, type CpuPoolOptions } from './cpu-pool.js';
import { bindMemory, type AgentMemory } from './memory-tools.js';
import { askHumanTool, type HumanAsk, type HumanAskOutcome } from './human-tool.js';
import { readCheckpoint, type HumanSettledNotice, type ResumeWith, type TaskReport } from './human-wait.js';
import { admit, endAll, handOver, parker, resume, type AgentTasks } from './agent-tasks.js';

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
  /** Tell the outcome here too, with this continuation (the task's checkpoint): a restarted agent resumes the task. */
  readonly resume?: ResumeWith | undefined;
}

/** What an agent actor understands. */
export type AgentMessage =
  /**
   * A task. The ask is answered with its {@link TaskResult}; `replyTo`, if given, is told a
   * {@link TaskReport} when it ends, also when it ends in a later incarnation (a task resumed after a
   * restart, whose ask may have failed meanwhile with the agent's thread).
   */
  | { readonly type: 'task'; readonly taskId: string; readonly input: string; readonly budgets?: Budgets; readonly replyTo?: ActorRef<TaskReport, unknown> }
  | { readonly type: 'usage' }
  /** From the human-input broker: a request of one of this agent's tasks settled. */
  | HumanSettledNotice;

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


/**
 * The agent actor. Spawn it with an {@link AgentDefinition} as props; ask it `{ type: 'task' }` and
 * it replies with a {@link TaskResult} (a model that stays unavailable fails the ask with
 * ModelUnavailableError). Up to `maxConcurrentTasks` tasks run at once (default 1), the rest wait
 * in order; meanwhile the agent answers other messages, and agents on one thread interleave while
 * they wait on the model or a person. Every task's state is local to it. A task waiting on a person
 * survives a restart of the agent: the restarted agent goes on with it when the person answers.
 */
export const agent = defineBehavior(import.meta.url, 'agent', {
  async setup(def: AgentDefinition, ctx: ActorContext<AgentMessage>): Promise<AgentTasks> {
    if (typeof def?.name !== 'string' || def.name.length === 0) throw new InvalidArgumentError('definition.name', 'must be a non-empty string');
    validateBudgets(def.budgets ?? {}, 'definition.budgets');
    const tasks = def.maxConcurrentTasks ?? 1;
    if (!Number.isInteger(tasks) || tasks < 1) throw new InvalidArgumentError('definition.maxConcurrentTasks', 'must be an integer >= 1');
    const concurrency = def.toolConcurrency ?? 4;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new InvalidArgumentError('definition.toolConcurrency', 'must be an integer >= 1');
    const apiKey = process.env[def.model.apiKeyEnv ?? 'OPENAI_API_KEY'];
    const client = new ModelClient({ ...def.model, ...(apiKey === undefined ? {} : { apiKey }) });
    const memory = def.memory === undefined ? undefined : bindMemory(def.memory, ctx);
    // The ask_human tool parks its task through the state made below.
    let state: AgentTasks | undefined;
    const park = parker(() => state!, ctx);
    const human = def.humanInput === undefined ? [] : [askHumanTool(def.humanInput.ref, def.name, def.humanInput.timeoutMs ?? 300_000, ctx, park)];
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
    state = {
      def,
      client,
      tools,
      cpu,
      memory,
      incarnation: randomUUID(),
      park,
      queue: [],
      running: new Map(),
      resumed: new Set(),
      totals: { ...NO_USAGE, tasksCompleted: 0, tasksFailed: 0, tasksOverBudget: 0 },
    };
    return state;
  },

  receive(state, message: AgentMessage, ctx: ActorContext<AgentMessage>): AgentTotals | ErrorReply | DeferredReply<TaskResult> | undefined {
    switch (message.type) {
      case 'usage':
        return state.totals;
      case 'task': {
        // A bad task is the asker's problem: answer with the error, keep the agent running.
        if (typeof message.taskId !== 'string' || typeof message.input !== 'string') {
          return new ErrorReply(new InvalidArgumentError('task', 'needs taskId and input strings'));
        }
        if (message.replyTo !== undefined && typeof message.replyTo?.id !== 'string') return new ErrorReply(new InvalidArgumentError('task.replyTo', 'must be an actor ref'));
        try {
          if (message.budgets !== undefined) validateBudgets(message.budgets, 'task.budgets');
        } catch (error) {
          return new ErrorReply(toError(error));
        }
        // Answered (through its token) when the task ends; meanwhile the agent takes other messages
        // (and, up to maxConcurrentTasks, other tasks).
        const reply = ctx.deferReply<TaskResult>();
        admit(state, message, reply.token, ctx);
        return reply;
      }
      case 'human-settled': {
        let checkpoint;
        try {
          checkpoint = readCheckpoint(message.continuation);
        } catch (error) {
          return new ErrorReply(toError(error));
        }
        // Not a task's wait, or one this incarnation asked: its pending ask has the answer.
        if (checkpoint === null || checkpoint.incarnation === state.incarnation) return undefined;
        resume(state, checkpoint, message.reply, ctx);
        return undefined;
      }
      default: {
        const never: never = message;
        return new ErrorReply(new InvalidArgumentError('message', `unknown agent message ${JSON.stringify(never)}`));
      }
    }
  },

  async preRestart(state, _error, ctx: ActorContext<AgentMessage>) {
    handOver(state, 'the agent is restarting', ctx);
    await state.cpu?.close();
  },

  async postStop(state, ctx: ActorContext<AgentMessage>) {
    endAll(state, 'the agent stopped', ctx);
    await state.cpu?.close();
  },
});
