// `pnpm bench <suite> [--json] [--heavy]`: runs benchmarks/<suite>.bench.ts under tsx.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const [suite, ...rest] = process.argv.slice(2).filter((a) => a !== '--');
const available = readdirSync(`${root}benchmarks`).filter((f) => f.endsWith('.bench.ts')).map((f) => f.replace(/\.bench\.ts$/, ''));
if (!suite || !existsSync(`${root}benchmarks/${suite}.bench.ts`)) {
  console.error(`usage: pnpm bench <suite> [--json] [--heavy]\nsuites: ${available.join(', ')}`);
  process.exit(2);
}
// Benchmarks measure the built packages (dist/), as users run them: build first. The suite file
// itself and its behavior modules are TypeScript, loaded through tsx.
const build = spawnSync(process.execPath, [`${root}scripts/build.mjs`], { stdio: ['ignore', 'inherit', 'inherit'] });
if (build.status !== 0) process.exit(build.status ?? 1);
const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', `benchmarks/${suite}.bench.ts`, ...rest], {
  cwd: root,
  stdio: 'inherit',
});
child.on('exit', (code) => process.exit(code ?? 1));
