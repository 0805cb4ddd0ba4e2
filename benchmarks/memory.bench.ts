/**
 * Suite `memory`: the shared vector memory (@apiary/memory) against hnswlib-node and a plain
 * JavaScript scan, in the same process, on seeded data (100,000 x 384 by default; 300,000 with
 * `--heavy`; `--n N` for a quick look at another size): topics shaped like text embeddings by
 * default, `--data isotropic` for the stress case (see memory/data.ts).
 *   search.any-thread           one query at a time from an actor on a worker thread that does NOT own
 *                               the namespace (`openNamespace(...).searchNow()`), timed on that thread,
 *                               after the load and `optimize()` (the documented way to finish a bulk load)
 *   search.any-thread.as-loaded the same before `optimize()`, the index in arrival order, taking turns with
 *   baseline.hnswlib-node.as-loaded  hnswlib-node's searches of that moment (ratio reported, no threshold)
 *   search.main-thread          the same through the main thread's client (no threshold: shows what the
 *                               worker thread adds or not)
 *   baseline.hnswlib-node       the same queries against hnswlib-node (same M, efC, ef), searched by the
 *                               same actor on the same worker thread ("in-thread"), blocks in turn
 *   baseline.brute-force-js     exact top-10 by a plain JS scan of every vector (40 queries)
 *   add                         about the first quarter of the vectors (24,576 of 100,000: whole
 *                               add() calls of 4,096) written through the namespace client (owner on
 *                               a worker thread), one call per piece, each piece until a snapshot
 *                               covering it is published: the first part of the load below
 *   add.full                    all the vectors, the same way (the namespace the searches then use)
 *   baseline.hnswlib-node.build a fresh hnswlib-node build of the same vectors, in the same pieces,
 *                               each taking turns with the namespace's (equal work, same moods)
 *   baseline.hnswlib-node.full-build  with `--full-baseline`, or in a first run (no cached index): the
 *                               full hnswlib-node build, timed in this run (30-40 s) in turns with the
 *                               namespace's whole load, piece by piece like the prefix (so `add.full`
 *                               against it is mood-matched too); it is cached in .cache/ for the
 *                               searches of later runs
 * Ratios: search.any-thread/baseline.hnswlib-node and search.any-thread/baseline.brute-force-js (p50
 * latency; and the as-loaded pair), add/baseline.hnswlib-node (throughput). Field `optimize`: the
 * rebuild's time (not in `add`), entries and groups; `asLoadedRecall10` beside `recall10`. Fields recall10 and freshWriteVisibleMs; recall10
 * is over the first 500 queries, against USearch's native exhaustive f32 scan (checked against the
 * JS scan's answers on the 40 it made).
 * With `--compaction` (not by default: +10-15 s), a tenth of the entries is deleted at the end and
 * `optimize()` compacts while the searching actor searches on: field `compaction` (readers' pause,
 * search latency before and during, deleted entries found after (0), recall of the surviving neighbours).
 * Threads: the namespace owner on worker thread 1, the searching actor (namespace and hnswlib-node
 * searches) on worker thread 2, the writer of the fresh-write figure and the builds on the main thread.
 */
import { ActorSystem } from '@apiary/runtime';
import { VectorMemory } from '@apiary/memory';
import { measured, parseBenchArgs, pick, ratio, report, type Check } from './lib/harness.ts';
import { DATA_KINDS, dataSet, fingerprint, type DataKind } from './memory/data.ts';
import { bruteForce, cachedExactTopK, cachedIndexFile, hasCachedIndex, HNSW, PiecewiseBuild } from './memory/baselines.ts';
import { searcher, timeBlock, writer, type BlockResult, type FreshWrite } from './memory/behaviors.ts';

const args = parseBenchArgs();
function sizeArg(): number {
  const i = process.argv.indexOf('--n');
  const value = i < 0 ? (args.heavy ? 300_000 : 100_000) : Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < 1_000) throw new Error('--n needs an integer >= 1000');
  return value;
}
function dataArg(): DataKind {
  const i = process.argv.indexOf('--data');
  const value = i < 0 ? 'topical' : process.argv[i + 1];
  if (!DATA_KINDS.includes(value as DataKind)) throw new Error(`--data takes one of ${DATA_KINDS.join(', ')}`);
  return value as DataKind;
}
const FULL_BASELINE = process.argv.includes('--full-baseline');
const COMPACTION = process.argv.includes('--compaction');
const started = performance.now();
const note = (line: string): void => void process.stderr.write(`memory bench: ${line}\n`);
const log = (...parts: unknown[]): void => {
  if (!args.json) console.log(`${((performance.now() - started) / 1000).toFixed(1)} s`, ...parts);
};

const N = sizeArg();
const DIMS = 384;
const CLUSTERS = 100; // ~1,000 vectors per cluster at the default size: topics, not one blob
const SEED = 42;
const K = 10;
/** Held-out queries for the latency figures, searched once per side per round. */
const QUERIES = 1_000;
/**
 * Blocks of QUERIES / ROUNDS queries, taken in turn by the sides. Small blocks: a side's block sees
 * nearly the same moment of the machine as the others' (a vCPU slowed by the host's other tenants
 * for a second slows every side alike); each block still starts with caches warmed by another side.
 */
const ROUNDS = 100;
const WARMUP_QUERIES = 200;
/**
 * Queries the plain JavaScript scan answers (the brute-force baseline's samples, ~40-60 ms each).
 * Recall is measured over RECALL_QUERIES against USearch's native exhaustive scan, checked against
 * the JavaScript scan on these.
 */
const EXACT_QUERIES = 40;
/**
 * Queries recall is measured over (the first of the timed ones), against the native scan: over 100,
 * eight runs of one code gave 0.979 to 1.000, a sample too small for a bar at 0.98; the native
 * scan answers 500 in 5-7 s here.
 */
const RECALL_QUERIES = 500;
const FRESH_WRITES = 200;
const FRESH_WARMUP = 20;
/**
 * Entries per `add()` call in the `add` figure, as a bulk import would send them (the client cuts
 * each call into 2,048-entry messages). Snapshots follow the owner's own policy meanwhile.
 */
const ADD_BATCH = 4_096;
const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
/** The share of `truth`'s ids (per query, the first `count` queries) that `found` has too. */
function overlap(truth: readonly string[][], found: readonly string[][], count: number): number {
  let hits = 0;
  let all = 0;
  for (let i = 0; i < count; i++) {
    hits += truth[i]!.filter((id) => found[i]!.includes(id)).length;
    all += truth[i]!.length;
  }
  return hits / all;
}
/**
 * Vectors in the `add` figure and its baseline build (equal work on both sides, in this run): about
 * a quarter of the load, in whole add() calls, each a piece that the two sides take in turn.
 */
const PREFIX = Math.min(N, Math.max(ADD_BATCH, Math.floor(N / 4 / ADD_BATCH) * ADD_BATCH));
const THREADS = 2;
const CACHE_DIR = new URL('./.cache/', import.meta.url).pathname;
const OWNER_THREAD = 1;
const SEARCH_THREAD = 2;

const phaseMs: Record<string, number> = {};
async function phase<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
  const t0 = performance.now();
  const out = await fn();
  phaseMs[name] = Math.round(performance.now() - t0);
  log(`${name} done in ${phaseMs[name]} ms`);
  return out;
}

const data = await phase('data', () => dataSet(dataArg(), N, DIMS, CLUSTERS, SEED, QUERIES, FRESH_WRITES, CACHE_DIR));
const system = await ActorSystem.start({ threads: THREADS });
const memory = await VectorMemory.start(system, { placement: { thread: OWNER_THREAD } });
try {
  // No automatic optimize: it would start 2 s after the load, in the middle of the as-loaded search
  // phase; the suite calls optimize() itself between the two search phases.
  const ns = await memory.create('bench', { dimensions: DIMS, connectivity: HNSW.M, expansionAdd: HNSW.efConstruction, expansionSearch: HNSW.ef, autoOptimize: false });

  // ---- add: every vector through the client; the first PREFIX against the baseline, piece by piece ----
  // The longest single add() round trip is reported too: the owner indexes inside the message, and a
  // call that holds its thread for seconds nears the runtime's 5 s heartbeat timeout.
  let addMaxCallMs = 0;
  const load = async (from: number, to: number): Promise<void> => {
    for (let at = from; at < to; at += ADD_BATCH) {
      const end = Math.min(to, at + ADD_BATCH);
      const call = performance.now();
      await ns.add(Array.from({ length: end - at }, (_, j) => ({ id: `v${at + j}`, vector: data.vectors.subarray((at + j) * DIMS, (at + j + 1) * DIMS) })));
      addMaxCallMs = Math.max(addMaxCallMs, performance.now() - call);
    }
  };
  const covered = async (n: number): Promise<void> => {
    const stats = await ns.snapshot();
    if (stats.snapshotCovered !== n || stats.live !== n) throw new Error(`snapshot covers ${stats.snapshotCovered} of ${n} (live ${stats.live})`);
  };
  // The prefix goes in pieces of one add() call each, written by both sides in turn (who goes first
  // alternates): the machine's mood drifts over seconds, and a side timed in one block would catch
  // another mood than the other. A piece of the namespace's side ends when a snapshot covers it.
  // Pieces are whole calls, so that timing them does not change the messages the owner gets.
  // With --full-baseline the whole load goes in turns the same way (the stricter reading of the
  // issue's bar: all 100,000 against a whole build), and that build serves the search baseline. A
  // first run, with no cached baseline index, does the same: the full build it needs anyway then
  // costs one load, not a load and a build of 30-40 s after it.
  const key = { data: data.kind, seed: SEED, clusters: CLUSTERS, fingerprint: fingerprint(data.vectors) };
  const wholeInTurns = FULL_BASELINE || !hasCachedIndex(CACHE_DIR, DIMS, N, key);
  const turns = wholeInTurns ? N : PREFIX;
  const { addMs, buildMs, build } = await phase('add', async () => {
    const build = new PiecewiseBuild(data.vectors, DIMS, turns);
    const addMs: number[] = [];
    const buildMs: number[] = [];
    const ours = async (from: number, to: number): Promise<void> => {
      const t0 = performance.now();
      await load(from, to);
      await covered(to);
      addMs.push(performance.now() - t0);
    };
    for (let piece = 0, from = 0; from < turns; piece++, from += ADD_BATCH) {
      const to = Math.min(turns, from + ADD_BATCH);
      if (piece % 2 === 1) await ours(from, to);
      buildMs.push(build.add(from, to));
      if (piece % 2 === 0) await ours(from, to);
    }
    if (turns < N) await ours(turns, N);
    return { addMs, buildMs, build };
  });
  const prefixPieces = Math.ceil(PREFIX / ADD_BATCH);
  const fullMs = sum(addMs);
  const full = wholeInTurns ? { index: build.index, ms: sum(buildMs) } : null;
  const afterAdd = await ns.stats();
  // The baseline's full index goes to a file (cached across runs unless --full-baseline built it
  // now), which the searching actor loads: the baseline is searched on the same thread as the
  // namespace, so a slower vCPU under that thread slows both sides alike.
  const cache = await phase('baseline-index', () => cachedIndexFile(CACHE_DIR, data.vectors, DIMS, N, key, note, full ?? undefined));

  // ---- single queries: from a non-owner worker thread, the namespace and hnswlib-node in turn ----
  const search = await system.spawn(searcher, {
    placement: { thread: SEARCH_THREAD },
    props: { handle: ns.handle, queries: data.queries, dims: DIMS, baseline: { file: cache.file, n: N } },
    startTimeoutMs: 60_000,
  });
  const searchThread = await system.ask(search, { type: 'thread' });
  if (searchThread !== SEARCH_THREAD) throw new Error(`searcher landed on thread ${String(searchThread)}`);
  const mainQueries = Array.from({ length: QUERIES }, (_, i) => data.queries.slice(i * DIMS, (i + 1) * DIMS));
  const sides = {
    'search.any-thread': async (from: number, to: number): Promise<BlockResult> =>
      (await system.ask(search, { type: 'block', from, to, k: K }, { timeoutMs: 60_000 })) as BlockResult,
    'search.main-thread': async (from: number, to: number): Promise<BlockResult> =>
      timeBlock(from, to, (i) => ns.searchNow(mainQueries[i]!, { k: K }), (hits) => hits.map((h) => h.id)),
    'baseline.hnswlib-node': async (from: number, to: number): Promise<BlockResult> =>
      (await system.ask(search, { type: 'baseline-block', from, to, k: K }, { timeoutMs: 60_000 })) as BlockResult,
  } as const;
  type Side = keyof typeof sides;
  const tailDuringSearch = (await ns.stats()).tail;
  /**
   * Warm-up (page faults of the viewed snapshot, JIT) on every side, then blocks in turn: the
   * machine's mood moves during a run, and one side after the other would see different moods.
   */
  const searchPhase = async (names: readonly Side[], orders: readonly (readonly Side[])[]): Promise<Map<Side, BlockResult[]>> => {
    for (const name of names) await sides[name](0, WARMUP_QUERIES);
    const out = new Map<Side, BlockResult[]>(names.map((name) => [name, []]));
    const per = QUERIES / ROUNDS;
    for (let r = 0; r < ROUNDS; r++) {
      for (const name of orders[r % 2]!) out.get(name)!.push(await sides[name](r * per, (r + 1) * per));
    }
    return out;
  };
  // First the index as the load left it (arrival order), then after optimize(), which lays it out
  // again with similar entries together: the suite's search figures are the optimized index's, the
  // as-loaded ones are reported beside them.
  const asLoaded = await phase('search-as-loaded', () =>
    searchPhase(['search.any-thread', 'baseline.hnswlib-node'], [['search.any-thread', 'baseline.hnswlib-node'], ['baseline.hnswlib-node', 'search.any-thread']]),
  );
  const optimized = await phase('optimize', () => ns.optimize());
  // The two sides of the ratio take turns going first; the main thread goes last, after the same
  // queries warmed its snapshot pages (see the README: it is the flattered figure).
  const searchRuns = await phase('search', () =>
    searchPhase(
      ['search.any-thread', 'baseline.hnswlib-node', 'search.main-thread'],
      [
        ['search.any-thread', 'baseline.hnswlib-node', 'search.main-thread'],
        ['baseline.hnswlib-node', 'search.any-thread', 'search.main-thread'],
      ],
    ),
  );
  const samplesOf = (side: Side): number[] => searchRuns.get(side)!.flatMap((b) => b.samplesMs);
  const idsOf = (side: Side): string[][] => searchRuns.get(side)!.flatMap((b) => b.ids);
  const asLoadedSamples = (side: Side): number[] => asLoaded.get(side)!.flatMap((b) => b.samplesMs);

  // ---- exact answers: a plain JS scan (the brute-force baseline), and a native one for recall ----
  const exact = await phase('brute-force', () =>
    timeBlock(0, EXACT_QUERIES, (i) => bruteForce(data.vectors, DIMS, data.queries.subarray(i * DIMS, (i + 1) * DIMS), K), (labels) => labels.map((label) => `v${label}`)),
  );
  // Recall against a native exhaustive scan (cached on disk: see cachedExactTopK), whose answers must
  // match this run's JS scan on the queries both made.
  const truth = await phase('exact-top-k', () => cachedExactTopK(CACHE_DIR, data.vectors, DIMS, data.queries, RECALL_QUERIES, K).map((labels) => labels.map((label) => `v${label}`)));
  const truthAgreement = overlap(exact.ids, truth, EXACT_QUERIES);
  if (truthAgreement < 0.99) throw new Error(`the native exact top ${K} agrees with the JS scan on ${truthAgreement} of its answers`);
  const recall = (found: readonly string[][]): number => overlap(truth, found, RECALL_QUERIES);
  // ---- fresh writes: acknowledged to a writer on the main thread, found by a search on thread 2 ----
  const write = await system.spawn(writer, { placement: 'main', props: { handle: ns.handle, searcher: search } });
  const fresh = await phase('fresh-writes', async () => {
    const out: FreshWrite[] = [];
    for (let i = 0; i < FRESH_WRITES; i++) {
      const vector = data.fresh.slice(i * DIMS, (i + 1) * DIMS);
      const r = (await system.ask(write, { type: 'write', id: `fresh${i}`, vector }, { timeoutMs: 60_000 })) as FreshWrite;
      if (i >= FRESH_WARMUP) out.push(r);
    }
    return out;
  });
  const r3 = (v: number): number => Number(v.toFixed(3));
  const compaction = COMPACTION ? await phase('compaction', () => compactionPhase()) : null;
  const final = await ns.stats();

  /**
   * With `--compaction`: a tenth of the entries deleted, then `optimize()`, which compacts; the
   * searching actor searches the whole time on its thread (its figures against a block before the
   * deletes), and recall is taken again over the true neighbours that survived.
   */
  async function compactionPhase(): Promise<Record<string, unknown>> {
    const per = 100;
    const block = async (from: number, to: number): Promise<BlockResult> => sides['search.any-thread'](from, to);
    const before = await block(0, QUERIES);
    const deleted = new Set(Array.from({ length: Math.floor(N / 10) }, (_, j) => `v${j * 10 + 3}`));
    await ns.delete([...deleted]);
    let done = false;
    const optimizing = ns.optimize().finally(() => (done = true));
    const during: number[] = [];
    for (let r = 0; !done; r = (r + 1) % (QUERIES / per)) during.push(...(await block(r * per, (r + 1) * per)).samplesMs);
    const report = await optimizing;
    const after = await block(0, RECALL_QUERIES);
    const surviving = truth.slice(0, RECALL_QUERIES).map((ids) => ids.filter((id) => !deleted.has(id)));
    const q = (xs: readonly number[]): { p50: number; p99: number; max: number } => {
      const m = measured('x', xs);
      return { p50: r3(m.p50Ms), p99: r3(m.p99Ms), max: r3(Math.max(...xs)) };
    };
    return {
      deleted: deleted.size,
      slotsReclaimed: report.slotsReclaimed,
      readerPauseMs: report.readerPauseMs,
      rebuildMs: report.ms,
      searchBeforeMs: q(before.samplesMs),
      searchDuringMs: { ...q(during), samples: during.length },
      deletedFound: after.ids.flat().filter((id) => deleted.has(id)).length,
      survivingRecall10: r3(overlap(surviving, after.ids, RECALL_QUERIES)),
      writtenAfter: (await ns.stats()).written,
    };
  }

  const results = [
    measured('search.any-thread', samplesOf('search.any-thread')),
    measured('search.main-thread', samplesOf('search.main-thread')),
    measured('baseline.hnswlib-node', samplesOf('baseline.hnswlib-node')),
    measured('search.any-thread.as-loaded', asLoadedSamples('search.any-thread')),
    measured('baseline.hnswlib-node.as-loaded', asLoadedSamples('baseline.hnswlib-node')),
    measured('baseline.brute-force-js', exact.samplesMs),
    measured('add', [sum(addMs.slice(0, prefixPieces))], PREFIX),
    measured('add.full', [fullMs], N),
    measured('baseline.hnswlib-node.build', [sum(buildMs.slice(0, prefixPieces))], PREFIX),
    ...(full === null ? [] : [measured('baseline.hnswlib-node.full-build', [full.ms], N)]),
  ];
  const ratios = {
    'search.any-thread/baseline.hnswlib-node': ratio(pick(results, 'search.any-thread'), pick(results, 'baseline.hnswlib-node'), 'latency-p50'),
    'search.any-thread/baseline.brute-force-js': ratio(pick(results, 'search.any-thread'), pick(results, 'baseline.brute-force-js'), 'latency-p50'),
    'search.any-thread.as-loaded/baseline.hnswlib-node.as-loaded': ratio(pick(results, 'search.any-thread.as-loaded'), pick(results, 'baseline.hnswlib-node.as-loaded'), 'latency-p50'),
    'add/baseline.hnswlib-node': ratio(pick(results, 'add'), pick(results, 'baseline.hnswlib-node.build'), 'throughput'),
    ...(full === null ? {} : { 'add.full/baseline.hnswlib-node.full-build': ratio(pick(results, 'add.full'), pick(results, 'baseline.hnswlib-node.full-build'), 'throughput') }),
  };
  const recall10 = recall(idsOf('search.any-thread'));
  const visible = measured('freshWriteVisibleMs', fresh.map((f) => f.visibleMs));
  const ack = measured('freshWriteAckMs', fresh.map((f) => f.ackMs));
  const checks: Check[] = [
    { name: 'search.any-thread/baseline.hnswlib-node <= 1.0', ok: ratios['search.any-thread/baseline.hnswlib-node'] <= 1.0, detail: ratios['search.any-thread/baseline.hnswlib-node'].toFixed(3) },
    { name: 'search.any-thread/baseline.brute-force-js <= 0.05', ok: ratios['search.any-thread/baseline.brute-force-js'] <= 0.05, detail: ratios['search.any-thread/baseline.brute-force-js'].toFixed(4) },
    { name: 'add/baseline.hnswlib-node >= 2.0', ok: ratios['add/baseline.hnswlib-node'] >= 2.0, detail: ratios['add/baseline.hnswlib-node'].toFixed(3) },
    ...(full === null
      ? []
      : [{ name: 'add.full/baseline.hnswlib-node.full-build >= 2.0 (the whole load: --full-baseline, or a first run)', ok: ratios['add.full/baseline.hnswlib-node.full-build']! >= 2.0, detail: ratios['add.full/baseline.hnswlib-node.full-build']!.toFixed(3) }]),
    { name: 'recall10 >= 0.98', ok: recall10 >= 0.98, detail: recall10.toFixed(4) },
    { name: 'freshWriteVisibleMs p50 <= 5', ok: visible.p50Ms <= 5, detail: `${visible.p50Ms.toFixed(3)} ms (p99 ${visible.p99Ms.toFixed(3)} ms)` },
  ];
  report(
    'memory',
    results,
    ratios,
    {
      recall10: r3(recall10),
      mainThreadRecall10: r3(recall(idsOf('search.main-thread'))),
      asLoadedRecall10: r3(recall(asLoaded.get('search.any-thread')!.flatMap((b) => b.ids))),
      optimize: { ms: optimized.ms, entries: optimized.entries, groups: optimized.groups, snapshotVersion: optimized.snapshotVersion },
      baselineRecall10: r3(recall(idsOf('baseline.hnswlib-node'))),
      freshWriteVisibleMs: { p50: r3(visible.p50Ms), p99: r3(visible.p99Ms), max: r3(Math.max(...fresh.map((f) => f.visibleMs))) },
      freshWriteAckMs: { p50: r3(ack.p50Ms), p99: r3(ack.p99Ms) },
      freshWriteMaxAttempts: Math.max(...fresh.map((f) => f.attempts)),
      tailDuringSearch,
      snapshotsDuringAdd: afterAdd.snapshotVersion,
      addMaxCallMs: Math.round(addMaxCallMs),
      snapshotsAtEnd: final.snapshotVersion,
      tailAtEnd: final.tail,
      ...(compaction === null ? {} : { compaction }),
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      node: process.version,
      n: N,
      dims: DIMS,
      clusters: CLUSTERS,
      seed: SEED,
      hnsw: HNSW,
      addBatch: ADD_BATCH,
      queries: QUERIES,
      exactQueries: EXACT_QUERIES,
      recallQueries: RECALL_QUERIES,
      truthAgreement: r3(truthAgreement),
      freshWrites: FRESH_WRITES - FRESH_WARMUP,
      data: data.kind,
      dataFingerprint: key.fingerprint,
      addPrefix: PREFIX,
      addPieces: { addMs: addMs.map((ms) => Math.round(ms)), baselineBuildMs: buildMs.map((ms) => Math.round(ms)) },
      // Without --full-baseline: the full-size hnswlib-node build that made the cached search index
      // (another run, maybe another day). Its ratio to `add.full` mixes two runs: context only.
      ...(full !== null
        ? {}
        : {
            baselineCache: {
              builtNow: cache.builtNow,
              fullBuildVectorsPerSecond: cache.buildVectorsPerSecond,
              addFullOverCachedFullBuild: r3(pick(results, 'add.full').hz / cache.buildVectorsPerSecond),
              builtAt: cache.builtAt,
              builtOnNode: cache.builtOnNode,
            },
          }),
      threads: THREADS,
      phaseMs,
      wallMs: Math.round(performance.now() - started),
    },
    checks,
    args.json,
  );
} finally {
  await memory.stop();
  await system.stop();
}
