import { BlockingSections, DeferredReply, NativeCalls, ErrorReply, type ActorContext, type ActorRef, type ApiaryEvent, type Behavior, type ChildSpec, type Replied, type Signal } from '@apiary/runtime';

/** A blocking section the behavior ran under test (`ctx.blocking`): its declared bound and how long it took. */
export interface BlockingSection {
  readonly maxMs: number;
  readonly ms: number;
}

/** A message the behavior sent while under test. */
export interface Outgoing {
  readonly kind: 'tell' | 'ask' | 'send';
  readonly to: ActorRef;
  readonly message: unknown;
}

/** Options of {@link BehaviorHarness.start}. */
export interface HarnessOptions {
  /** Answers the behavior's own `ask`s; default: reject. */
  readonly onAsk?: (to: ActorRef, message: unknown) => unknown;
  /** Path of the actor under test. Default `/test`. */
  readonly path?: string;
}

/**
 * Runs a behavior's handlers in the calling thread, with no actor system: for unit tests of
 * protocol logic. Everything the behavior sends is recorded in `outbox`; `watched` and `stopped`
 * record its lifecycle requests.
 */
export class BehaviorHarness<P, M, S, R> {
  readonly outbox: Outgoing[] = [];
  readonly watched = new Set<string>();
  /** Events the behavior published. */
  readonly published: ApiaryEvent[] = [];
  /**
   * The blocking sections the behavior ran, in order. Their options are checked as in an actor
   * system (a bad `maxMs` throws InvalidArgumentError); there is no heartbeat to miss, so a section
   * that outlasts its bound only shows here (`ms` above `maxMs`).
   */
  readonly blockingSections: BlockingSection[] = [];
  /** How many native calls (`ctx.nativeCall`) the behavior made; there is no thread to fence. */
  nativeCalls = 0;
  stopped = false;
  #state!: S;
  readonly #behavior: Behavior<P, M, S, R>;
  readonly #props: P;
  readonly #ctx: ActorContext<M>;
  #sender: ActorRef | null = null;
  #deliveries = 0;
  #delivering = 0;
  readonly #deferred = new Map<number, (value: unknown) => void>();

  private constructor(behavior: Behavior<P, M, S, R>, props: P, options: HarnessOptions) {
    this.#behavior = behavior;
    this.#props = props;
    const self = Object.freeze({ kind: 'apiary.ref', id: 'harness', path: options.path ?? '/test', thread: 0 }) as ActorRef<M>;
    const record = (kind: Outgoing['kind'], to: ActorRef, message: unknown): void => {
      this.outbox.push({ kind, to, message });
    };
    const harness = this;
    const sections = new BlockingSections(null);
    const natives = new NativeCalls(null);
    this.#ctx = {
      self,
      thread: 0,
      get sender() {
        return harness.#sender;
      },
      tell: (to, message) => record('tell', to as ActorRef, message),
      ask: async <T, R2>(to: ActorRef<T, R2>, message: T) => {
        record('ask', to as ActorRef, message);
        if (options.onAsk === undefined) throw new Error('BehaviorHarness: ask needs options.onAsk');
        const reply = await options.onAsk(to as ActorRef, message);
        if (reply instanceof ErrorReply) throw reply.error;
        return reply as Replied<R2>;
      },
      send: async (to, message) => record('send', to as ActorRef, message),
      stop: () => {
        this.stopped = true;
      },
      publish: (event) => void this.published.push(event),
      wants: () => true,
      watch: (ref) => void this.watched.add(ref.id),
      unwatch: (ref) => void this.watched.delete(ref.id),
      deferReply: <R2>() => {
        const delivery = harness.#delivering;
        // The token names the delivery: `answer(token, ...)` settles the same deferred reply.
        return new DeferredReply<R2>((value) => harness.#deferred.get(delivery)?.(value), { thread: 0, ask: delivery });
      },
      answer: (token, value) => void harness.#deferred.get(token.ask)?.(value),
      // No heartbeat in a harness: the call runs as on the main thread, and is recorded.
      blocking: (fn, blockingOptions) =>
        sections.run(() => {
          const started = performance.now();
          try {
            return fn();
          } finally {
            this.blockingSections.push({ maxMs: blockingOptions.maxMs, ms: performance.now() - started });
          }
        }, blockingOptions),
      nativeCall: (fn) => {
        this.nativeCalls++;
        return natives.run(fn);
      },
      startChild: <T, R2>(_sup: ActorRef, _spec: ChildSpec<T, R2>): Promise<ActorRef<T, R2>> =>
        Promise.reject(new Error('BehaviorHarness: startChild needs a running actor system')),
    };
  }

  /** Runs `setup` and returns a harness holding the resulting state. */
  static async start<P, M, S, R>(behavior: Behavior<P, M, S, R>, props: P, options: HarnessOptions = {}): Promise<BehaviorHarness<P, M, S, R>> {
    const h = new BehaviorHarness(behavior, props, options);
    h.#state = await behavior.setup(props, h.#ctx);
    return h;
  }

  /** The current state (mutable, as the behavior sees it). */
  get state(): S {
    return this.#state;
  }

  /**
   * Delivers one message and returns the handler's reply (what an `ask` would get). A deferred
   * reply is awaited until the behavior resolves it (an ErrorReply value is returned as is).
   */
  async deliver(message: M, sender: ActorRef | null = null): Promise<R> {
    this.#sender = sender;
    const delivery = ++this.#deliveries;
    this.#delivering = delivery;
    const later = new Promise<unknown>((resolve) => this.#deferred.set(delivery, resolve));
    try {
      const result: unknown = await this.#behavior.receive(this.#state, message, this.#ctx);
      return (result instanceof DeferredReply ? await later : result) as R;
    } finally {
      this.#sender = null;
      this.#deferred.delete(delivery);
    }
  }

  /** Delivers a signal (e.g. Terminated). */
  async signal(signal: Signal): Promise<void> {
    await this.#behavior.onSignal?.(this.#state, signal, this.#ctx);
  }

  /** Simulates a supervisor restart: preRestart on the old state, then setup with the same props. */
  async restart(error: Error = new Error('restart')): Promise<void> {
    await this.#behavior.preRestart?.(this.#state, error, this.#ctx);
    this.#state = await this.#behavior.setup(this.#props, this.#ctx);
  }

  /** Runs postStop. */
  async stop(): Promise<void> {
    await this.#behavior.postStop?.(this.#state, this.#ctx);
    this.stopped = true;
  }
}
