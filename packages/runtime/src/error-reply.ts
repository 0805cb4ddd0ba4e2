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
  /** Where the answer goes, as plain data; null when the message was a tell. */
  readonly token: ReplyToken<R> | null;

  /** @internal Made by `ctx.deferReply()`. */
  constructor(send: (value: unknown) => void, token: ReplyToken<R> | null) {
    this.#send = send;
    this.token = token;
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

/**
 * The address of an ask's answer as plain data ({@link DeferredReply.token}): it can be kept in a
 * message or a checkpoint, and `ctx.answer(token, value)` answers the ask from any incarnation of
 * the actor, so work resumed after a restart can still answer whoever asked for it. An answer to an
 * ask that is no longer waiting (it timed out, or its target's thread crashed, which fails it) is
 * dropped. `R` only types the answer.
 */
export interface ReplyToken<R = unknown> {
  /** The thread of the asker. */
  readonly thread: number;
  /** The ask's number there. */
  readonly ask: number;
  /** @internal Phantom: the type of the answer. */
  readonly __answer?: R;
}

/** The reply type an asker sees: whatever the handler returns, minus error replies, deferred replies unwrapped. */
export type Replied<R> = R extends ErrorReply ? never : R extends DeferredReply<infer X> ? Replied<X> : R;
