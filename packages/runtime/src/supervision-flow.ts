import type { StopReason } from './behavior.js';
import { EscalatedError, deserializeError, serializeError, type SerializedError } from './errors.js';
import type { Kernel } from './kernel.js';
import type { Envelope } from './protocol.js';
import type { Entry } from './registry.js';
import type { WireSupervisor } from './spec.js';
import { SupervisorPolicy } from './supervision.js';

/** Why a child left: it failed (with an incident id for intensity counting) or stopped. */
export type Exit =
  | { readonly kind: 'failed'; readonly error: SerializedError; readonly incident: string }
  | { readonly kind: 'stopped'; readonly reason: StopReason };

/** What a notice-waiting command resolves to: null on success, else the error. */
export type Outcome = Error | null;

/**
 * What supervisors do when a child exits: decide by restart type, count toward intensity (one
 * incident counts once), apply the strategy (take affected children down in reverse order, start
 * them in order), wait out the backoff, or give up and escalate to the parent. One supervisor
 * handles one exit at a time (its chain); the kernel carries the commands out.
 */
export class SupervisionFlow {
  readonly #k: Kernel;

  constructor(kernel: Kernel) {
    this.#k = kernel;
  }


  /** Queues an exit on the supervisor's chain, so its decisions happen one at a time. */
  exit(child: Entry, exit: Exit): void {
    const sup = child.parent;
    if (sup === null) {
      if (exit.kind === 'failed') this.#k.failSystem(deserializeError(exit.error));
      return;
    }
    sup.chain = (sup.chain ?? Promise.resolve()).then(() => this.#handleExit(sup, child, exit)).catch((error: unknown) => this.#k.failSystem(error as Error));
  }

  async #handleExit(sup: Entry, child: Entry, exit: Exit): Promise<void> {
    if (this.#k.stopping || sup.terminating || child.terminating || sup.children === null || sup.children.get(child.name) !== child) return;
    // A failed or restarting supervisor restarts all its children anyway: stale exits are moot.
    if (sup.status !== 'running') return;
    // One incident (a thread crash) fails many children; a child that an earlier exit of the same
    // incident already restarted (one-for-all, rest-for-one) is not restarted again.
    if (exit.kind === 'failed' && child.incident === exit.incident) return;
    const abnormal = exit.kind === 'failed';
    const restart = child.wire.restart === 'permanent' || (child.wire.restart === 'transient' && abnormal);
    if (!restart) {
      await this.#k.stopEntry(child, abnormal ? 'failed' : exit.reason, false);
      return;
    }
    const policy = sup.policy!;
    const incident = exit.kind === 'failed' ? exit.incident : `stop:${this.#k.nextSeq()}`;
    if (!policy.allowRestart(incident)) {
      await this.#escalate(sup, exit.kind === 'failed' ? exit.error : serializeError(new Error(`child ${child.ref.path} stopped`)));
      return;
    }
    const siblings = policy.strategy === 'one-for-one' ? [child] : [...sup.children.values()];
    const affected = policy.affected(siblings, siblings.indexOf(child));
    // OTP order: every affected child is taken down in reverse start order (the failed one
    // included, so its preRestart runs in turn), then all start again in start order.
    if (affected.length > 1) {
      for (const other of [...affected].reverse()) {
        if (other !== child && other.wire.restart === 'temporary') await this.#k.stopEntry(other, 'shutdown', false);
        else await this.#halt(other, exit);
      }
    }
    const delay = policy.nextDelay(child.id);
    const targets = affected.filter((e) => e.wire.restart !== 'temporary' || e === child);
    for (const e of targets) {
      e.status = 'restarting';
      e.incident = incident;
    }
    const restartAll = async (): Promise<void> => {
      for (const e of targets) {
        // A newer incident may have restarted this child while the backoff ran: its timer is stale.
        if (this.#k.stopping || sup.terminating || sup.children!.get(e.name) !== e || e.incident !== incident) continue;
        const outcome = await this.#restartEntry(e, delay);
        if (outcome !== null) {
          e.status = 'failed';
          e.lastError = serializeError(outcome);
          this.#k.bus.publish({ type: 'actor-failed', time: Date.now(), ref: e.ref, error: e.lastError });
          this.exit(e, { kind: 'failed', error: e.lastError, incident: `fail:${this.#k.nextSeq()}` });
        }
      }
    };
    if (delay === 0) {
      await restartAll();
    } else {
      // Backoff waits off the chain, so other children's failures are handled meanwhile.
      const timer = this.#k.clock.setTimeout(() => {
        this.#k.backoffTimers.delete(timer);
        sup.chain = (sup.chain ?? Promise.resolve()).then(restartAll).catch((error: unknown) => this.#k.failSystem(error as Error));
      }, delay);
      this.#k.backoffTimers.add(timer);
    }
  }

  /** Halts a sibling for a one-for-all / rest-for-one restart (preRestart runs; mailbox kept). */
  async #halt(entry: Entry, exit: Exit): Promise<void> {
    if (entry.isSupervisor) {
      for (const c of [...(entry.children?.values() ?? [])].reverse()) await this.#k.stopEntry(c, 'shutdown', true);
      return;
    }
    if (entry.needsFullStart || !this.#k.isUp(entry.thread)) return;
    const e = exit.kind === 'failed' ? exit.error : serializeError(new Error('sibling stopped'));
    await this.#k.command(entry, { t: 'halt', id: entry.id, e }, 'halted');
  }

  /** Starts an entry again after a failure; null on success. */
  async #restartEntry(entry: Entry, delayMs: number): Promise<Outcome> {
    try {
      if (entry.isSupervisor) {
        // A restarted supervisor starts with a fresh intensity window and restarts all its children.
        entry.policy = new SupervisorPolicy(entry.wire.behavior as WireSupervisor, this.#k.clock);
        const outcome = await this.#k.command(entry, { t: 'restart', id: entry.id, props: { id: entry.id } }, 'started');
        if (outcome !== null) return outcome;
        entry.terminating = false;
        for (const child of [...(entry.children?.values() ?? [])]) {
          const childOutcome = await this.#restartEntry(child, 0);
          if (childOutcome !== null) return childOutcome;
        }
      } else {
        await this.#k.whenUp(entry.thread);
        const env: Envelope = entry.needsFullStart
          ? { t: 'start', spec: this.#k.startSpec(entry) }
          : { t: 'restart', id: entry.id, props: entry.wire.props };
        const outcome = await this.#k.command(entry, env, 'started');
        if (outcome !== null) return outcome;
      }
    } catch (error) {
      return error as Error;
    }
    entry.needsFullStart = false;
    entry.status = 'running';
    entry.restarts++;
    entry.parent?.policy?.started(entry.id);
    this.#k.bus.publish({ type: 'actor-restarted', time: Date.now(), ref: entry.ref, restarts: entry.restarts, delayMs });
    return null;
  }

  async #escalate(sup: Entry, cause: SerializedError): Promise<void> {
    const policy = sup.policy!;
    const error = new EscalatedError(sup.ref.path, policy.intensity, policy.periodMs, deserializeError(cause));
    this.#k.bus.publish({
      type: 'supervisor-escalated',
      time: Date.now(),
      ref: sup.ref,
      restarts: policy.recentRestarts,
      periodMs: policy.periodMs,
      error: serializeError(error),
    });
    sup.terminating = true;
    for (const child of [...sup.children!.values()].reverse()) await this.#k.stopEntry(child, 'shutdown', true);
    if (sup.parent === null) {
      this.#k.failSystem(error);
      return;
    }
    sup.terminating = false; // its children are down; it is now a failed child of its parent
    sup.status = 'failed';
    sup.lastError = serializeError(error);
    this.exit(sup, { kind: 'failed', error: sup.lastError, incident: `escalation:${this.#k.nextSeq()}` });
  }

  /** Every actor of a dead thread failed, as one incident: settle what waited on them, then exit each. */
  threadCrashed(victims: readonly Entry[], error: Error, incident: string): void {
    const serialized = serializeError(error);
    for (const entry of victims) {
      entry.needsFullStart = true;
      for (const key of ['onStarted', 'onHalted', 'onStopped'] as const) {
        const waiter = entry[key];
        entry[key] = null;
        if (waiter === null) continue;
        if (key === 'onStarted') waiter.reject(error);
        else waiter.resolve();
      }
      if (entry.terminating) continue;
      entry.status = 'failed';
      entry.lastError = serialized;
      this.#k.bus.publish({ type: 'actor-failed', time: Date.now(), ref: entry.ref, error: serialized });
      this.exit(entry, { kind: 'failed', error: serialized, incident });
    }
  }
}
