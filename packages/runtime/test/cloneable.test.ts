import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertCloneable, ErrorCodes } from '../src/index.ts';

const ok: [string, unknown][] = [
  ['primitives', [1, 'a', true, null, undefined, 10n]],
  ['nested plain data', { a: [{ b: new Date(0) }, new Map([[1, new Set([2])]])] }],
  ['binary data', { buf: new Float32Array(4), shared: new SharedArrayBuffer(8), raw: new ArrayBuffer(2) }],
  ['cycles', (() => { const o: Record<string, unknown> = {}; o.self = o; return o; })()],
  ['errors and regexps', { e: new Error('x'), r: /x/g }],
];
for (const [name, value] of ok) {
  test(`accepts ${name}`, () => {
    assertCloneable(value, 'message');
    structuredClone(value); // and structured clone agrees
  });
}

const bad: [string, unknown, string][] = [
  ['a function', { a: { b: () => 1 } }, '$.a.b'],
  ['a symbol in an array', [1, Symbol('s')], '$[1]'],
  ['a promise', { p: Promise.resolve() }, '$.p'],
  ['a function inside a Map value', new Map([['k', () => 1]]), '$.get(0)'],
];
for (const [name, value, path] of bad) {
  test(`rejects ${name}, naming the path`, () => {
    assert.throws(
      () => assertCloneable(value, 'message'),
      (e: { code: string; data: { path: string } }) => e.code === ErrorCodes.NOT_CLONEABLE && e.data.path === path,
    );
    assert.throws(() => structuredClone(value)); // structured clone agrees it cannot go
  });
}

test.run();
