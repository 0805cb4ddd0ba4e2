import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Index } from 'usearch';
import { clustered } from '@apiary/testkit';
import { indexOptions, type NamespaceConfig } from '../src/config.ts';
import { FencedIndex, ioBoundMs } from '../src/native-index.ts';
import { recordingContext } from './fixtures/blocking.ts';

const test = suite('vector memory: the fenced index');

const config = { dimensions: 64, connectivity: 16, expansionAdd: 64, expansionSearch: 32, quantization: 'f32' } as NamespaceConfig;

/** Wraps the USearch methods named so that each records whether it ran inside the context's native call (and section). */
function spyOnIndex(names: readonly (keyof Index)[], ctx: ReturnType<typeof recordingContext>): { calls: string[]; restore(): void } {
  const calls: string[] = [];
  const proto = Index.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const saved = names.map((name) => [name, proto[name]!] as const);
  for (const [name, original] of saved) {
    proto[name] = function (this: Index, ...args: unknown[]): unknown {
      calls.push(`${name}:${ctx.insideNative ? 'native' : 'outside'}${ctx.inside ? '+section' : ''}`);
      return original.apply(this, args);
    };
  }
  return { calls, restore: () => saved.forEach(([name, original]) => (proto[name] = original)) };
}

test('every call into USearch runs inside a native call of the thread context, and the file calls inside a blocking section too', () => {
  const dir = mkdtempSync(join(tmpdir(), 'apiary-native-index-'));
  const ctx = recordingContext();
  const spy = spyOnIndex(['add', 'search', 'contains', 'remove', 'size', 'save', 'load', 'view'], ctx);
  try {
    const index = new FencedIndex(indexOptions(config), ctx);
    assert.is(ctx.nativeCalls, 1, 'the constructor is a native call too');
    const data = clustered(300, 64, 4, 3);
    index.add(BigUint64Array.from({ length: 300 }, (_, i) => BigInt(i)), data, 2);
    assert.is(index.search(data.subarray(64 * 7, 64 * 8), 1, 1)[0], 7n);
    assert.ok(index.contains(7n));
    index.remove(7n);
    assert.not.ok(index.contains(7n));
    const path = join(dir, 'index.usearch');
    index.save(path);
    const viewed = new FencedIndex(indexOptions(config), ctx);
    viewed.view(path);
    const loaded = new FencedIndex(indexOptions(config), ctx);
    loaded.load(path);
    assert.is(loaded.size(), index.size());
    const outside = spy.calls.filter((call) => !call.includes(':native'));
    assert.equal(outside, [], 'calls outside a native call');
    for (const name of ['save', 'view', 'load']) {
      assert.ok(spy.calls.includes(`${name}:native+section`), `${name} ran inside a section: ${spy.calls.join(', ')}`);
    }
    assert.ok(spy.calls.includes('search:native'), 'a search holds no section');
  } finally {
    spy.restore();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('saves and loads of an index run inside one blocking section each, bounded above what the file takes at 20 MB/s', () => {
  const dir = mkdtempSync(join(tmpdir(), 'apiary-native-index-'));
  try {
    const ctx = recordingContext();
    const index = new FencedIndex(indexOptions(config), ctx);
    const data = clustered(3000, 64, 8, 5);
    index.add(BigUint64Array.from({ length: 3000 }, (_, i) => BigInt(i)), data, 1);
    const path = join(dir, 'index.usearch');
    index.save(path);
    const bytes = statSync(path).size;
    assert.is(ctx.sections.length, 1);
    // The bound comes from an estimate made before the file exists: it must cover the real file.
    assert.ok(ctx.sections[0]! >= ioBoundMs(bytes), `save bound ${ctx.sections[0]} ms for ${bytes} bytes`);
    assert.ok(ioBoundMs(bytes) >= 10_000 + bytes / 20_000);

    const back = new FencedIndex(indexOptions(config), ctx);
    back.load(path);
    assert.is(back.size(), 3000);
    assert.equal(ctx.sections[1], ioBoundMs(bytes));
    // A bigger file gets a longer bound: 2.5 GB at 20 MB/s.
    assert.is(ioBoundMs(2.5e9), 10_000 + 125_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
