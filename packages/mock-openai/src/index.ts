/**
 * @apiary/mock-openai: a loopback OpenAI-compatible server with scripted behaviour, latency and fault
 * injection, so everything in Apiary runs and is tested offline. This file names every export.
 */
export { MockOpenAIServer } from './server.js';
export { defaultReply, valueFor } from './default-behaviour.js';
export { embed } from './embeddings.js';
export { seededRandom, sampleLatency } from './random.js';

export type { MockServerOptions, MockServerStats } from './server.js';
export type { Fault, Reply, Rule, RuleMatch, ScriptedToolCall } from './script.js';
export type { Latency } from './random.js';
export type { ChatMessage, ChatRequest, ChatTool, EmbeddingsRequest, JsonSchema, Usage, WireToolCall } from './wire.js';
