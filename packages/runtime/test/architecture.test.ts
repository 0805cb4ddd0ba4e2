/** Checks that guard the architecture (style guide, point 11). */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = new URL('../../../', import.meta.url).pathname;

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (/\.(ts|mjs)$/.test(name)) out.push(path);
  }
  return out;
}

/** Source without comments (a comment may say "any" or show console.log in an example). */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

const packages = readdirSync(join(root, 'packages'));
const files = packages.flatMap((p) => {
  try {
    return sources(join(root, 'packages', p, 'src')).map((file) => ({ pkg: p, file, text: readFileSync(file, 'utf8') }));
  } catch {
    return [];
  }
});

test('no package reaches into another package’s src (one front door per package)', () => {
  for (const { pkg, file, text } of files) {
    for (const m of text.matchAll(/from\s+'([^']+)'/g)) {
      const spec = m[1]!;
      const deep = /^@apiary\/[^/]+\/.+/.test(spec) || /\.\.\/\.\.\/[^/]+\/src\//.test(spec);
      assert.not.ok(deep, `${relative(root, file)} (${pkg}) imports ${spec}`);
    }
  }
});

test('package sources print nothing: observable output goes through the event bus', () => {
  for (const { file, text } of files) {
    const code = withoutComments(text);
    assert.not.match(code, /console\.(log|info|warn|error|debug)\(/, relative(root, file));
  }
});

test('the actor runtime imports nothing LLM-specific', () => {
  for (const { pkg, file, text } of files) {
    if (pkg !== 'runtime') continue;
    assert.not.match(text, /from\s+'(openai|usearch|@apiary\/agent)/, relative(root, file));
  }
});

test('USearch is called only through the fenced index (a thread terminated mid-call aborts the process)', () => {
  const fenced = join('packages', 'memory', 'src', 'native-index.ts');
  for (const { file, text } of files) {
    // Type imports and the enums of its options are not calls into the addon; the Index class is.
    const values = [...text.matchAll(/import\s+(?!type\b)\{([^}]*)\}\s+from\s+'usearch'/g)].flatMap((m) => m[1]!.split(',').map((name) => name.trim()));
    const calls = values.filter((name) => name !== '' && !name.startsWith('type ') && !/^(MetricKind|ScalarKind)$/.test(name));
    if (relative(root, file) !== fenced) assert.equal(calls, [], `${relative(root, file)} imports ${calls.join(', ')} from usearch`);
    assert.not.match(text, /import\s+\*\s+as\s+\w+\s+from\s+'usearch'|require\('usearch'\)/, relative(root, file));
  }
});

test('no any, no ts-ignore in package sources', () => {
  for (const { file, text } of files) {
    assert.not.match(text, /@ts-ignore|@ts-nocheck/, relative(root, file));
    assert.not.match(withoutComments(text), /:\s*any\b|as any\b|<any>/, relative(root, file));
  }
});

test('source files stay small enough to read (split before ~450 lines)', () => {
  for (const { file, text } of files) {
    const lines = text.split('\n').length;
    assert.ok(lines <= 450, `${relative(root, file)} has ${lines} lines`);
  }
});

test('every export of the runtime front door has TSDoc', () => {
  const index = readFileSync(join(root, 'packages/runtime/src/index.ts'), 'utf8');
  const names = [...index.matchAll(/export (?:type )?\{([^}]+)\}/g)].flatMap((m) => m[1]!.split(',').map((n) => n.trim()).filter(Boolean));
  const all = files.filter((f) => f.pkg === 'runtime').map((f) => f.text).join('\n');
  for (const name of names) {
    const declared = new RegExp(`/\\*\\*[\\s\\S]*?\\*/\\s*export (?:declare )?(?:abstract )?(?:class|interface|type|function|const|async function) ${name}\\b`);
    assert.ok(declared.test(all), `export ${name} lacks TSDoc`);
  }
});

test.run();
