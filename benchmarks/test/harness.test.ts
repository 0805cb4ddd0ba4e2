import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { measured, parseBenchArgs, ratio, report, runBench } from '../lib/harness.ts';

test('measured() turns hand-timed samples into hz, mean, p50 and p99', () => {
  const r = measured('x', [4, 1, 3, 2], 10);
  assert.is(r.meanMs, 2.5);
  assert.is(r.p50Ms, 2.5);
  assert.ok(r.p99Ms > 3.9 && r.p99Ms <= 4);
  assert.is(r.hz, 4000); // 10 ops per 2.5 ms
  assert.is(r.samples, 4);
});

test('ratios compare throughput by hz and latency by medians', () => {
  const a = measured('a', [1], 100);
  const b = measured('b', [2], 100);
  assert.is(ratio(a, b, 'throughput'), 2);
  assert.is(ratio(a, b, 'latency-p50'), 0.5);
});

test('--json prints one JSON object in the documented shape as the last line', async () => {
  const results = await runBench([{ name: 'noop', fn: () => undefined }], { time: 20, iterations: 5 });
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => {
    lines.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    report('demo', results, { 'noop/noop': 1 }, { extra: 1 }, [{ name: 'c', ok: true, detail: 'd' }], true);
  } finally {
    process.stdout.write = write;
  }
  const parsed = JSON.parse(lines.at(-1)!) as Record<string, unknown>;
  assert.is(parsed.suite, 'demo');
  const row = (parsed.results as Record<string, unknown>[])[0]!;
  for (const key of ['name', 'hz', 'meanMs', 'p50Ms', 'p99Ms', 'samples']) assert.ok(key in row, key);
  assert.equal(parsed.ratios, { 'noop/noop': 1 });
  assert.is(parsed.extra, 1);
  assert.equal(parseBenchArgs(['--json', '--time', '200']), { json: true, heavy: false, time: 200 });
});

test.run();
