import { ErrorReply, serializeError } from '@apiary/runtime';
import { OptimizeError } from './errors.js';
import { LayoutRebuild, type OptimizeReport, type OptimizeTrigger } from './layout.js';
import { indexInSlices, publishSnapshot, resetLayout, type OwnerState } from './owner-state.js';
import { CompactionInterrupted, publishCompacted } from './compaction.js';
import { INDEX_SLICE } from './indexing.js';

/*
 * A namespace owner's optimize: the rebuild of its index in a grouped layout, a slice per
 * `optimize-step` message (started by a request or by the owner's own policy: auto-optimize.ts),
 * and what follows when it ends or fails.
 */

/** A failure after which the owner must not go on (its restart makes things whole): see optimizeStep. */
export class OwnerMustRestart extends Error {
  constructor(cause: unknown) {
    super('the owner must restart', { cause });
  }
}

/**
 * Entries a step of an automatic rebuild inserts: one at a time on the owner's thread, ~25-70 ms a
 * step at 384-d here, where a step of INDEX_SLICE on two threads holds the thread ~0.1-0.25 s.
 * Measured at 50,000 x 384: the rebuild took 6.5 s against 4.6 s, and an actor on the owner's
 * thread answered in 27 ms p99 / 49 ms at most during it, against 116-150 ms p50 / 156-204 ms at
 * most. A rebuild nobody asked for should not stall the actors it shares a thread with;
 * `optimize()` callers get the fast one.
 */
const BACKGROUND_SLICE = 256;

/** Starts a rebuild (none is under way); its slices follow as `optimize-step` messages (`next`). */
export async function startRebuild(state: OwnerState, trigger: OptimizeTrigger, next: () => void): Promise<void> {
  // Everything written so far goes into the old index first: the rebuild starts from it.
  await indexInSlices(state);
  const job = new LayoutRebuild(state.config, state.writer, state.ctx, state.indexed, trigger === 'auto' ? BACKGROUND_SLICE : INDEX_SLICE);
  state.rebuild = { job, trigger, waiters: [] };
  next();
}

/**
 * One slice of the optimize under way; true when it is over (done or failed). Done: the new index
 * replaces the old one in this same turn (no write can come between the catch-up and the swap), a
 * snapshot publishes it, and a persistence checkpoint keeps its layout across restarts.
 */
export async function optimizeStep(state: OwnerState): Promise<boolean> {
  const { job, trigger, waiters } = state.rebuild!;
  let report: OptimizeReport;
  let renumbered = false;
  let readerPauseMs = 0;
  try {
    if (!job.step(state.indexed)) return false;
    const index = job.finish(state.indexed);
    if (job.numbering !== null) {
      readerPauseMs = publishCompacted(state, index, job.numbering);
      renumbered = true;
    } else {
      state.index = index;
      state.published = false;
      publishSnapshot(state, 'optimized');
    }
    resetLayout(state, job.size); // before the checkpoint, which keeps the counts
    if (state.persistence !== null) {
      await indexInSlices(state);
      await state.persistence.checkpoint(state.index, state.writer, state.indexed);
    }
    report = {
      namespace: state.config.name,
      trigger,
      entries: job.size,
      tombstonesDropped: job.tombstones,
      groups: job.groups,
      steps: job.steps,
      slotsReclaimed: job.numbering?.dropped ?? 0,
      readerPauseMs: Math.round(readerPauseMs * 1000) / 1000,
      ms: Date.now() - job.startedAt,
      snapshotVersion: state.writer.snapshot().version,
    };
  } catch (error) {
    abandonRebuild(state, 'the rebuild failed', error);
    // After a compaction the write log's slot numbers are the old ones, so it must not take another
    // write: the owner fails, and its restart recovers from shared memory and checkpoints afresh.
    // A move that failed part-way left shared memory inconsistent: the owner fails too (loudly).
    if ((renumbered && state.persistence !== null) || error instanceof CompactionInterrupted) throw new OwnerMustRestart(error);
    return true;
  }
  state.rebuild = null;
  for (const waiter of waiters) waiter.resolve(report);
  if (state.ctx.wants('memory-optimized')) state.ctx.publish({ type: 'memory-optimized', time: Date.now(), namespace: state.config.name, report });
  return true;
}

/** Drops the optimize under way (the old index stays), failing the asks that wait for it. */
export function abandonRebuild(state: OwnerState, reason: string, cause?: unknown): void {
  if (state.rebuild === null) return;
  const { waiters } = state.rebuild;
  state.rebuild = null;
  // No automatic retry until the index grows again: a rebuild that failed once would likely fail again.
  resetLayout(state, state.index.size());
  const error = new OptimizeError(state.config.name, reason, cause);
  for (const waiter of waiters) waiter.resolve(new ErrorReply(error));
  publishOptimizeFailed(state, error);
}

export function publishOptimizeFailed(state: OwnerState, error: OptimizeError): void {
  if (state.ctx.wants('memory-optimize-failed')) state.ctx.publish({ type: 'memory-optimize-failed', time: Date.now(), namespace: state.config.name, error: serializeError(error) });
}

