/**
 * @apiary/agent: the agent level. A model client on the official `openai` SDK (any OpenAI-compatible
 * endpoint by baseURL) with retries, fallbacks, streaming and cost accounting. This file names every
 * export.
 */
export { ModelClient } from './model-client.js';
export { AgentError, AgentErrorCodes, ModelUnavailableError, ModelRejectedError, ModelOutputError } from './errors.js';
export { DEFAULT_PRICES, priceOf, costOf } from './pricing.js';
export { DEFAULT_RETRY, retryDelay, retryAfterMs } from './retry.js';

export type { ModelClientOptions, ModelRequest, ModelResponse, ModelEvent, ModelUsage, ToolCallRequest, JsonSchemaFormat } from './model-client.js';
export type { AgentErrorCode, ModelAttempt } from './errors.js';
export type { ModelPrice, PriceTable } from './pricing.js';
export type { RetryOptions } from './retry.js';
