// Builds every package and the examples to dist/ (tsc, then the plain-JS assets tsc does not copy).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { packagesInBuildOrder } from './packages.mjs';

const root = new URL('..', import.meta.url).pathname;
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const dirs = [...packagesInBuildOrder(root).filter((d) => existsSync(join(d, 'tsconfig.build.json'))), join(root, 'examples')].filter((d) => existsSync(join(d, 'src')) && readdirSync(join(d, 'src')).length > 0);
for (const dir of dirs) {
  const config = existsSync(join(dir, 'tsconfig.build.json')) ? 'tsconfig.build.json' : 'tsconfig.json';
  const r = spawnSync(process.execPath, [tsc, '-p', join(dir, config)], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  spawnSync(process.execPath, [join(root, 'scripts/copy-assets.mjs'), join(dir, 'src'), join(dir, 'dist')], { stdio: 'inherit' });
}
