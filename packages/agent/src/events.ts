import type { TaskUsage } from './runner.js';
import type { ToolFailure } from './tools.js';

/**
 * The agent level's events, added to the one event bus of `@apiary/runtime` (declaration merging):
 * tokens as they stream, retries and fallbacks, tool calls, per-call usage and task results.
 */
declare module '@apiary/runtime' {
  interface ApiaryEventMap {
    'model-token': { type: 'model-token'; time: number; agent: string; taskId: string; model: string; delta: string };
    'model-retry': { type: 'model-retry'; time: number; agent: string; taskId: string; model: string; attempt: number; delayMs: number; status: number | null; error: string };
    'model-fallback': { type: 'model-fallback'; time: number; agent: string; taskId: string; from: string; to: string; error: string };
    'token-usage': {
      type: 'token-usage';
      time: number;
      agent: string;
      taskId: string;
      model: string;
      promptTokens: number;
      completionTokens: number;
      costUsd: number;
      estimated: boolean;
    };
    'tool-called': { type: 'tool-called'; time: number; agent: string; taskId: string; name: string; callId: string; ok: boolean; failure?: ToolFailure | undefined; ms: number };
    /** An agent (re)started: its identity, for trackers (`id` is its actor id, stable across restarts). */
    'agent-ready': { type: 'agent-ready'; time: number; agent: string; id: string; name: string; capabilities: string[]; swarm: string | null; maxConcurrentTasks: number };
    'task-started': { type: 'task-started'; time: number; agent: string; taskId: string };
    /** A task that waited on a person when its agent restarted goes on in the new incarnation (after `turn` model calls). */
    'task-resumed': { type: 'task-resumed'; time: number; agent: string; taskId: string; turn: number; waitedFor: 'approval' | 'question' };
    'task-finished': {
      type: 'task-finished';
      time: number;
      agent: string;
      taskId: string;
      status: 'completed' | 'budget-exceeded' | 'failed';
      turns: number;
      usage: TaskUsage;
      ms: number;
      error?: string | undefined;
    };
  }
}

export {};
