/**
 * @apiary/memory: the shared vector memory. One owner actor writes each namespace; every thread
 * searches it locally (a memory-mapped USearch snapshot plus a SharedArrayBuffer tail of fresh
 * writes). This file names every export.
 */
import './events.js'; // the memory events on the runtime's bus (declaration merging)
export { VectorMemory } from './memory.js';
export { MemoryNamespace, openNamespace } from './namespace.js';
export { memoryOwner } from './owner.js';
export {
  MemoryError,
  MemoryErrorCodes,
  DimensionMismatchError,
  InvalidVectorError,
  UnknownNamespaceError,
  NamespaceExistsError,
  MemoryCapacityError,
  MemoryStorageError,
  OptimizeError,
  PartialAddError,
} from './errors.js';

export type { VectorMemoryOptions } from './memory.js';
export type { NamespaceHandle, NamespaceContext, SearchOptions } from './namespace.js';
export type { NamespaceOptions, NamespaceConfig, IndexQuantization } from './config.js';
export type { MemoryStats, OwnerMessage } from './owner.js';
export type { MemoryEntry } from './entry.js';
export type { MemoryHit } from './reader.js';
export type { OptimizeReport } from './layout.js';
export type { SnapshotTrigger, RecoverySource } from './events.js';
export type { MetadataFilter, FilterScalar } from './filter.js';
export type { EntryRecord, SharedHandles } from './shared-state.js';
export type { VectorInput } from './vectors.js';
export type { MemoryErrorCode } from './errors.js';

export { HashEmbedder, DEFAULT_HASH_DIMENSIONS } from './hash-embedder.js';
export { OpenAIEmbedder } from './openai-embedder.js';
export { checkEmbeddings, checkTexts } from './embedders.js';
export {
  EmbedderError,
  EmbedderErrorCodes,
  EmbeddingDimensionError,
  EmbedderUnavailableError,
  EmbedderRejectedError,
  EmbedderOutputError,
} from './embedder-errors.js';

export type { Embedder, EmbedOptions } from './embedders.js';
export type { HashEmbedderOptions } from './hash-embedder.js';
export type { OpenAIEmbedderOptions, OpenAIEmbedderUsage } from './openai-embedder.js';
export type { EmbedderErrorCode, EmbedderAttempt } from './embedder-errors.js';
