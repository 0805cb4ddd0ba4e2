import { InvalidArgumentError } from '@apiary/runtime';

/**
 * When a namespace's owner runs `optimize()` on its own. A bulk load leaves the index in arrival
 * order, which searches slower than the grouped layout (README, "Layout"); deletes and replacements
 * leave tombstones in the graph. Once writes have paused, the owner rebuilds.
 */
export interface AutoOptimizeOptions {
  /**
   * Entries the index must hold. Below it a rebuild gains little (the graph fits the caches) and
   * still costs the CPU. Default 20,000.
   */
  readonly minEntries?: number;
  /**
   * Entries inserted since the last layout, as a share of the entries that layout holds. At 1 (the
   * default) half of the index is then in arrival order. An index never laid out qualifies at any
   * size from `minEntries`.
   */
  readonly growth?: number;
  /** Entries deleted or replaced since the last layout, as a share of the index: their tombstones slow searches. Default 0.25. */
  readonly deletedShare?: number;
  /**
   * Time without any write (add or delete) before the owner starts. A rebuild during a bulk load
   * would compete with it for the CPU and miss most of it. Default 2,000 ms.
   */
  readonly quietMs?: number;
}

/** The policy with every default filled in (`null`: the owner never optimizes on its own). */
export interface AutoOptimizePolicy {
  readonly minEntries: number;
  readonly growth: number;
  readonly deletedShare: number;
  readonly quietMs: number;
}

/** What the owner knows when it asks whether to start. */
export interface LayoutFacts {
  readonly now: number;
  /** Epoch ms of the last add or delete (the owner's start when none came yet). */
  readonly lastWriteAt: number;
  /** Entries in the index now. */
  readonly entries: number;
  /** Entries the last layout held (0: never laid out, or since the owner started). */
  readonly laidOut: number;
  /** Entries inserted into the index since that layout. */
  readonly insertedSince: number;
  /** Entries removed from the index (deleted or replaced) since that layout. */
  readonly removedSince: number;
  /** Whether a rebuild is under way (one the user asked for included). */
  readonly optimizing: boolean;
  /** Slots written (live, deleted and replaced entries) and the most the namespace takes. */
  readonly written: number;
  readonly maxEntries: number;
  /** Live entries (written minus the dead slots a compaction would give back). */
  readonly live: number;
}

/** Fills in the defaults of `options` and checks them (InvalidArgumentError). */
export function autoOptimizePolicy(options: AutoOptimizeOptions | false | undefined): AutoOptimizePolicy | null {
  if (options === false) return null;
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    throw new InvalidArgumentError('autoOptimize', 'must be an object of options or false');
  }
  const o = options ?? {};
  const number = (field: keyof AutoOptimizeOptions, value: number | undefined, fallback: number, integer: boolean): number => {
    const v = value ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v))) {
      throw new InvalidArgumentError(`autoOptimize.${field}`, `must be a ${integer ? 'non-negative integer' : 'finite number >= 0'}`);
    }
    return v;
  };
  const deletedShare = number('deletedShare', o.deletedShare, 0.25, false);
  if (deletedShare > 1) throw new InvalidArgumentError('autoOptimize.deletedShare', 'must be at most 1');
  return {
    minEntries: number('minEntries', o.minEntries, 20_000, true),
    growth: number('growth', o.growth, 1, false),
    deletedShare,
    quietMs: number('quietMs', o.quietMs, 2_000, true),
  };
}

/**
 * Whether the owner should start a rebuild now under `policy`. A namespace three quarters full with
 * a sixteenth or more of its slots dead is rebuilt (and so compacted) without waiting for quiet:
 * writes that never pause, replacing entries, would otherwise run it into `maxEntries`.
 */
export function autoOptimizeDue(policy: AutoOptimizePolicy | null, facts: LayoutFacts): boolean {
  if (policy === null || facts.optimizing) return false;
  const dead = facts.written - facts.live;
  if (facts.written * 4 >= facts.maxEntries * 3 && dead * 16 >= facts.written) return true;
  if (facts.now - facts.lastWriteAt < policy.quietMs || facts.entries < policy.minEntries) return false;
  const grown = facts.insertedSince > 0 && facts.insertedSince >= policy.growth * facts.laidOut;
  const worn = facts.removedSince > 0 && facts.removedSince >= policy.deletedShare * (facts.entries + facts.removedSince);
  return grown || worn;
}
