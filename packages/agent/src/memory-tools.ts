import { z } from 'zod';
import { InvalidArgumentError } from '@apiary/runtime';
import { HashEmbedder, OpenAIEmbedder, openNamespace, type Embedder, type MemoryNamespace, type NamespaceContext, type NamespaceHandle, type OpenAIEmbedderOptions } from '@apiary/memory';
import { defineTool, type Tool } from './tools.js';

/** Which embedder an agent uses for its memory, as plain data (it is built on the agent's thread). */
export type EmbedderSpec =
  /** Offline, lexical (hashed character n-grams): no model, no key. */
  | { readonly kind: 'hash'; readonly dimensions?: number }
  /** An OpenAI-compatible embeddings endpoint; the key is read from `apiKeyEnv` (default OPENAI_API_KEY) on that thread. */
  | ({ readonly kind: 'openai'; readonly apiKeyEnv?: string } & Omit<OpenAIEmbedderOptions, 'apiKey'>);

/** An agent's use of a shared memory namespace. */
export interface AgentMemory {
  /** The namespace (per agent, per swarm, or the hivemind's global one): `memory.handle(name)`. */
  readonly namespace: NamespaceHandle;
  /** Default `{ kind: 'hash' }` with the namespace's dimensions. */
  readonly embedder?: EmbedderSpec;
  /** Offer the `remember` and `recall` tools to the model. Default true. */
  readonly tools?: boolean;
  /** Before each task, put the `k` memories most similar to its input into the context. Default off. */
  readonly autoRecall?: { readonly k: number; readonly minScore?: number };
}

/** What the memory tools write: the remembered text and who remembered it. */
export interface RememberedMetadata {
  readonly text: string;
  readonly tags: readonly string[];
  readonly agent: string;
}

/** The memory of one agent at run time. */
export interface MemoryBinding {
  readonly namespace: MemoryNamespace;
  readonly embedder: Embedder;
  readonly tools: readonly Tool[];
  readonly autoRecall: AgentMemory['autoRecall'];
}

function makeEmbedder(spec: EmbedderSpec | undefined, dimensions: number): Embedder {
  if (spec === undefined || spec.kind === 'hash') return new HashEmbedder({ dimensions: spec?.dimensions ?? dimensions });
  const { kind: _kind, apiKeyEnv, ...options } = spec;
  const apiKey = process.env[apiKeyEnv ?? 'OPENAI_API_KEY'];
  return new OpenAIEmbedder({ ...options, ...(apiKey === undefined ? {} : { apiKey }) });
}

/** Opens the namespace on this thread and builds the embedder and the tools. */
export function bindMemory(memory: AgentMemory, ctx: NamespaceContext): MemoryBinding {
  if (typeof memory?.namespace?.config?.name !== 'string') throw new InvalidArgumentError('definition.memory.namespace', 'must be a handle from memory.handle(name)');
  const namespace = openNamespace(memory.namespace, ctx);
  const embedder = makeEmbedder(memory.embedder, namespace.dimensions);
  if (embedder.dimensions !== namespace.dimensions) {
    throw new InvalidArgumentError('definition.memory.embedder', `makes ${embedder.dimensions}-d vectors; namespace ${namespace.name} holds ${namespace.dimensions}-d`);
  }
  const embedOne = async (text: string, signal: AbortSignal): Promise<Float32Array> => (await embedder.embed([text], { signal }))[0]!;
  let written = 0;
  const remember = defineTool(import.meta.url, 'remember', {
    name: 'remember',
    description: 'Stores a fact or finding in the shared memory, where you and other agents can recall it later.',
    parameters: z.object({ text: z.string().min(1).max(4_000), tags: z.array(z.string()).max(10).default([]) }),
    handler: async ({ text, tags }, tool) => {
      const id = `${ctx.self.path}#${Date.now().toString(36)}-${(written++).toString(36)}`;
      const metadata: RememberedMetadata = { text, tags, agent: ctx.self.path };
      await namespace.add({ id, vector: await embedOne(text, tool.signal), metadata: { ...metadata } });
      return `remembered (${namespace.name})`;
    },
  });
  const recall = defineTool(import.meta.url, 'recall', {
    name: 'recall',
    description: 'Finds the stored facts and findings most similar to a query, from you and other agents.',
    parameters: z.object({ query: z.string().min(1).max(4_000), k: z.number().int().min(1).max(20).default(5) }),
    handler: async ({ query, k }, tool) => {
      const hits = await namespace.search(await embedOne(query, tool.signal), { k });
      return hits.map((h) => ({ text: h.metadata.text ?? null, score: Number(h.score.toFixed(3)), by: h.origin }));
    },
  });
  return { namespace, embedder, tools: memory.tools === false ? [] : [remember, recall], autoRecall: memory.autoRecall };
}

/** The memories to put before a task: the `k` nearest to its input, above `minScore`, as one system message. */
export async function recallFor(binding: MemoryBinding, input: string, signal?: AbortSignal): Promise<string | undefined> {
  const auto = binding.autoRecall;
  if (auto === undefined) return undefined;
  const [vector] = await binding.embedder.embed([input], signal === undefined ? {} : { signal });
  const hits = (await binding.namespace.search(vector!, { k: auto.k })).filter((h) => h.score >= (auto.minScore ?? 0) && typeof h.metadata.text === 'string');
  if (hits.length === 0) return undefined;
  return `Relevant memories (shared memory ${binding.namespace.name}, most similar first):\n${hits.map((h) => `- ${String(h.metadata.text)}`).join('\n')}`;
}
