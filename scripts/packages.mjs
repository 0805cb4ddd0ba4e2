// The workspace packages in dependency order (a package after the workspace packages it depends
// on), so builds that compile against each other's dist/ types run in the right order.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function packagesInBuildOrder(root) {
  const dirs = readdirSync(join(root, 'packages'))
    .map((name) => join(root, 'packages', name))
    .filter((dir) => existsSync(join(dir, 'package.json')));
  const byName = new Map(dirs.map((dir) => [JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name, dir]));
  const ordered = [];
  const state = new Map(); // name -> 'visiting' | 'done'
  const visit = (name) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw new Error(`dependency cycle through ${name}`);
    state.set(name, 'visiting');
    const pkg = JSON.parse(readFileSync(join(byName.get(name), 'package.json'), 'utf8'));
    // Runtime dependencies only: dev dependencies (test kits) may point back, and are not built.
    for (const dep of Object.keys(pkg.dependencies ?? {})) if (byName.has(dep)) visit(dep);
    state.set(name, 'done');
    ordered.push(byName.get(name));
  };
  for (const name of [...byName.keys()].sort()) visit(name);
  return ordered;
}
