import type { ActorSystem, ApiaryEvent } from '@apiary/runtime';
import '@apiary/agent';
import '../events.js';

/** What a worker is doing now. */
export type WorkerStatus =
  | { readonly kind: 'idle' }
  /** Running these tasks. */
  | { readonly kind: 'busy'; readonly tasks: readonly string[] }
  /** Every running task waits on a person (these requests). */
  | { readonly kind: 'waiting-for-human'; readonly tasks: readonly string[]; readonly requests: readonly string[] }
  | { readonly kind: 'restarting' }
  | { readonly kind: 'stopped' };

/** A worker as the tracker knows it: identity, live status and counters. */
export interface WorkerInfo {
  /** Unique and stable across restarts (its actor id). */
  readonly id: string;
  readonly name: string;
  readonly path: string;
  readonly swarm: string | null;
  readonly capabilities: readonly string[];
  readonly status: WorkerStatus;
  readonly tasksDone: number;
  readonly tasksFailed: number;
  readonly tokens: number;
  readonly costUsd: number;
  readonly restarts: number;
  /** Mean duration of finished tasks (ms), null before the first. */
  readonly meanTaskMs: number | null;
}

/** A query of {@link WorkerTracker.list}: every given field must match. */
export interface WorkerQuery {
  readonly swarm?: string;
  readonly status?: WorkerStatus['kind'];
  /** Workers having all these capabilities. */
  readonly capabilities?: readonly string[];
}

interface Tracked {
  id: string;
  name: string;
  path: string;
  swarm: string | null;
  capabilities: string[];
  tasks: Set<string>;
  /** Open human requests, by id, with their task. */
  waits: Map<string, string>;
  /** Tasks whose person answered while the agent was restarting: the next incarnation resumes them. */
  resuming: Set<string>;
  restarting: boolean;
  stopped: boolean;
  tasksDone: number;
  tasksFailed: number;
  tokens: number;
  costUsd: number;
  restarts: number;
  taskMsTotal: number;
  /** Null until the first status is published. */
  status: WorkerStatus | null;
}

/**
 * Tracks every agent of a system as a worker, from the events on the bus alone (agents publish
 * `agent-ready`, `task-started`, `task-resumed`, `task-finished`, `token-usage`; the broker publishes human
 * requests; the runtime publishes failures, restarts and stops). Each status change is published as
 * a `worker-status` event. Start it before the workers, so it sees them come up.
 */
export class WorkerTracker {
  readonly #system: ActorSystem;
  readonly #byPath = new Map<string, Tracked>();
  readonly #off: (() => void)[] = [];

  private constructor(system: ActorSystem) {
    this.#system = system;
  }

  /** Starts tracking. */
  static start(system: ActorSystem): WorkerTracker {
    const tracker = new WorkerTracker(system);
    for (const type of ['agent-ready', 'task-started', 'task-resumed', 'task-finished', 'token-usage', 'human-request-opened', 'human-request-settled', 'actor-failed', 'actor-restarted', 'actor-stopped'] as const) {
      tracker.#off.push(system.events.on(type, (e: ApiaryEvent) => tracker.#on(e)));
    }
    return tracker;
  }

  /** One worker by id or path. */
  get(idOrPath: string): WorkerInfo | undefined {
    const t = this.#byPath.get(idOrPath) ?? [...this.#byPath.values()].find((w) => w.id === idOrPath);
    return t === undefined ? undefined : info(t);
  }

  /** Workers matching `query`, in the order they first came up. */
  list(query: WorkerQuery = {}): WorkerInfo[] {
    return [...this.#byPath.values()]
      .filter((t) => query.swarm === undefined || t.swarm === query.swarm)
      .filter((t) => query.status === undefined || t.status?.kind === query.status)
      .filter((t) => (query.capabilities ?? []).every((c) => t.capabilities.includes(c)))
      .map(info);
  }

  /** Stops listening. */
  stop(): void {
    for (const off of this.#off.splice(0)) off();
  }

  #on(e: ApiaryEvent): void {
    switch (e.type) {
      case 'agent-ready': {
        const known = this.#byPath.get(e.agent);
        const t: Tracked = known ?? {
          id: e.id, name: e.name, path: e.agent, swarm: e.swarm, capabilities: e.capabilities, tasks: new Set(), waits: new Map(), resuming: new Set(),
          restarting: false, stopped: false, tasksDone: 0, tasksFailed: 0, tokens: 0, costUsd: 0, restarts: 0, taskMsTotal: 0, status: null,
        };
        Object.assign(t, { name: e.name, swarm: e.swarm, capabilities: e.capabilities, restarting: false, stopped: false });
        // A restarted agent starts with no task, except those parked on a person: it resumes them
        // when their requests settle (or settled during the restart).
        t.tasks = new Set([...t.waits.values(), ...t.resuming]);
        this.#byPath.set(e.agent, t);
        return this.#update(t);
      }
      case 'task-started':
        return this.#with(e.agent, (t) => t.tasks.add(e.taskId));
      case 'task-resumed':
        return this.#with(e.agent, (t) => {
          t.resuming.delete(e.taskId);
          t.tasks.add(e.taskId);
        });
      case 'task-finished':
        return this.#with(e.agent, (t) => {
          t.tasks.delete(e.taskId);
          t.resuming.delete(e.taskId);
          if (e.status === 'failed') t.tasksFailed++;
          else t.tasksDone++;
          t.taskMsTotal += e.ms;
        });
      case 'token-usage':
        return this.#with(e.agent, (t) => {
          t.tokens += e.promptTokens + e.completionTokens;
          t.costUsd += e.costUsd;
        }, false);
      case 'human-request-opened':
        return this.#with(e.request.worker, (t) => t.waits.set(e.request.id, e.request.taskId));
      case 'human-request-settled':
        return this.#with(e.request.worker, (t) => {
          if (t.waits.delete(e.request.id) && t.restarting) t.resuming.add(e.request.taskId);
        });
      case 'actor-failed':
        return this.#with(e.ref.path, (t) => (t.restarting = true));
      case 'actor-restarted':
        // Counted only: the restarted agent's agent-ready (published from its setup, which may come
        // before or after this event) is what ends `restarting`.
        return this.#with(e.ref.path, (t) => (t.restarts = e.restarts), false);
      case 'actor-stopped':
        return this.#with(e.ref.path, (t) => (t.stopped = true));
      default:
        return undefined;
    }
  }

  #with(path: string, change: (t: Tracked) => void, statusMayChange = true): void {
    const t = this.#byPath.get(path);
    if (t === undefined) return;
    change(t);
    if (statusMayChange) this.#update(t);
  }

  #update(t: Tracked): void {
    const next = statusOf(t);
    if (JSON.stringify(next) === JSON.stringify(t.status)) return;
    const previous = t.status;
    t.status = next;
    this.#system.events.publish({ type: 'worker-status', time: Date.now(), worker: t.id, name: t.name, path: t.path, status: next, previous: previous?.kind ?? null });
  }
}

function statusOf(t: Tracked): WorkerStatus {
  if (t.stopped) return { kind: 'stopped' };
  if (t.restarting) return { kind: 'restarting' };
  if (t.tasks.size === 0) return { kind: 'idle' };
  const tasks = [...t.tasks];
  const waitingTasks = new Set(t.waits.values());
  if (tasks.every((task) => waitingTasks.has(task))) return { kind: 'waiting-for-human', tasks, requests: [...t.waits.keys()] };
  return { kind: 'busy', tasks };
}

function info(t: Tracked): WorkerInfo {
  const finished = t.tasksDone + t.tasksFailed;
  return {
    id: t.id, name: t.name, path: t.path, swarm: t.swarm, capabilities: [...t.capabilities], status: t.status ?? statusOf(t),
    tasksDone: t.tasksDone, tasksFailed: t.tasksFailed, tokens: t.tokens, costUsd: t.costUsd, restarts: t.restarts,
    meanTaskMs: finished === 0 ? null : t.taskMsTotal / finished,
  };
}
