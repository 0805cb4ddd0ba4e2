/**
 * The shared harness of Apiary's tinybench suites. Every suite races a baseline in the same process
 * and reports ratios against it: on a shared machine a ratio from one run is comparable, an absolute
 * time is not. `--json` prints one JSON object as the last line of output.
 */
import { Bench } from 'tinybench';

/** One row of a suite's results. `hz` is operations per second (messages, actors, calls...). */
export interface BenchResult {
  readonly name: string;
  readonly hz: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly samples: number;
  /** Operations per timed sample (a batch of N messages is one sample of N operations). */
  readonly opsPerSample: number;
}

/** A task for {@link runBench}. */
export interface BenchTask {
  readonly name: string;
  readonly fn: () => unknown;
  /** Operations one call of `fn` performs; `hz` is scaled by it. Default 1. */
  readonly opsPerSample?: number;
  readonly beforeAll?: () => void | Promise<void>;
  readonly afterAll?: () => void | Promise<void>;
}

/** An acceptance threshold and whether this run met it. */
export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** Command-line flags every suite accepts. */
export interface BenchArgs {
  readonly json: boolean;
  readonly heavy: boolean;
  /** Time budget per task in ms (`--time 500`). */
  readonly time: number | undefined;
}

/** Parses `--json`, `--heavy`, `--time <ms>`. */
export function parseBenchArgs(argv: readonly string[] = process.argv.slice(2)): BenchArgs {
  const i = argv.indexOf('--time');
  const time = i >= 0 ? Number(argv[i + 1]) : undefined;
  return { json: argv.includes('--json'), heavy: argv.includes('--heavy'), time: Number.isFinite(time) ? time : undefined };
}

/** Runs tasks in one tinybench Bench (`throws: true`: a broken task fails the run, not a quiet row). */
export async function runBench(tasks: readonly BenchTask[], options: { time?: number; warmupTime?: number; iterations?: number } = {}): Promise<BenchResult[]> {
  const bench = new Bench({ throws: true, time: options.time ?? 1000, iterations: options.iterations ?? 10, warmup: true });
  for (const task of tasks) {
    bench.add(task.name, task.fn, {
      beforeAll: task.beforeAll === undefined ? undefined : async () => task.beforeAll!(),
      afterAll: task.afterAll === undefined ? undefined : async () => task.afterAll!(),
    });
  }
  await bench.run();
  return tasks.map((task) => {
    const result = bench.getTask(task.name)?.result;
    if (result === undefined || !('latency' in result)) throw new Error(`task ${task.name} produced no statistics (${result?.state})`);
    const ops = task.opsPerSample ?? 1;
    return {
      name: task.name,
      hz: (1000 / result.latency.mean) * ops,
      meanMs: result.latency.mean,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      samples: result.latency.samplesCount,
      opsPerSample: ops,
    };
  });
}

/** Builds a result from hand-timed samples (ms each), for figures tinybench cannot time directly. */
export function measured(name: string, samplesMs: readonly number[], opsPerSample = 1): BenchResult {
  if (samplesMs.length === 0) throw new Error(`no samples for ${name}`);
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const mean = sorted.reduce((s, v) => s + v, 0) / sorted.length;
  return {
    name,
    hz: (1000 / mean) * opsPerSample,
    meanMs: mean,
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
    samples: sorted.length,
    opsPerSample,
  };
}

function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Throughput ratio (a.hz / b.hz) or latency ratio of medians (a.p50 / b.p50). */
export function ratio(a: BenchResult, b: BenchResult, kind: 'throughput' | 'latency-p50'): number {
  return kind === 'throughput' ? a.hz / b.hz : a.p50Ms / b.p50Ms;
}

/** Finds a result by name or throws. */
export function pick(results: readonly BenchResult[], name: string): BenchResult {
  const r = results.find((x) => x.name === name);
  if (r === undefined) throw new Error(`no result named ${name}`);
  return r;
}

const round = (v: number, digits: number): number => Number(v.toFixed(digits));

/** Prints a table (or, with `json`, one JSON line as the last line of output). */
export function report(
  suite: string,
  results: readonly BenchResult[],
  ratios: Record<string, number>,
  extra: Record<string, unknown>,
  checks: readonly Check[],
  json: boolean,
): void {
  const rows = results.map((r) => ({
    name: r.name,
    hz: round(r.hz, 1),
    meanMs: round(r.meanMs, 4),
    p50Ms: round(r.p50Ms, 4),
    p99Ms: round(r.p99Ms, 4),
    samples: r.samples,
    opsPerSample: r.opsPerSample,
  }));
  const roundedRatios = Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, round(v, 3)]));
  if (json) {
    process.stdout.write(`${JSON.stringify({ suite, results: rows, ratios: roundedRatios, checks, ...extra })}\n`);
    return;
  }
  console.log(`\nsuite ${suite}`);
  console.table(rows);
  console.table(roundedRatios);
  for (const c of checks) console.log(`${c.ok ? 'ok  ' : 'MISS'} ${c.name}: ${c.detail}`);
  for (const [k, v] of Object.entries(extra)) console.log(`${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
}
