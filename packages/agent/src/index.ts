/**
 * @apiary/agent: the agent level. A model client on the official `openai` SDK (any OpenAI-compatible
 * endpoint by baseURL) with retries, fallbacks, streaming and cost accounting. This file names every
 * export.
 */
import './events.js';

export { ModelClient } from './model-client.js';
export { AgentError, AgentErrorCodes, ModelUnavailableError, ModelRejectedError, ModelOutputError } from './errors.js';
export { DEFAULT_PRICES, priceOf, costOf } from './pricing.js';
export { DEFAULT_RETRY, retryDelay, retryAfterMs } from './retry.js';
export { defineTool, isTool, runToolCall, runToolCalls, toolsForModel, MAX_TOOL_CONTENT } from './tools.js';
export { runTask, tighter, validateBudgets } from './runner.js';
export { agent, toolRef } from './agent-behavior.js';
export { CpuPool, CpuToolAborted } from './cpu-pool.js';

export type { ModelClientOptions, ModelRequest, ModelResponse, ModelEvent, ModelUsage, ToolCallRequest, JsonSchemaFormat } from './model-client.js';
export type { AgentErrorCode, ModelAttempt } from './errors.js';
export type { ModelPrice, PriceTable } from './pricing.js';
export type { RetryOptions } from './retry.js';
export type { Tool, ToolSpec, ToolContext, ToolOutcome, ToolFailure, ApprovalDecision, ApprovalGate, CallState } from './tools.js';
export type { Budgets, BudgetExceeded, TaskCompleted, TaskResult, TaskUsage, TaskEvent, TaskSpec, TaskProgress, ToolCallRecord } from './runner.js';
export type { AgentDefinition, AgentMessage, AgentTotals, ToolRef, ApprovalAsk } from './agent-behavior.js';
export type { CpuPoolOptions } from './cpu-pool.js';
export type { AgentMemory, EmbedderSpec, RememberedMetadata } from './memory-tools.js';
export type { HumanAsk, HumanAskOutcome } from './human-tool.js';
export type { HumanSettledNotice, ResumeWith, TaskReport, TaskCheckpoint, CheckpointTask, WaitKind } from './human-wait.js';
