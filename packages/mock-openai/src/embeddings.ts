import { createHash } from 'node:crypto';
import { estimateTokens, type EmbeddingsRequest } from './wire.js';

/** Default dimensions by model name; anything else gets 384. */
const DIMENSIONS: Readonly<Record<string, number>> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
};

/**
 * Deterministic embeddings from hashed character trigrams, L2-normalised: lexical, not semantic,
 * but texts that share wording land near each other, which is what tests of a vector memory need.
 */
export function embed(text: string, dimensions: number): Float32Array {
  const v = new Float32Array(dimensions);
  const padded = ` ${text.toLowerCase()} `;
  for (let i = 0; i + 3 <= padded.length; i++) {
    const h = createHash('md5').update(padded.slice(i, i + 3)).digest();
    const index = h.readUInt32LE(0) % dimensions;
    v[index]! += (h[4]! & 1) === 0 ? 1 : -1;
  }
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i]! /= norm;
  return v;
}

/** The `/v1/embeddings` response body, or an error message for a bad request. */
export function embeddingsBody(request: EmbeddingsRequest): { body: unknown } | { error: string } {
  const inputs = typeof request.input === 'string' ? [request.input] : request.input;
  if (!Array.isArray(inputs) || inputs.length === 0) return { error: 'input must be a non-empty string or array' };
  const texts = inputs.map((x) => (typeof x === 'string' ? x : Array.isArray(x) ? x.join(' ') : String(x)));
  if (texts.some((t) => t.length === 0)) return { error: 'input must not contain empty strings' };
  const dimensions = request.dimensions ?? DIMENSIONS[request.model] ?? 384;
  if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > 8192) return { error: 'dimensions must be an integer in 1..8192' };
  const data = texts.map((text, index) => {
    const vector = embed(text, dimensions);
    const embedding = request.encoding_format === 'base64' ? Buffer.from(vector.buffer).toString('base64') : Array.from(vector);
    return { object: 'embedding', index, embedding };
  });
  const tokens = texts.reduce((s, t) => s + estimateTokens(t), 0);
  return { body: { object: 'list', data, model: request.model, usage: { prompt_tokens: tokens, total_tokens: tokens } } };
}
