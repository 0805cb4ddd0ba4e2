/**
 * @apiary/worker: the worker level. Human input (a broker actor and its channels), tool approval,
 * worker identity and tracking. This file names every export.
 */
import './events.js';

export { HumanInput } from './human/human-input.js';
export { humanInputBroker } from './human/broker.js';
export { serveHttp } from './human/http-channel.js';
export { attachTerminal } from './human/terminal-channel.js';
export { checkAnswer, validateQuestion } from './human/questions.js';
export { denyAnswer } from './human/requests.js';
export { WorkerTracker } from './tracking/tracker.js';
export { WorkerError, WorkerErrorCodes, HumanRequestNotFoundError, HumanRequestClosedError, InvalidAnswerError, HumanTimeoutError } from './errors.js';

export type { HumanInputOptions } from './human/human-input.js';
export type { BrokerMessage, BrokerOptions } from './human/broker.js';
export type { HttpChannel, HttpChannelOptions } from './human/http-channel.js';
export type { TerminalChannel, TerminalClosed, TerminalOptions, TerminalTarget } from './human/terminal-channel.js';
export type { Question, Answer, Checked, JsonSchema } from './human/questions.js';
export type { TimeoutDefault, HumanRequestSpec, HumanRequest, HumanOutcome, HumanSettled, SettledTarget } from './human/requests.js';
export type { WorkerErrorCode } from './errors.js';
export type { WorkerStatus, WorkerInfo, WorkerQuery } from './tracking/tracker.js';
