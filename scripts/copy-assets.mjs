// Copies the files tsc does not emit (.mjs, .cjs, .json) from a source folder into an output folder,
// keeping relative paths. The runtime's worker bootstrap is plain .mjs on purpose (see bootstrap.mjs).
import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const [src, out] = process.argv.slice(2);
if (!src || !out) {
  console.error('usage: node scripts/copy-assets.mjs <srcDir> <outDir>');
  process.exit(2);
}

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (/\.(mjs|cjs|json)$/.test(name)) {
      const target = join(out, relative(src, path));
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(path, target);
    }
  }
}
walk(src);
