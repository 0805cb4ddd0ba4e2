/**
 * @apiary/runtime: actors with bounded mailboxes on a pool of worker threads, supervised OTP-style.
 * This file is the package's only entry point; it names every export.
 */
export { ActorSystem } from './system.js';
export { defineBehavior, isBehavior } from './behavior.js';
export { isActorRef } from './ref.js';
export { ErrorReply, DeferredReply } from './error-reply.js';
export { supervisor, isSupervisorSpec, DEFAULT_BACKOFF, DEFAULT_MAILBOX_CAPACITY, DEFAULT_SHUTDOWN_TIMEOUT_MS, DEFAULT_START_TIMEOUT_MS } from './spec.js';
export { EventBus } from './events.js';
export { Registry } from './registry-view.js';
export { systemClock } from './clock.js';
export { IdGenerator, idTime } from './ids.js';
export { MessagePortTransport } from './transport.js';
export { assertCloneable } from './cloneable.js';
export {
  ApiaryError,
  ErrorCodes,
  InvalidArgumentError,
  MessageNotCloneableError,
  AskTimeoutError,
  ActorNotFoundError,
  ActorStoppedError,
  ActorFailedError,
  MailboxFullError,
  BehaviorLoadError,
  SpawnFailedError,
  NameTakenError,
  ThreadCrashedError,
  EscalatedError,
  SystemStoppedError,
  SystemFailedError,
  ShutdownTimeoutError,
  StartTimeoutError,
  serializeError,
  deserializeError,
  registerErrorClass,
  toError,
} from './errors.js';

export type { ActorSystemOptions, SystemTermination } from './system.js';
export type {
  ActorContext,
  AskOptions,
  Behavior,
  BehaviorHandlers,
  MessageOf,
  SendOptions,
  Signal,
  StopReason,
  Terminated,
} from './behavior.js';
export { BlockingSections } from './blocking.js';
export { NativeCalls } from './native-calls.js';
export type { BlockingOptions } from './blocking.js';
export type { ActorRef } from './ref.js';
export type { Replied, ReplyToken } from './error-reply.js';
export type {
  BackoffOptions,
  ChildSpec,
  MailboxOptions,
  OverflowPolicy,
  Placement,
  RestartType,
  SpawnOptions,
  StartOptions,
  Strategy,
  SupervisorOp,
  SupervisorOptions,
  SupervisorSpec,
} from './spec.js';
export type { ApiaryEvent, ApiaryEventMap, ApiaryEventType, DeadLetterReason, EventInterest } from './events.js';
export type { ActorInfo, ActorStatus, RegistryQuery } from './registry.js';
export type { ChildInfo } from './supervisor-behavior.js';
export type { Clock, TimerHandle } from './clock.js';
export type { ErrorCode, ErrorData, SerializedError } from './errors.js';
export type { Transport, TransportClosed } from './transport.js';
export type { Envelope, MessageEnvelope } from './protocol.js';
