import { z } from 'zod';
import { InvalidArgumentError, toError } from '@apiary/runtime';
import type { ChatCompletionTool } from 'openai/resources/chat/completions';
import { CpuToolAborted, type CpuPool } from './cpu-pool.js';

/** What a tool handler can see of the call. */
export interface ToolContext {
  /** Aborted when the tool times out or the task is cancelled. */
  readonly signal: AbortSignal;
  /** The id the model gave this call. */
  readonly callId: string;
  /** The task the call belongs to, when run by an agent. */
  readonly taskId?: string | undefined;
}

/** The parts of a tool you write. */
export interface ToolSpec<S extends z.ZodType, R> {
  /** Shown to the model; letters, digits, `_` and `-`, at most 64. */
  readonly name: string;
  readonly description: string;
  /** Arguments schema (zod v4); sent to the model as JSON Schema, and checked before the handler runs. */
  readonly parameters: S;
  readonly handler: (args: z.infer<S>, ctx: ToolContext) => R | Promise<R>;
  /** Time allowed for one call. Default 30000 ms. */
  readonly timeoutMs?: number;
  /**
   * CPU-bound: run the handler on the agent's piscina pool (its own threads, timeout, memory limit)
   * instead of the agent's thread. Arguments and result must be structured-cloneable. Default false.
   */
  readonly cpu?: boolean;
  /**
   * A person must approve each call before it runs (see the agent's `approver`): they approve it,
   * reject it (the reason goes back to the model as the tool's error) or edit its arguments. With no
   * approver configured, such a call is rejected. Default false.
   */
  readonly requiresApproval?: boolean;
}

/**
 * A tool: a spec plus where it lives (module URL and export name), so an agent definition can
 * reference it by location and any thread can load it, as with behaviors.
 */
export interface Tool<S extends z.ZodType = z.ZodType, R = unknown> extends ToolSpec<S, R> {
  readonly kind: 'apiary.tool';
  readonly module: string;
  readonly exportName: string;
  /** The JSON Schema of `parameters`, computed once. */
  readonly jsonSchema: Record<string, unknown>;
}

/** Why a tool call did not produce a result. Each is reported back to the model, never thrown. */
export type ToolFailure = 'unknown-tool' | 'invalid-json' | 'invalid-arguments' | 'handler-error' | 'timeout' | 'rejected';

/** A person's verdict on a tool call that needs approval. */
export type ApprovalDecision =
  | { readonly decision: 'approve' }
  | { readonly decision: 'edit'; readonly arguments: unknown }
  | { readonly decision: 'reject'; readonly reason: string };

/** Asks for approval of one call (the agent wires it to its approver actor). */
export type ApprovalGate = (request: { readonly tool: Tool; readonly callId: string; readonly arguments: unknown }) => Promise<ApprovalDecision>;

/** What one tool call came to: its result as the model will read it, or a failure it can react to. */
export type ToolOutcome =
  | { readonly ok: true; readonly name: string; readonly callId: string; readonly value: unknown; readonly content: string; readonly ms: number }
  | { readonly ok: false; readonly name: string; readonly callId: string; readonly failure: ToolFailure; readonly content: string; readonly ms: number };

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** Longest tool message (result or error) sent back to the model. */
export const MAX_TOOL_CONTENT = 4_000;

/**
 * Defines a tool; export it under `exportName` from the module at `moduleUrl`:
 *
 * ```ts
 * export const add = defineTool(import.meta.url, 'add', {
 *   name: 'add', description: 'Adds two numbers',
 *   parameters: z.object({ a: z.number(), b: z.number() }),
 *   handler: ({ a, b }) => a + b,
 * });
 * ```
 */
export function defineTool<S extends z.ZodType, R>(moduleUrl: string | URL, exportName: string, spec: ToolSpec<S, R>): Tool<S, R> {
  const module = typeof moduleUrl === 'string' ? moduleUrl : moduleUrl.href;
  if (!NAME.test(spec.name)) throw new InvalidArgumentError('name', `must match ${NAME.source}`);
  if (typeof spec.description !== 'string' || spec.description.length === 0) throw new InvalidArgumentError('description', 'must be a non-empty string');
  if (!(spec.parameters instanceof z.ZodType)) throw new InvalidArgumentError('parameters', 'must be a zod schema');
  if (typeof spec.handler !== 'function') throw new InvalidArgumentError('handler', 'must be a function');
  if (spec.timeoutMs !== undefined && !(spec.timeoutMs > 0)) throw new InvalidArgumentError('timeoutMs', 'must be > 0');
  let jsonSchema: Record<string, unknown>;
  try {
    const { $schema: _ignored, ...rest } = z.toJSONSchema(spec.parameters) as Record<string, unknown>;
    jsonSchema = rest;
  } catch (error) {
    throw new InvalidArgumentError('parameters', `cannot be expressed as JSON Schema (${toError(error).message})`);
  }
  if (jsonSchema.type !== 'object') throw new InvalidArgumentError('parameters', 'must describe an object (z.object(...))');
  return Object.freeze({ ...spec, kind: 'apiary.tool' as const, module, exportName, jsonSchema });
}

/** True when `value` was made by {@link defineTool}. */
export function isTool(value: unknown): value is Tool {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'apiary.tool';
}

/** The tools as the chat API takes them. */
export function toolsForModel(tools: readonly Tool[]): ChatCompletionTool[] {
  return tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.jsonSchema } }));
}

/**
 * Runs one tool call: parse the model's JSON, validate it against the schema, get a person's
 * approval when the tool needs it, run the handler with a timeout. Every failure of the call becomes
 * a bounded message the model can read and react to; only a failing approver throws.
 */
export async function runToolCall(
  tools: ReadonlyMap<string, Tool>,
  call: { id: string; name: string; arguments: string },
  parent?: AbortSignal,
  cpu?: CpuPool,
  approve?: ApprovalGate,
  taskId?: string,
): Promise<ToolOutcome> {
  const started = performance.now();
  const fail = (failure: ToolFailure, message: string): ToolOutcome => ({
    ok: false,
    name: call.name,
    callId: call.id,
    failure,
    content: bound(`Error (${failure}): ${message}`),
    ms: performance.now() - started,
  });
  const tool = tools.get(call.name);
  if (tool === undefined) return fail('unknown-tool', `no tool named ${JSON.stringify(call.name)}; available: ${[...tools.keys()].join(', ')}`);
  let raw: unknown;
  try {
    raw = call.arguments.trim() === '' ? {} : JSON.parse(call.arguments);
  } catch (error) {
    return fail('invalid-json', `the arguments are not valid JSON (${toError(error).message}); send a JSON object matching the schema`);
  }
  let parsed = tool.parameters.safeParse(raw);
  if (!parsed.success) return fail('invalid-arguments', z.prettifyError(parsed.error));
  if (tool.requiresApproval === true) {
    // Asked only for calls that are valid: a person should not review arguments the tool would refuse.
    if (approve === undefined) return fail('rejected', `${call.name} needs a person's approval and this agent has no approver`);
    // An approver that fails (nobody answered and the default is to fail, or it is unreachable) fails
    // the task: the one exception to "tool problems go back to the model".
    const verdict = await approve({ tool, callId: call.id, arguments: parsed.data });
    // The task may have been stopped while a person decided (the agent restarted or stopped): the
    // call must not run in an incarnation that no longer owns the task.
    parent?.throwIfAborted();
    if (verdict.decision === 'reject') return fail('rejected', `this call was not approved: ${verdict.reason}`);
    if (verdict.decision === 'edit') {
      parsed = tool.parameters.safeParse(verdict.arguments);
      if (!parsed.success) return fail('invalid-arguments', `the arguments a person edited do not fit: ${z.prettifyError(parsed.error)}`);
    }
  }
  const args = parsed.data;
  const timeoutMs = tool.timeoutMs ?? 30_000;
  if (tool.cpu === true) {
    if (cpu === undefined) return fail('handler-error', `${call.name} is CPU-bound and needs a CPU pool`);
    try {
      const value = await cpu.run({ module: tool.module, exportName: tool.exportName, args, callId: call.id }, timeoutMs, parent);
      return { ok: true, name: call.name, callId: call.id, value, content: bound(typeof value === 'string' ? value : JSON.stringify(value) ?? 'null'), ms: performance.now() - started };
    } catch (error) {
      if (error instanceof CpuToolAborted && error.reason === 'timeout') return fail('timeout', `${call.name} did not finish within ${timeoutMs} ms`);
      return fail('handler-error', toError(error).message);
    }
  }
  const controller = new AbortController();
  const onParentAbort = (): void => controller.abort(parent?.reason);
  parent?.addEventListener('abort', onParentAbort, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const value = await Promise.race([
      Promise.resolve().then(() => tool.handler(args, { signal: controller.signal, callId: call.id, taskId })),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort(new Error('tool timed out'));
          reject(new ToolTimeout(timeoutMs));
        }, timeoutMs);
      }),
    ]);
    return { ok: true, name: call.name, callId: call.id, value, content: bound(typeof value === 'string' ? value : JSON.stringify(value) ?? 'null'), ms: performance.now() - started };
  } catch (error) {
    if (error instanceof ToolTimeout) return fail('timeout', `${call.name} did not finish within ${timeoutMs} ms`);
    return fail('handler-error', toError(error).message);
  } finally {
    clearTimeout(timer);
    parent?.removeEventListener('abort', onParentAbort);
  }
}

class ToolTimeout extends Error {
  constructor(readonly timeoutMs: number) {
    super(`tool timed out after ${timeoutMs} ms`);
  }
}

function bound(text: string): string {
  return text.length <= MAX_TOOL_CONTENT ? text : `${text.slice(0, MAX_TOOL_CONTENT - 20)}... [truncated]`;
}

/** Where one call of a turn stands (a resumable task's checkpoint records them). */
export type CallState = { readonly status: 'queued' } | { readonly status: 'running' } | { readonly status: 'done'; readonly outcome: ToolOutcome };

/** Follows the calls of a turn ({@link runToolCalls}). */
export interface CallTracker {
  /** Call `index` started or finished. */
  state(index: number, state: CallState): void;
  /** Resolves when the next call may start (a task waiting on a person holds the rest of its turn). */
  ready(): Promise<void>;
}

/**
 * Runs tool calls concurrently, at most `concurrency` at a time; outcomes come back in call order.
 * `track`, when given, hears each call start and finish, and can hold back calls not yet started.
 */
export async function runToolCalls(
  tools: ReadonlyMap<string, Tool>,
  calls: readonly { id: string; name: string; arguments: string }[],
  concurrency: number,
  signal?: AbortSignal,
  cpu?: CpuPool,
  approve?: ApprovalGate,
  taskId?: string,
  track?: CallTracker,
): Promise<ToolOutcome[]> {
  const out = new Array<ToolOutcome>(calls.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    for (;;) {
      await track?.ready();
      // A stopped task starts nothing more (its agent may be restarting, and a later incarnation
      // owns the rest of the turn).
      signal?.throwIfAborted();
      const i = next++;
      if (i >= calls.length) return;
      track?.state(i, { status: 'running' });
      out[i] = await runToolCall(tools, calls[i]!, signal, cpu, approve, taskId);
      track?.state(i, { status: 'done', outcome: out[i]! });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, calls.length)) }, lane));
  return out;
}
