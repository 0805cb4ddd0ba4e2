import { isBehavior, type Behavior } from './behavior.js';
import { assertCloneable } from './cloneable.js';
import { InvalidArgumentError } from './errors.js';

/** OTP restart types: when a stopped child is started again. */
export type RestartType =
  /** Always restarted, whatever the reason it stopped. */
  | 'permanent'
  /** Restarted only when it failed; a normal stop is final. */
  | 'transient'
  /** Never restarted. */
  | 'temporary';

/** OTP restart strategies: which children restart when one fails. */
export type Strategy = 'one-for-one' | 'one-for-all' | 'rest-for-one';

/** What a full mailbox does with one more message. */
export type OverflowPolicy =
  /** Refuse it: `ask`/`send` reject with MailboxFullError, a `tell` becomes a dead letter. */
  | 'reject'
  /** Accept it and drop the oldest queued message (a dead letter; a dropped ask rejects). */
  | 'drop-oldest'
  /** `send` waits for capacity (up to its timeout); `tell` and `ask` are refused as with `reject`. */
  | 'backpressure';

/** Mailbox settings. */
export interface MailboxOptions {
  /** Most messages queued at once. Default {@link DEFAULT_MAILBOX_CAPACITY}. */
  readonly capacity?: number;
  /** Default `reject`. */
  readonly overflow?: OverflowPolicy;
}

/** Where an actor runs: the least-loaded worker thread (default), the main thread, or a given thread. */
export type Placement = 'least-loaded' | 'main' | { readonly thread: number };

/**
 * Exponential restart backoff (Akka's restartWithBackoff). The k-th consecutive restart of a child
 * (k = 0, 1, ...) waits 0 ms when k = 0, else `min(maxMs, minMs * factor^(k-1))`, spread by +-`jitter`.
 * A child that ran `resetAfterMs` without failing starts again at k = 0.
 */
export interface BackoffOptions {
  /** Default 100. */
  readonly minMs?: number;
  /** Default 10000. */
  readonly maxMs?: number;
  /** Default 2. */
  readonly factor?: number;
  /** Fraction in [0, 1]; default 0.2. */
  readonly jitter?: number;
  /** Default 30000. */
  readonly resetAfterMs?: number;
}

/** How a supervisor treats its children. */
export interface SupervisorOptions {
  /** Default `one-for-one`. */
  readonly strategy?: Strategy;
  /** Most restarts allowed within `periodMs` before the supervisor gives up and escalates. Default 5. */
  readonly intensity?: number;
  /** Window for `intensity`, in ms. Default 30000. */
  readonly periodMs?: number;
  /** Restart backoff; `false` restarts at once every time. Default: see {@link BackoffOptions}. */
  readonly backoff?: BackoffOptions | false;
  /** Started in order, stopped in reverse order. */
  readonly children?: readonly ChildSpec[];
}

/** A supervisor, ready to be spawned (`system.spawn(supervisor({...}))`) or nested as a child. */
export interface SupervisorSpec {
  readonly kind: 'apiary.supervisor';
  readonly strategy: Strategy;
  readonly intensity: number;
  readonly periodMs: number;
  readonly backoff: Required<BackoffOptions> | null;
  readonly children: readonly ChildSpec[];
}

/** Common options for anything spawned. */
export interface StartOptions<P = unknown> {
  /** Props handed to `setup`; must be structured-cloneable for worker threads. */
  readonly props?: P;
  /** Default `least-loaded`. Supervisors always run on the main thread. */
  readonly placement?: Placement;
  readonly mailbox?: MailboxOptions;
  /** Tags for registry look-ups (`system.registry.byTag`). */
  readonly tags?: readonly string[];
  /** Default `permanent`. */
  readonly restart?: RestartType;
  /** Time allowed for an orderly stop before the child is dropped. Default 5000 (workers), Infinity (supervisors). */
  readonly shutdownTimeoutMs?: number;
  /**
   * Time allowed for `setup` (and the module import) at each start; past it the start fails with
   * StartTimeoutError, so a hung setup cannot block its supervisor. Default {@link DEFAULT_START_TIMEOUT_MS}.
   */
  readonly startTimeoutMs?: number;
}

/** A child of a supervisor (OTP child spec). `name` is unique among its siblings. */
export interface ChildSpec<M = unknown, R = unknown> extends StartOptions {
  readonly name: string;
  readonly behavior: Behavior<never, M, unknown, R> | SupervisorSpec;
}

/** Options of `system.spawn`. */
export interface SpawnOptions<P = unknown> extends StartOptions<P> {
  /** Path segment; unique among siblings. Default: generated from the id. */
  readonly name?: string;
}

/** Default mailbox capacity. */
export const DEFAULT_MAILBOX_CAPACITY = 10_000;
/** Default time an actor gets to start (setup, module import). */
export const DEFAULT_START_TIMEOUT_MS = 10_000;
/** Default time an actor gets to stop in order. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5_000;
/** Default backoff, as documented on {@link BackoffOptions}. */
export const DEFAULT_BACKOFF: Required<BackoffOptions> = Object.freeze({
  minMs: 100,
  maxMs: 10_000,
  factor: 2,
  jitter: 0.2,
  resetAfterMs: 30_000,
});

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$/;

/** Builds a supervisor spec, validating it eagerly (OTP's check_childspecs). */
export function supervisor(options: SupervisorOptions = {}): SupervisorSpec {
  const strategy = options.strategy ?? 'one-for-one';
  if (!['one-for-one', 'one-for-all', 'rest-for-one'].includes(strategy)) {
    throw new InvalidArgumentError('strategy', `must be one-for-one, one-for-all or rest-for-one (got ${String(strategy)})`);
  }
  const intensity = options.intensity ?? 5;
  nonNegativeInteger('intensity', intensity);
  const periodMs = options.periodMs ?? 30_000;
  positiveNumber('periodMs', periodMs);
  let backoff: Required<BackoffOptions> | null = null;
  if (options.backoff !== false) {
    backoff = { ...DEFAULT_BACKOFF, ...(options.backoff ?? {}) };
    nonNegativeNumber('backoff.minMs', backoff.minMs);
    nonNegativeNumber('backoff.maxMs', backoff.maxMs);
    if (backoff.maxMs < backoff.minMs) throw new InvalidArgumentError('backoff.maxMs', 'must be >= backoff.minMs');
    if (!(backoff.factor >= 1)) throw new InvalidArgumentError('backoff.factor', 'must be >= 1');
    if (!(backoff.jitter >= 0 && backoff.jitter <= 1)) throw new InvalidArgumentError('backoff.jitter', 'must be within [0, 1]');
    nonNegativeNumber('backoff.resetAfterMs', backoff.resetAfterMs);
  }
  const children = options.children ?? [];
  if (!Array.isArray(children)) throw new InvalidArgumentError('children', 'must be an array of child specs');
  const names = new Set<string>();
  children.forEach((child, i) => {
    validateChildSpec(child, `children[${i}]`);
    if (names.has(child.name)) throw new InvalidArgumentError(`children[${i}].name`, `duplicate name ${child.name}`);
    names.add(child.name);
  });
  return Object.freeze({ kind: 'apiary.supervisor', strategy, intensity, periodMs, backoff, children: Object.freeze([...children]) });
}

/** True when `value` was made by {@link supervisor}. */
export function isSupervisorSpec(value: unknown): value is SupervisorSpec {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'apiary.supervisor';
}

/** @internal Validates a child spec, naming the offending field. */
export function validateChildSpec(child: ChildSpec, field: string): void {
  if (typeof child !== 'object' || child === null) throw new InvalidArgumentError(field, 'must be an object');
  validateName(child.name, `${field}.name`);
  if (!isBehavior(child.behavior) && !isSupervisorSpec(child.behavior)) {
    throw new InvalidArgumentError(`${field}.behavior`, 'must be a behavior from defineBehavior() or a supervisor() spec');
  }
  validateStartOptions(child, field);
}

/** @internal */
export function validateName(name: unknown, field: string): void {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new InvalidArgumentError(field, `must match ${NAME.source} (got ${JSON.stringify(name)})`);
  }
}

/** @internal Validates the options shared by spawn and child specs. */
export function validateStartOptions(options: StartOptions, field: string): void {
  const p = options.placement;
  if (p !== undefined && p !== 'least-loaded' && p !== 'main') {
    if (typeof p !== 'object' || p === null || !Number.isInteger(p.thread) || p.thread < 0) {
      throw new InvalidArgumentError(`${field}.placement`, "must be 'least-loaded', 'main' or { thread: n }");
    }
  }
  const m = options.mailbox;
  if (m !== undefined) {
    if (m.capacity !== undefined && (!Number.isInteger(m.capacity) || m.capacity < 1)) {
      throw new InvalidArgumentError(`${field}.mailbox.capacity`, 'must be an integer >= 1');
    }
    if (m.overflow !== undefined && !['reject', 'drop-oldest', 'backpressure'].includes(m.overflow)) {
      throw new InvalidArgumentError(`${field}.mailbox.overflow`, "must be 'reject', 'drop-oldest' or 'backpressure'");
    }
  }
  if (options.restart !== undefined && !['permanent', 'transient', 'temporary'].includes(options.restart)) {
    throw new InvalidArgumentError(`${field}.restart`, "must be 'permanent', 'transient' or 'temporary'");
  }
  if (options.tags !== undefined && (!Array.isArray(options.tags) || options.tags.some((t) => typeof t !== 'string'))) {
    throw new InvalidArgumentError(`${field}.tags`, 'must be an array of strings');
  }
  if (options.shutdownTimeoutMs !== undefined) nonNegativeNumber(`${field}.shutdownTimeoutMs`, options.shutdownTimeoutMs);
  if (options.startTimeoutMs !== undefined) positiveNumber(`${field}.startTimeoutMs`, options.startTimeoutMs);
}

function nonNegativeInteger(field: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new InvalidArgumentError(field, `must be an integer >= 0 (got ${v})`);
}
function nonNegativeNumber(field: string, v: number): void {
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0) throw new InvalidArgumentError(field, `must be a number >= 0 (got ${v})`);
}
function positiveNumber(field: string, v: number): void {
  if (typeof v !== 'number' || !(v > 0)) throw new InvalidArgumentError(field, `must be a number > 0 (got ${v})`);
}

/** @internal A behavior by location only: what crosses threads instead of the handler functions. */
export interface BehaviorDescriptor {
  readonly kind: 'apiary.behavior-ref';
  readonly module: string;
  readonly exportName: string;
}

/** @internal A supervisor spec as plain data. */
export interface WireSupervisor {
  readonly kind: 'apiary.supervisor';
  readonly strategy: Strategy;
  readonly intensity: number;
  readonly periodMs: number;
  readonly backoff: Required<BackoffOptions> | null;
  readonly children: readonly WireChild[];
}

/** @internal A child spec as plain data, defaults filled in. */
export interface WireChild {
  readonly name: string;
  readonly behavior: BehaviorDescriptor | WireSupervisor;
  readonly props: unknown;
  readonly placement: Placement;
  readonly capacity: number;
  readonly overflow: OverflowPolicy;
  readonly tags: readonly string[];
  readonly restart: RestartType;
  readonly shutdownTimeoutMs: number;
  readonly startTimeoutMs: number;
}

/** @internal Validates a child spec and turns it into plain data (behaviors become descriptors). */
export function toWireChild(spec: ChildSpec, field: string): WireChild {
  validateChildSpec(spec, field);
  return toWire(spec.name, spec.behavior, spec, field);
}

/** @internal Same for the options of `system.spawn`. */
export function toWire(
  name: string,
  behavior: Behavior<never, unknown, unknown, unknown> | SupervisorSpec,
  options: StartOptions,
  field: string,
): WireChild {
  validateStartOptions(options, field);
  const isSup = isSupervisorSpec(behavior);
  if (!isSup && !isBehavior(behavior)) {
    throw new InvalidArgumentError(`${field}.behavior`, 'must be a behavior from defineBehavior() or a supervisor() spec');
  }
  const placement: Placement = isSup ? 'main' : (options.placement ?? 'least-loaded');
  if (!isSup && placement !== 'main') assertCloneable(options.props, 'props');
  return {
    name,
    behavior: isSup
      ? { ...behavior, children: behavior.children.map((c, i) => toWireChild(c, `${field}.children[${i}]`)) }
      : { kind: 'apiary.behavior-ref', module: behavior.module, exportName: behavior.exportName },
    props: options.props,
    placement,
    capacity: options.mailbox?.capacity ?? DEFAULT_MAILBOX_CAPACITY,
    overflow: options.mailbox?.overflow ?? 'reject',
    tags: options.tags ?? [],
    restart: options.restart ?? 'permanent',
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? (isSup ? Number.POSITIVE_INFINITY : DEFAULT_SHUTDOWN_TIMEOUT_MS),
    startTimeoutMs: options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
  };
}

/** Requests a supervisor actor understands (sent with `ask`). */
export type SupervisorOp =
  | { readonly kind: 'apiary.supervisor-op'; readonly op: 'start-child'; readonly spec: WireChild }
  | { readonly kind: 'apiary.supervisor-op'; readonly op: 'terminate-child'; readonly name: string }
  | { readonly kind: 'apiary.supervisor-op'; readonly op: 'which-children' };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** @internal */
export function supervisorOp(op: DistributiveOmit<SupervisorOp, 'kind'>): SupervisorOp {
  return { kind: 'apiary.supervisor-op', ...op } as SupervisorOp;
}

/** @internal */
export function isSupervisorOp(value: unknown): value is SupervisorOp {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'apiary.supervisor-op';
}
