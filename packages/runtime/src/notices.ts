import { deserializeError } from './errors.js';
import type { EventBus } from './events.js';
import type { Envelope } from './protocol.js';
import type { EntryIndex } from './registry.js';
import type { SupervisionFlow } from './supervision-flow.js';

/** What the kernel's handling of hosts' notices reaches: the registry, the bus, supervision. */
export interface NoticeTarget {
  readonly index: EntryIndex;
  readonly bus: EventBus;
  readonly flow: SupervisionFlow;
  /** A fresh number for incident ids. */
  nextSeq(): number;
  watch(watcherId: string, targetId: string, on: boolean): void;
}

/**
 * The kernel's side of the lifecycle notices hosts send it (see ActorHost.notify): an actor started,
 * halted, failed or stopped (answering whoever waits, or handing the exit to supervision), a
 * DeathWatch registration, an event for the bus.
 */
export function handleNotice(env: Envelope, k: NoticeTarget): void {
  switch (env.t) {
    case 'ev':
      k.bus.publish(env.ev);
      return;
    case 'watch':
      k.watch(env.watcher, env.target, env.on);
      return;
    case 'started': {
      const entry = k.index.byId.get(env.id);
      const waiter = entry?.onStarted;
      if (entry === undefined || waiter == null) return;
      entry.onStarted = null;
      if (env.e === undefined) waiter.resolve();
      else waiter.reject(deserializeError(env.e));
      return;
    }
    case 'halted': {
      const entry = k.index.byId.get(env.id);
      const waiter = entry?.onHalted;
      if (entry !== undefined && waiter != null) {
        entry.onHalted = null;
        waiter.resolve();
      }
      return;
    }
    case 'failed': {
      const entry = k.index.byId.get(env.id);
      if (entry === undefined) return;
      entry.status = 'failed';
      entry.lastError = env.e;
      k.bus.publish({ type: 'actor-failed', time: Date.now(), ref: entry.ref, error: env.e });
      if (!entry.terminating) k.flow.exit(entry, { kind: 'failed', error: env.e, incident: `fail:${k.nextSeq()}` });
      return;
    }
    case 'stopped': {
      const entry = k.index.byId.get(env.id);
      if (entry === undefined) return;
      const waiter = entry.onStopped;
      if (waiter !== null) {
        entry.onStopped = null;
        waiter.resolve();
        return;
      }
      // Unrequested: the actor stopped itself. Its supervisor decides, by restart type.
      entry.needsFullStart = true;
      entry.status = 'stopped';
      if (!entry.terminating) k.flow.exit(entry, { kind: 'stopped', reason: env.reason });
      return;
    }
    default:
      return;
  }
}
