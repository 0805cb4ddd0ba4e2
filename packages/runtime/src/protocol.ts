import type { MessagePort } from 'node:worker_threads';
/**
 * The wire protocol between hosts (threads). Envelopes travel in batches: one `postMessage` carries
 * an array of them. Field names are short because they are on the hot path of every message.
 */
import type { Signal, StopReason } from './behavior.js';
import type { SerializedError } from './errors.js';
import type { ApiaryEvent } from './events.js';
import type { ActorRef } from './ref.js';
import type { OverflowPolicy } from './spec.js';

/** What a host needs to start (or restart) an actor. Plain data. */
export interface StartSpec {
  readonly id: string;
  readonly path: string;
  /** Behavior number, defined on that thread by an earlier `def` envelope (module URLs are long). */
  readonly b: number;
  readonly props: unknown;
  readonly capacity: number;
  readonly overflow: OverflowPolicy;
}

/** A user message. `a`: ask id, `s`: send id; replies and acks go to thread `rt`. */
export interface MessageEnvelope {
  readonly t: 'm';
  readonly to: string;
  readonly from: ActorRef | null;
  readonly b: unknown;
  readonly a?: number;
  readonly s?: number;
  readonly rt?: number;
  /** For a `send` under backpressure: how long it may wait for capacity (ms). */
  readonly w?: number;
}

/** Every envelope kind. */
export type Envelope =
  | MessageEnvelope
  /** Consecutive tells from one sender to one target, in order (one envelope, many bodies). */
  | { readonly t: 'g'; readonly to: string; readonly from: ActorRef | null; readonly bs: unknown[] }
  /** Reply to an ask. */
  | { readonly t: 'r'; readonly a: number; readonly v?: unknown; readonly e?: SerializedError }
  /** Acknowledgement of a `send` (accepted, or refused with `e`). */
  | { readonly t: 'k'; readonly s: number; readonly e?: SerializedError }
  /** Kernel -> host: behavior number `b` is `exportName` of `module` (sent once per thread). */
  | { readonly t: 'def'; readonly b: number; readonly module: string; readonly exportName: string }
  /** Kernel -> host: start an actor (a new one, or a fresh incarnation after a thread crash). */
  | { readonly t: 'start'; readonly spec: StartSpec }
  /**
   * Kernel -> host: consecutive starts of one behavior with one mailbox setting, as columns (a spawn
   * burst costs three array slots per actor on the wire instead of two objects).
   */
  | {
      readonly t: 'S';
      readonly b: number;
      readonly c: number;
      readonly o: OverflowPolicy;
      readonly ids: string[];
      readonly paths: string[];
      readonly props: unknown[];
    }
  /** Host -> kernel: these actors started (the grouped form of a successful `started`). */
  | { readonly t: 'R'; readonly ids: string[] }
  /** Kernel -> replacement host: hold a mailbox for an actor that is about to be started again. */
  | { readonly t: 'reserve'; readonly spec: StartSpec }
  /** Kernel -> host: halt an actor for a restart (stop processing, run preRestart, keep the mailbox). */
  | { readonly t: 'halt'; readonly id: string; readonly e: SerializedError }
  /** Kernel -> host: run setup again on a halted actor and resume its mailbox. */
  | { readonly t: 'restart'; readonly id: string; readonly props: unknown }
  /** Kernel -> host: stop an actor in order (finish the current message, postStop, dead-letter the rest). */
  | { readonly t: 'stop'; readonly id: string; readonly reason: StopReason }
  /** Kernel -> host: drop an actor at once (shutdown timeout passed). */
  | { readonly t: 'kill'; readonly id: string }
  /** Kernel -> host: deliver a signal (DeathWatch). */
  | { readonly t: 'sig'; readonly to: string; readonly sig: Signal }
  /** Host -> kernel: an actor started (`e` absent) or failed to start. */
  | { readonly t: 'started'; readonly id: string; readonly e?: SerializedError }
  /** Host -> kernel: an actor failed while running; it is halted until the kernel decides. */
  | { readonly t: 'failed'; readonly id: string; readonly e: SerializedError }
  /** Host -> kernel: an actor is halted (answer to `halt`). */
  | { readonly t: 'halted'; readonly id: string }
  /** Host -> kernel: an actor stopped; `self` when it called ctx.stop(). */
  | { readonly t: 'stopped'; readonly id: string; readonly reason: StopReason; readonly self: boolean }
  /** Host -> kernel: DeathWatch registration from an actor on that host. */
  | { readonly t: 'watch'; readonly watcher: string; readonly target: string; readonly on: boolean }
  /** Host -> kernel: an event to publish on the system bus. */
  | { readonly t: 'ev'; readonly ev: ApiaryEvent }
  /** Main -> host: which event types anyone listens to (see EventInterest). */
  | { readonly t: 'interest'; readonly all: boolean; readonly types: readonly string[] }
  /** Kernel -> host: thread `thread` is down; buffer what goes to it and fail asks waiting on it. */
  | { readonly t: 'down'; readonly thread: number; readonly e: SerializedError }
  /** Kernel -> host: a new link to thread `thread` (the port travels in the transfer list). */
  | { readonly t: 'link'; readonly thread: number; readonly port: MessagePort };

/** Envelope kind names. */
export type EnvelopeKind = Envelope['t'];

/** Data given to a worker thread at start. */
export interface HostWorkerData {
  readonly thread: number;
  /** Data channel to the main thread. */
  readonly data: MessagePort;
  /** Control channel (comlink) to the main thread. */
  readonly control: MessagePort;
  /** Module URL of the host entry to import. */
  readonly entry: string;
  /** Whether to register tsx before importing (running from TypeScript sources). */
  readonly tsx: boolean;
  readonly maxBatch: number;
  /** The thread's blocking cell, shared with the pool's heartbeat check (see blocking.ts). */
  readonly blocking: SharedArrayBuffer;
  /** The thread's native-call cell, shared with the pool's termination (see native-calls.ts). */
  readonly native: SharedArrayBuffer;
}

/** The host's control API, exposed over comlink on the control channel (not on the message hot path). */
export interface HostControl {
  /** Heartbeat: answers at once unless the thread's event loop is blocked. */
  ping(): number;
  /** Per-actor counters for the given ids (all when omitted). */
  stats(ids?: readonly string[]): ActorStats[];
  /** Host-level counters. */
  hostStats(): HostStats;
}

/** Counters one host keeps per actor. */
export interface ActorStats {
  readonly id: string;
  readonly mailboxDepth: number;
  readonly processed: number;
  readonly status: HostActorStatus;
}

/** Status of an actor as its host sees it. */
export type HostActorStatus = 'starting' | 'running' | 'halted' | 'stopping';

/** Counters of one host. */
export interface HostStats {
  readonly thread: number;
  readonly actors: number;
  readonly processed: number;
  readonly heapUsed: number;
}
