import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Index } from 'usearch';
import { clustered } from '@apiary/testkit';
import { indexOptions, type NamespaceConfig } from '../src/config.ts';
import { ioBoundMs, loadIndex, saveIndex } from '../src/index-files.ts';
import { recordingContext } from './fixtures/blocking.ts';

const test = suite('vector memory: index files in blocking sections');

test('saves and loads of an index run inside one blocking section each, bounded above what the file takes at 20 MB/s', () => {
  const dir = mkdtempSync(join(tmpdir(), 'apiary-index-files-'));
  try {
    const config = { dimensions: 64, connectivity: 16, expansionAdd: 64, expansionSearch: 32, quantization: 'f32' } as NamespaceConfig;
    const index = new Index(indexOptions(config));
    const data = clustered(3000, 64, 8, 5);
    index.add(BigUint64Array.from({ length: 3000 }, (_, i) => BigInt(i)), data);
    const path = join(dir, 'index.usearch');
    const ctx = recordingContext();
    let savedInside = false;
    const save = index.save.bind(index);
    index.save = (p: string): void => {
      savedInside = ctx.inside;
      save(p);
    };
    saveIndex(ctx, index, path, config);
    assert.ok(savedInside, 'the save ran inside the section');
    const bytes = statSync(path).size;
    assert.is(ctx.sections.length, 1);
    // The bound comes from an estimate made before the file exists: it must cover the real file.
    assert.ok(ctx.sections[0]! >= ioBoundMs(bytes), `save bound ${ctx.sections[0]} ms for ${bytes} bytes`);
    assert.ok(ioBoundMs(bytes) >= 10_000 + bytes / 20_000);

    const back = new Index(indexOptions(config));
    loadIndex(ctx, back, path);
    assert.is(back.size(), 3000);
    assert.equal(ctx.sections[1], ioBoundMs(bytes));
    // A bigger file gets a longer bound: 2.5 GB at 20 MB/s.
    assert.is(ioBoundMs(2.5e9), 10_000 + 125_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
