import type { ActorRef, SerializedError } from '@apiary/runtime';
import type { OptimizeReport } from './layout.js';

/**
 * Why a snapshot was published: the owner's cadence (`policy`), `snapshot()` (`requested`), a tail
 * at its capacity (`tail-full`), the end of an `optimize()` (`optimized`), or a start from a
 * persistence directory (`restored`).
 */
export type SnapshotTrigger = 'policy' | 'requested' | 'tail-full' | 'optimized' | 'restored';

/** Where a starting owner found its entries. */
export type RecoverySource = 'shared-memory' | 'disk';

/**
 * The shared memory's events, added to the one event bus of `@apiary/runtime`. The owners publish
 * them from their threads; an event type nobody listens to is never built.
 */
declare module '@apiary/runtime' {
  interface ApiaryEventMap {
    /** `create()` made a namespace and its owner is up (after taking back what its persistence directory held). */
    'memory-created': {
      type: 'memory-created';
      time: number;
      namespace: string;
      dimensions: number;
      /** Whether it is kept in a persistence directory (`VectorMemory.start({ dir })`). */
      persistent: boolean;
      /** Its owner actor. */
      owner: ActorRef;
      /** From the call to the owner being up. */
      ms: number;
    };
    /** `drop()` is done: the owner stopped, the namespace closed on every thread, its snapshot files gone. */
    'memory-dropped': {
      type: 'memory-dropped';
      time: number;
      namespace: string;
      /** Whether its persistence directory was deleted too (`deleteData`). */
      dataDeleted: boolean;
      ms: number;
    };
    /** A namespace's owner published a snapshot of its index: every thread's reader moves to it. */
    'memory-snapshot': {
      type: 'memory-snapshot';
      time: number;
      namespace: string;
      version: number;
      /** Slots the snapshot holds (everything written below this). */
      covered: number;
      /** Time spent writing the file. */
      ms: number;
      trigger: SnapshotTrigger;
    };
    /** An `optimize()` finished; the report its callers got. */
    'memory-optimized': { type: 'memory-optimized'; time: number; namespace: string; report: OptimizeReport };
    /** An `optimize()` failed or was abandoned (the owner restarted or stopped); its callers got an OptimizeError. */
    'memory-optimize-failed': { type: 'memory-optimize-failed'; time: number; namespace: string; error: SerializedError };
    /**
     * An owner started with entries to take back: from shared memory after its thread or actor failed
     * (nothing acknowledged is lost), or from its persistence directory at first start.
     */
    'memory-recovered': {
      type: 'memory-recovered';
      time: number;
      namespace: string;
      source: RecoverySource;
      /** Entries that can be found after recovery. */
      live: number;
      /** Of the slots written, how many the recovered index holds (the rest is indexed next). */
      indexed: number;
      written: number;
      ms: number;
    };
  }
}
