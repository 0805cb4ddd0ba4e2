// Builds every package and the examples to dist/ (tsc, then the plain-JS assets tsc does not copy).
// A project whose dist/ is newer than its sources, its configs and everything built before it is
// skipped (tsc's own start-up costs ~2 s a project even when nothing changed); `--force` builds all.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { packagesInBuildOrder } from './packages.mjs';

const root = new URL('..', import.meta.url).pathname;
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const force = process.argv.includes('--force');
const dirs = [...packagesInBuildOrder(root).filter((d) => existsSync(join(d, 'tsconfig.build.json'))), join(root, 'examples')].filter((d) => existsSync(join(d, 'src')) && readdirSync(join(d, 'src')).length > 0);

/** Newest modification time under `path` (a file or a directory tree). */
function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let max = stat.mtimeMs; // a deleted file changes its directory's time
  for (const name of readdirSync(path)) max = Math.max(max, newest(join(path, name)));
  return max;
}

const stamp = (dir) => join(dir, 'dist', '.tsbuildinfo');
for (const [i, dir] of dirs.entries()) {
  const config = existsSync(join(dir, 'tsconfig.build.json')) ? 'tsconfig.build.json' : 'tsconfig.json';
  if (!force && existsSync(stamp(dir))) {
    const inputs = [join(dir, 'src'), join(dir, config), join(dir, 'tsconfig.json'), join(dir, 'package.json'), join(root, 'tsconfig.json'), ...dirs.slice(0, i).map(stamp)];
    if (Math.max(...inputs.map(newest)) < statSync(stamp(dir)).mtimeMs) continue;
  }
  const r = spawnSync(process.execPath, [tsc, '-p', join(dir, config)], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  spawnSync(process.execPath, [join(root, 'scripts/copy-assets.mjs'), join(dir, 'src'), join(dir, 'dist')], { stdio: 'inherit' });
  // tsc leaves its build info untouched when nothing changed in substance: mark the build done.
  if (existsSync(stamp(dir))) utimesSync(stamp(dir), new Date(), new Date());
}
