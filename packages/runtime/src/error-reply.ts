/**
 * Return this from `receive` to answer an ask with an error **without failing the actor**: the
 * asker's promise rejects with `error` (rebuilt as its class on the asker's thread), and the actor
 * goes on with its next message, not restarted. For a bad request or an expected failure (a model
 * that stayed unavailable), which is the caller's to handle, not the supervisor's. A thrown error,
 * by contrast, means the actor itself is broken: it fails and its supervisor decides.
 *
 * ```ts
 * receive(state, msg) {
 *   if (!valid(msg)) return new ErrorReply(new InvalidArgumentError('msg', 'bad'));
 *   ...
 * }
 * ```
 */
export class ErrorReply {
  constructor(readonly error: Error) {}
}

/**
 * Return this from `receive` (made by `ctx.deferReply()`) to answer the ask **later**, and go on
 * with the next message now: OTP gen_server's `{noreply, State}` followed by `gen_server:reply`. For
 * work that waits on something slow (a person, a model) while the actor keeps serving others. The
 * actor stays responsible for settling it: an ask never settled times out at the asker.
 *
 * ```ts
 * receive(state, msg, ctx) {
 *   const reply = ctx.deferReply<Result>();
 *   void runLong(msg).then((r) => reply.resolve(r), (e) => reply.resolve(new ErrorReply(toError(e))));
 *   return reply;
 * }
 * ```
 */
export class DeferredReply<R = unknown> {
  #settled = false;
  readonly #send: (value: unknown) => void;

  /** @internal Made by `ctx.deferReply()`. */
  constructor(send: (value: unknown) => void) {
    this.#send = send;
  }

  /** True once answered. */
  get settled(): boolean {
    return this.#settled;
  }

  /** Answers the ask (an ErrorReply answers with its error); only the first call counts. A tell has no one to answer. */
  resolve(value: R | ErrorReply): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#send(value);
  }
}

/** The reply type an asker sees: whatever the handler returns, minus error replies, deferred replies unwrapped. */
export type Replied<R> = R extends ErrorReply ? never : R extends DeferredReply<infer X> ? Replied<X> : R;
