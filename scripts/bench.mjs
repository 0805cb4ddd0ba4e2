// `pnpm bench <suite> [--json] [--heavy]`: runs benchmarks/<suite>.bench.ts under tsx.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const [suite, ...rest] = process.argv.slice(2).filter((a) => a !== '--');
const available = readdirSync(`${root}benchmarks`).filter((f) => f.endsWith('.bench.ts')).map((f) => f.replace(/\.bench\.ts$/, ''));
if (!suite || !existsSync(`${root}benchmarks/${suite}.bench.ts`)) {
  console.error(`usage: pnpm bench <suite> [--json] [--heavy]\nsuites: ${available.join(', ')}`);
  process.exit(2);
}
const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', '--conditions=source', `benchmarks/${suite}.bench.ts`, ...rest], {
  cwd: root,
  stdio: 'inherit',
});
child.on('exit', (code) => process.exit(code ?? 1));
