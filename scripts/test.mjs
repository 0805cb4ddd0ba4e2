// The project's test command (`pnpm test`): typecheck, build, unit tests on the TypeScript sources
// (tsx, workspace packages resolved to src/ through the `source` export condition), then smoke tests
// on the built dist/ output with plain node. Each test file runs in its own process, so one leaked
// worker thread cannot hang the others; a file that does not finish in time fails.
// Prints `N passed, N failed` as its last line.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { packagesInBuildOrder } from './packages.mjs';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const noBuild = args.includes('--no-build');
const filter = args.find((a) => !a.startsWith('--'));
const fileTimeoutMs = Number(process.env.APIARY_TEST_FILE_TIMEOUT_MS ?? 180_000);
const jobs = Math.max(1, Number(process.env.APIARY_TEST_JOBS ?? 2));

let passed = 0;
let failed = 0;
const failures = [];

function run(cmd, argv, { timeoutMs = 600_000, env = {} } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', ...env },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, timedOut });
    });
  });
}

function record(name, ok, detail = '') {
  if (ok) passed++;
  else {
    failed++;
    failures.push(name);
  }
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` ${detail}` : ''}`);
}

function files(dir, pattern) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist' || name === 'fixtures') continue;
    if (statSync(path).isDirectory()) out.push(...files(path, pattern));
    else if (pattern.test(name)) out.push(path);
  }
  return out.sort();
}

const packages = packagesInBuildOrder(root);
const tsc = join(root, 'node_modules/typescript/bin/tsc');

async function build(dir) {
  const pkg = existsSync(join(dir, 'package.json')) ? JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) : {};
  if (!pkg.scripts?.build) return;
  const config = existsSync(join(dir, 'tsconfig.build.json')) ? 'tsconfig.build.json' : 'tsconfig.json';
  const r = await run(process.execPath, [tsc, '-p', join(dir, config)]);
  let ok = r.code === 0;
  if (ok && existsSync(join(dir, 'src'))) {
    const c = await run(process.execPath, [join(root, 'scripts/copy-assets.mjs'), join(dir, 'src'), join(dir, 'dist')]);
    ok = c.code === 0;
  }
  record(`build ${relative(root, dir)}`, ok);
  if (!ok) console.log(r.out);
}

if (!noBuild) {
  // 1. Build the packages first: the examples and benchmarks compile against their dist/ types.
  for (const dir of packages) await build(dir);
  // 2. Typecheck every package, the examples and the benchmarks.
  const projects = [...packages, join(root, 'examples'), join(root, 'benchmarks')].filter((d) => existsSync(join(d, 'tsconfig.json')));
  for (const dir of projects) {
    const r = await run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json'), '--noEmit']);
    record(`typecheck ${relative(root, dir)}`, r.code === 0);
    if (r.code !== 0) console.log(r.out);
  }
  // 3. Build the examples (the demo runs from them).
  await build(join(root, 'examples'));
}

// 4. Unit tests (TypeScript, tsx) and 5. smoke tests of the built output (plain node).
const unit = [...packages.flatMap((d) => files(join(d, 'test'), /\.test\.ts$/)), ...files(join(root, 'benchmarks/test'), /\.test\.ts$/)];
const smoke = packages.flatMap((d) => files(join(d, 'test-dist'), /\.test\.mjs$/));
const queue = [
  ...unit.map((file) => ({ file, argv: ['--import', 'tsx', '--conditions=source', file] })),
  ...smoke.map((file) => ({ file, argv: [file] })),
].filter(({ file }) => !filter || file.includes(filter));

function summary(out) {
  const total = /Total:\s+(\d+)/.exec(out);
  const ok = /Passed:\s+(\d+)/.exec(out);
  const skipped = /Skipped:\s+(\d+)/.exec(out);
  if (!total || !ok) return null;
  return { total: Number(total[1]), passed: Number(ok[1]), skipped: Number(skipped?.[1] ?? 0) };
}

async function worker() {
  for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
    const name = relative(root, job.file);
    const started = Date.now();
    const r = await run(process.execPath, job.argv, { timeoutMs: fileTimeoutMs });
    const s = summary(r.out);
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    if (r.timedOut) {
      failed++;
      failures.push(name);
      console.log(`FAIL ${name}: timed out after ${fileTimeoutMs} ms (leaked worker or hang?)\n${r.out}`);
    } else if (s === null) {
      failed++;
      failures.push(name);
      console.log(`FAIL ${name}: exited ${r.code} without a uvu summary\n${r.out}`);
    } else {
      const bad = s.total - s.passed - s.skipped;
      passed += s.passed;
      failed += bad;
      if (bad > 0 || r.code !== 0) {
        if (bad === 0) {
          failed++; // a clean summary but a non-zero exit (e.g. a crash after the last test)
        }
        failures.push(name);
        console.log(`FAIL ${name} (${s.passed}/${s.total}, exit ${r.code}, ${secs}s)\n${r.out}`);
      } else {
        console.log(`ok   ${name} (${s.passed}/${s.total}, ${secs}s)`);
      }
    }
  }
}
await Promise.all(Array.from({ length: jobs }, worker));

if (failures.length > 0) console.log(`\nfailed: ${failures.join(', ')}`);
const ran = passed + failed;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && ran > 0 ? 0 : 1);
