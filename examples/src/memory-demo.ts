/**
 * Shared vector memory, runnable: `npx --yes pnpm@10 build && node examples/dist/memory-demo.js`.
 *
 * A swarm namespace used as a blackboard: findings written with their scouts as origin are found at
 * once by a search on the main thread (before any snapshot, from the shared tail; the owner runs on
 * worker thread 1), a filter narrows by metadata,
 * the namespace's owner thread is killed and comes back with every acknowledged finding, and a
 * persistent namespace is reopened from disk; the memory's events (snapshots, recoveries) are printed
 * from the system's event bus. The embedder is the offline hashed n-gram one
 * (lexical: it matches shared words and spellings, not meaning).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActorSystem } from '@apiary/runtime';
import { HashEmbedder, VectorMemory } from '@apiary/memory';

const started = performance.now();
const say = (text: string): void => console.log(`${(performance.now() - started).toFixed(0).padStart(5)} ms  ${text}`);
const embedder = new HashEmbedder({ dimensions: 256 });
const embed = async (text: string): Promise<Float32Array> => (await embedder.embed([text]))[0]!;

const system = await ActorSystem.start({ threads: 2 });
// The memory's events are on the system's one bus, like every other level's.
system.events.on('memory-created', (e) => say(`event memory-created: ${e.namespace} (${e.dimensions}-d, ${e.persistent ? 'persistent' : 'in memory'}), owner ${e.owner.path} up in ${e.ms} ms`));
system.events.on('memory-dropped', (e) => say(`event memory-dropped: ${e.namespace}${e.dataDeleted ? ', its data deleted' : ''}, ${e.ms} ms`));
system.events.on('memory-recovered', (e) => say(`event memory-recovered: ${e.namespace} from ${e.source}, ${e.live} live, ${e.indexed} of ${e.written} indexed, ${e.ms} ms`));
system.events.on('memory-snapshot', (e) => say(`event memory-snapshot: ${e.namespace} v${e.version} (${e.trigger}), ${e.covered} entries, ${e.ms} ms`));
system.events.on('memory-optimized', (e) => say(`event memory-optimized: ${e.namespace} (${e.report.trigger}), ${e.report.entries} entries in ${e.report.groups} group(s), ${e.report.ms} ms`));
const dir = mkdtempSync(join(tmpdir(), 'apiary-memory-demo-'));
let memory = await VectorMemory.start(system, { dir, placement: { thread: 1 } });
say(`memory up: snapshots in ${memory.snapshotDir}, persistence in ${dir}`);
const board = await memory.create('swarm.alpha', { dimensions: 256 });

const findings = [
  { id: 'f1', text: 'The payment service times out when the cart has more than 50 items', by: 'scout-1', kind: 'bug' },
  { id: 'f2', text: 'Checkout latency doubled after the Tuesday deploy', by: 'scout-2', kind: 'regression' },
  { id: 'f3', text: 'The search page caches results for ten minutes', by: 'scout-1', kind: 'note' },
  { id: 'f4', text: 'Payment retries are not idempotent: customers were charged twice', by: 'scout-2', kind: 'bug' },
];
for (const f of findings) await board.add({ id: f.id, vector: await embed(f.text), metadata: { text: f.text, kind: f.kind }, origin: f.by });
say(`${findings.length} findings written; stats: ${JSON.stringify(await board.stats())}`);

const show = (label: string, hits: { id: string; score: number; metadata: Readonly<Record<string, unknown>>; origin: string | null }[]): void => {
  say(label);
  for (const h of hits) console.log(`           ${h.score.toFixed(3)}  ${h.id} (${h.origin})  ${String(h.metadata.text)}`);
};
show('search "payment charged twice" (from the tail: no snapshot yet):', await board.search(await embed('payment charged twice'), { k: 2 }));
show('search "payment" with filter { kind: "bug" }:', await board.search(await embed('payment problems'), { k: 3, filter: { kind: 'bug' } }));

await system.terminateThread(1);
const again = await board.get(findings.map((f) => f.id));
say(`owner thread killed and replaced; findings still there: ${again.map((r) => r?.id ?? 'LOST').join(', ')} (incarnation ${(await board.stats()).incarnation})`);
if (again.some((r) => r === null)) process.exit(1);

await memory.stop();
memory = await VectorMemory.start(system, { dir });
const reopened = await memory.create('swarm.alpha', { dimensions: 256 });
say(`memory stopped and reopened from ${dir}: ${(await reopened.stats()).live} findings`);
show('search "checkout got slower" after the restart:', await reopened.search(await embed('checkout got slower after deploy'), { k: 1 }));
// After a bulk load or many deletes: rebuild the index with similar entries laid out together (faster
// searches; deleted entries leave the graph). Writes and searches go on while it runs.
await reopened.delete(findings[0]!.id);
const optimized = await reopened.optimize();
say(`optimize(): ${optimized.entries} entries in ${optimized.groups} group(s), ${optimized.tombstonesDropped} deleted dropped, ${optimized.slotsReclaimed} slot(s) given back, ${optimized.ms} ms`);
// Done with the board for good: its owner stops, every thread lets go of it, its files go too.
await memory.drop('swarm.alpha', { deleteData: true });
await memory.stop();
await system.stop();
rmSync(dir, { recursive: true, force: true });
say('done');
