import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { clustered } from '@apiary/testkit';
import { VectorMemory, MemoryErrorCodes, EmbedderErrorCodes, openNamespace, type NamespaceContext, type NamespaceHandle } from '../src/index.ts';
import { memorySuite, vec, DIMS } from './fixtures/suite.ts';

const test = memorySuite('vector memory: bad input');
const codeOf = async (p: Promise<unknown>): Promise<string> => p.then(() => 'no error', (e: { code?: string }) => e.code ?? 'no code');

test('namespaces are separate, and bad input gets typed errors', async (ctx) => {
  const a = await ctx.memory.create('ns-a', { dimensions: DIMS });
  const b = await ctx.memory.create('ns-b', { dimensions: 8 });
  const data = clustered(2, DIMS, 1, 5);
  await a.add({ id: 'only-in-a', vector: vec(data, 0) });
  assert.is((await b.stats()).live, 0);
  assert.is((await b.search([1, 0, 0, 0, 0, 0, 0, 0], { k: 1 })).length, 0);
  assert.is(await codeOf(b.add({ id: 'x', vector: vec(data, 0) })), MemoryErrorCodes.DIMENSION_MISMATCH);
  assert.is(await codeOf(a.add({ id: 'nan', vector: vec(data, 0).map((x, i) => (i === 3 ? Number.NaN : x)) })), MemoryErrorCodes.INVALID_VECTOR);
  assert.is(await codeOf(a.add({ id: 'zero', vector: new Array<number>(DIMS).fill(0) })), MemoryErrorCodes.INVALID_VECTOR);
  assert.is(await codeOf(a.search([1, 2, 3])), MemoryErrorCodes.DIMENSION_MISMATCH);
  assert.throws(() => ctx.memory.get('nope'), (e: { code?: string }) => e.code === MemoryErrorCodes.UNKNOWN_NAMESPACE);
  // openNamespace wants a handle and an actor's context: an ask function alone (the old form) is refused.
  const invalid = (field: string) => (e: { code?: string; message?: string }) => e.code === 'APIARY_ERR_INVALID_ARGUMENT' && (e.message ?? '').includes(field);
  const actorLike = { ask: async () => undefined, blocking: <T>(fn: () => T): T => fn(), nativeCall: <T>(fn: () => T): T => fn(), self: { path: '/user/x' } } as unknown as NamespaceContext;
  // A context without the native fence (made before nativeCall existed) is refused too.
  assert.throws(() => openNamespace(a.handle, { ...actorLike, nativeCall: undefined } as unknown as NamespaceContext), invalid('ctx'));
  assert.throws(() => openNamespace(a.handle, (() => undefined) as unknown as NamespaceContext), invalid('ctx'));
  assert.throws(() => openNamespace({} as NamespaceHandle, actorLike), invalid('handle'));
  assert.is(openNamespace(a.handle, actorLike).name, 'ns-a');
  assert.is(await codeOf(ctx.memory.create('ns-a', { dimensions: DIMS })), MemoryErrorCodes.NAMESPACE_EXISTS);
  // A batch with one bad entry fails whole, naming the entry.
  const batch = [0, 1, 2].map((i) => ({ id: `batch${i}`, vector: i === 2 ? vec(data, 1).map((x, j) => (j === 5 ? Number.POSITIVE_INFINITY : x)) : vec(data, 1) }));
  const failed = await a.add(batch).then(() => null, (e: Error & { code?: string }) => e);
  assert.is(failed?.code, MemoryErrorCodes.INVALID_VECTOR);
  assert.ok(failed!.message.startsWith('entries[2].vector: entry 5 is Infinity'), failed!.message);
  // The owner validates too: a message that skips the client's checks is answered with the error.
  assert.is(await codeOf(ctx.system.ask(a.handle.owner, { type: 'add', entries: [{ id: 'raw', vector: [1, 2] }] })), MemoryErrorCodes.DIMENSION_MISMATCH);
  assert.is((await a.stats()).live, 1); // nothing half-written
});


test('metadata JSON cannot hold and a non-string origin are refused before anything is written', async (ctx) => {
  const ns = await ctx.memory.create('bad-records', { dimensions: DIMS });
  const data = clustered(3, DIMS, 1, 29);
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  const good = { id: 'good', vector: vec(data, 0) };
  assert.is(await codeOf(ns.add([good, { id: 'cyclic', vector: vec(data, 1), metadata: cyclic }])), 'APIARY_ERR_INVALID_ARGUMENT');
  assert.is(await codeOf(ns.add([good, { id: 'big', vector: vec(data, 1), metadata: { n: 1n } }])), 'APIARY_ERR_INVALID_ARGUMENT');
  assert.is(await codeOf(ns.add([good, { id: 'origin', vector: vec(data, 1), origin: 7 as never }])), 'APIARY_ERR_INVALID_ARGUMENT');
  // What JSON would silently drop or turn into null is refused too, with where it is.
  for (const metadata of [{ f: () => 1 }, { s: Symbol('s') }, { n: Number.NaN }, { deep: [1, Number.POSITIVE_INFINITY] }]) {
    const refused = await ns.add([good, { id: 'lossy', vector: vec(data, 1), metadata }]).then(
      () => 'written',
      (e: { code?: string; message?: string }) => `${e.code}: ${e.message}`,
    );
    assert.match(refused, /^APIARY_ERR_INVALID_ARGUMENT: .*must be serialisable as JSON: /);
  }
  // The owner checks the same when a message skips the client (a cycle survives the thread crossing).
  const raw = { type: 'add', entries: [good, { id: 'cyclic', vector: vec(data, 1), metadata: cyclic }] } as const;
  assert.is(await codeOf(ctx.system.ask(ns.handle.owner, raw)), 'APIARY_ERR_INVALID_ARGUMENT');
  assert.is((await ns.stats()).live, 0);
});

test('bad namespace options are typed errors: an unknown quantization, a capacity no shared buffer can hold', async (ctx) => {
  assert.is(await codeOf(ctx.memory.create('bad-q', { dimensions: DIMS, quantization: 'i8' as never })), 'APIARY_ERR_INVALID_ARGUMENT');
  assert.is(await codeOf(ctx.memory.create('bad-cap', { dimensions: DIMS, maxEntries: 2 ** 50 })), 'APIARY_ERR_INVALID_ARGUMENT');
  assert.equal(ctx.memory.names().filter((n) => n === 'bad-q' || n === 'bad-cap'), []);
});

test('bad owner timeouts are typed errors at VectorMemory.start', async (ctx) => {
  for (const bad of [{ startTimeoutMs: 0 }, { stopTimeoutMs: -1 }, { startTimeoutMs: Number.NaN }, { stopTimeoutMs: '5' as never }]) {
    assert.is(await codeOf(VectorMemory.start(ctx.system, bad)), 'APIARY_ERR_INVALID_ARGUMENT', JSON.stringify(bad));
  }
});

test('the README error table lists exactly the memory and embedder codes', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const documented = [...readme.matchAll(/\|\s*`(APIARY_ERR_(?:MEMORY|EMBEDD)[A-Z_]*)`\s*\|/g)].map((m) => m[1]!);
  assert.equal(documented.sort(), [...Object.values(MemoryErrorCodes), ...Object.values(EmbedderErrorCodes)].sort());
});


test.run();
