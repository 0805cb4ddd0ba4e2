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

/** The reply type an asker sees: whatever the handler returns, minus error replies. */
export type Replied<R> = Exclude<R, ErrorReply>;
