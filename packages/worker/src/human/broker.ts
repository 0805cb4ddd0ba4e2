import { defineBehavior, ErrorReply, InvalidArgumentError, serializeError, toError, type ActorContext, type ActorRef, type DeferredReply, type Signal } from '@apiary/runtime';
import type { ApprovalAsk, ApprovalDecision, HumanSettledNotice, ResumeWith } from '@apiary/agent';
import '../events.js';
import { checkAnswer, type Answer } from './questions.js';
import { denyAnswer, openRequest, type HumanOutcome, type HumanRequest, type HumanRequestSpec, type HumanSettled, type SettledTarget } from './requests.js';
import { HumanRequestClosedError, HumanRequestNotFoundError, HumanTimeoutError, InvalidAnswerError } from '../errors.js';

/** What the human-input broker understands. */
export type BrokerMessage =
  /**
   * Opens a request; replies with its id at once. The outcome goes to `replyTo` as a HumanSettled
   * message (with `continuation` echoed), so it reaches the worker even if it restarted meanwhile.
   */
  | { readonly type: 'open'; readonly spec: HumanRequestSpec; readonly replyTo: SettledTarget; readonly continuation?: unknown }
  /**
   * Opens a request and answers this ask with its {@link HumanOutcome} when it settles (for actors
   * that just wait). With `resume`, the outcome is also told to `resume.replyTo`, with the
   * continuation: it reaches the asker even if it restarted meanwhile (the ask died with it).
   */
  | { readonly type: 'ask'; readonly spec: HumanRequestSpec; readonly resume?: ResumeWith | undefined }
  /** An agent's approval request for a tool call (`AgentDefinition.approver`): answered when a person decides; `resume` as for `ask`. */
  | ApprovalAsk
  /** A person's answer, from a channel. Replies `{ ok: true }`, or fails with a typed error. */
  | { readonly type: 'answer'; readonly id: string; readonly answer: unknown; readonly channel: string }
  | { readonly type: 'cancel'; readonly id: string; readonly reason: string }
  /** The open requests, oldest first. */
  | { readonly type: 'pending' }
  | { readonly type: 'get'; readonly id: string }
  | { readonly type: 'expire'; readonly id: string; readonly noChannel?: boolean }
  /** A channel (terminal, programmatic, HTTP) starts or stops serving requests. */
  | { readonly type: 'attach'; readonly channel: string }
  | { readonly type: 'detach'; readonly channel: string };

/** Options of the broker (its props). */
export interface BrokerOptions {
  /** Closed requests remembered, so a late answer gets "closed" (409) rather than "not found" (404). Default 10000. */
  readonly historySize?: number;
}

interface Open {
  readonly request: HumanRequest;
  /** The actor waiting for it (watched: a request outlives a restart, not a stop), or null. */
  readonly asker: ActorRef | null;
  /** Told the outcome (survives the asker's restart), or null. */
  readonly replyTo: ActorRef<HumanSettledNotice, unknown> | null;
  readonly continuation: unknown;
  readonly timer: ReturnType<typeof setTimeout>;
  /** The pending ask to answer when it settles: an approval wants the decision, a plain ask the outcome. */
  readonly reply: PendingReply | null;
}

type PendingReply = { readonly wants: 'decision'; readonly handle: DeferredReply<ApprovalDecision> } | { readonly wants: 'outcome'; readonly handle: DeferredReply<HumanOutcome> };

interface BrokerState {
  readonly open: Map<string, Open>;
  readonly channels: Set<string>;
  readonly closed: Map<string, HumanOutcome['status']>;
  readonly historySize: number;
  /** Open request ids by the id of the actor that waits for them (each such actor is watched). */
  readonly askers: Map<string, Set<string>>;
  seq: number;
}

/**
 * The one place human input requests go through: it numbers them, keeps them open until an answer
 * that fits arrives from any channel or the deadline passes (then applies the request's default),
 * and announces both on the event bus, where the channels (terminal, programmatic, HTTP) listen.
 * Spawn it on the main thread, where the channels are.
 */
export const humanInputBroker = defineBehavior(import.meta.url, 'humanInputBroker', {
  setup: (options: BrokerOptions | undefined): BrokerState => ({ open: new Map(), channels: new Set(), closed: new Map(), historySize: options?.historySize ?? 10_000, askers: new Map(), seq: 0 }),

  receive(state, message: BrokerMessage, ctx): unknown {
    try {
      switch (message.type) {
        case 'open': {
          if (typeof message.replyTo?.id !== 'string') throw new InvalidArgumentError('replyTo', 'must be an actor ref');
          return openOne(state, message.spec, message.replyTo, message.continuation ?? null, null, message.replyTo, ctx);
        }
        case 'ask': {
          const resume = checkResume(message.resume);
          const reply = ctx.deferReply<HumanOutcome>();
          openOne(state, message.spec, resume?.replyTo ?? null, resume?.continuation ?? null, { wants: 'outcome', handle: reply }, resume?.replyTo ?? ctx.sender, ctx);
          return reply;
        }
        case 'approve': {
          const spec: HumanRequestSpec = {
            worker: message.agent,
            workerName: message.agentName,
            taskId: message.taskId,
            question: { kind: 'approval', prompt: `${message.agentName} wants to call ${message.tool} (${message.description})`, tool: message.tool, arguments: message.arguments, schema: message.schema },
            timeoutMs: message.timeoutMs,
          };
          const resume = checkResume(message.resume);
          const decision = ctx.deferReply<ApprovalDecision>();
          openOne(state, spec, resume?.replyTo ?? null, resume?.continuation ?? null, { wants: 'decision', handle: decision }, resume?.replyTo ?? ctx.sender, ctx);
          return decision;
        }
        case 'answer': {
          const open = find(state, message.id);
          const checked = checkAnswer(open.request.question, message.answer);
          if (!checked.ok) {
            ctx.publish({ type: 'human-answer-rejected', time: Date.now(), id: message.id, channel: message.channel, problem: checked.problem });
            throw new InvalidAnswerError(message.id, checked.problem);
          }
          settle(state, open, { id: message.id, status: 'answered', answer: checked.answer, channel: String(message.channel) }, ctx);
          return { ok: true };
        }
        case 'cancel':
          settle(state, find(state, message.id), { id: message.id, status: 'cancelled', reason: String(message.reason) }, ctx);
          return { ok: true };
        case 'expire': {
          const open = state.open.get(message.id);
          if (open === undefined) return undefined; // answered just before its deadline
          const policy = open.request.onTimeout;
          const noChannel = message.noChannel === true;
          const outcome: HumanOutcome =
            policy.kind === 'fail'
              ? { id: message.id, status: 'timed-out', applied: 'fail', noChannel }
              : { id: message.id, status: 'timed-out', applied: policy.kind, noChannel, answer: policy.kind === 'answer' ? policy.answer : denyAnswer(open.request.question)! };
          settle(state, open, outcome, ctx);
          return undefined;
        }
        case 'attach':
          state.channels.add(String(message.channel));
          return { channels: state.channels.size };
        case 'detach':
          state.channels.delete(String(message.channel));
          return { channels: state.channels.size };
        case 'pending':
          return [...state.open.values()].map((o) => o.request);
        case 'get':
          return find(state, message.id).request;
        default: {
          const never: never = message;
          throw new InvalidArgumentError('message', `unknown broker message ${JSON.stringify(never)}`);
        }
      }
    } catch (error) {
      // Bad requests and bad answers are the sender's problem: the broker keeps running.
      return new ErrorReply(toError(error));
    }
  },

  onSignal(state, signal: Signal, ctx) {
    // The asker stopped for good (a restart is not a termination): nobody will act on an answer, so
    // its requests are withdrawn rather than left for a person to answer until their deadline.
    if (signal.type !== 'terminated') return;
    const ids = state.askers.get(signal.ref.id);
    if (ids === undefined) return;
    state.askers.delete(signal.ref.id);
    for (const id of ids) {
      const open = state.open.get(id);
      if (open !== undefined) settle(state, open, { id, status: 'cancelled', reason: `the asker ${signal.ref.path} stopped (${signal.reason})` }, ctx, false);
    }
  },

  postStop(state) {
    for (const open of state.open.values()) clearTimeout(open.timer);
  },
});

function openOne(
  state: BrokerState,
  spec: HumanRequestSpec,
  replyTo: ActorRef<HumanSettledNotice, unknown> | null,
  continuation: unknown,
  reply: PendingReply | null,
  asker: ActorRef | null,
  ctx: ActorContext<BrokerMessage>,
): { id: string; deadline: number } {
  const id = `hr-${Date.now().toString(36)}-${(++state.seq).toString(36)}`;
  const request = openRequest(id, spec, Date.now());
  const timer = setTimeout(() => ctx.tell(ctx.self, { type: 'expire', id }), request.deadline - Date.now());
  state.open.set(id, { request, asker, replyTo, continuation, timer, reply });
  if (asker !== null) {
    let ids = state.askers.get(asker.id);
    if (ids === undefined) {
      state.askers.set(asker.id, (ids = new Set()));
      ctx.watch(asker);
    }
    ids.add(id);
  }
  ctx.publish({ type: 'human-request-opened', time: Date.now(), request });
  // Nobody can answer (CI, no TTY, no app listening): apply the default now instead of hanging.
  if (state.channels.size === 0) ctx.tell(ctx.self, { type: 'expire', id, noChannel: true });
  return { id, deadline: request.deadline };
}

/** What an approval outcome means for the tool call. */
function decisionOf(outcome: HumanOutcome, deadline: number): ApprovalDecision | ErrorReply {
  switch (outcome.status) {
    case 'answered':
    case 'timed-out': {
      if (outcome.status === 'timed-out' && outcome.applied === 'fail') return new ErrorReply(new HumanTimeoutError(outcome.id, deadline));
      const answer: Answer = outcome.answer;
      if (answer.kind !== 'approval') return { decision: 'reject', reason: 'the answer was not an approval' };
      if (answer.decision === 'approve') return { decision: 'approve' };
      if (answer.decision === 'edit') return { decision: 'edit', arguments: answer.arguments };
      if (outcome.status === 'timed-out' && outcome.applied === 'deny' && outcome.noChannel) {
        return { decision: 'reject', reason: 'no person could be asked (no human input channel is attached)' };
      }
      return { decision: 'reject', reason: answer.reason };
    }
    case 'cancelled':
      return { decision: 'reject', reason: `the request was withdrawn: ${outcome.reason}` };
  }
}

function find(state: BrokerState, id: string): Open {
  const open = state.open.get(id);
  if (open !== undefined) return open;
  const closed = state.closed.get(id);
  if (closed !== undefined) throw new HumanRequestClosedError(id, closed);
  throw new HumanRequestNotFoundError(String(id));
}

function checkResume(resume: ResumeWith | undefined): ResumeWith | undefined {
  if (resume !== undefined && typeof resume?.replyTo?.id !== 'string') throw new InvalidArgumentError('resume.replyTo', 'must be an actor ref');
  return resume;
}

/** Closes a request with `outcome`; `deliver: false` when its asker is known to be gone. */
function settle(state: BrokerState, open: Open, outcome: HumanOutcome, ctx: ActorContext<BrokerMessage>, deliver = true): void {
  clearTimeout(open.timer);
  state.open.delete(open.request.id);
  const siblings = open.asker === null ? undefined : state.askers.get(open.asker.id);
  if (siblings !== undefined && siblings.delete(open.request.id) && siblings.size === 0) {
    state.askers.delete(open.asker!.id);
    ctx.unwatch(open.asker!);
  }
  state.closed.set(open.request.id, outcome.status);
  if (state.closed.size > state.historySize) state.closed.delete(state.closed.keys().next().value!);
  // What the ask is answered with: an approval's decision (or its error), else the outcome.
  const answer = open.reply?.wants === 'decision' ? decisionOf(outcome, open.request.deadline) : outcome;
  if (open.replyTo !== null && deliver) {
    const reply: HumanSettledNotice['reply'] = answer instanceof ErrorReply ? { ok: false, error: serializeError(answer.error) } : { ok: true, value: answer };
    void deliverSettled(open.replyTo, { type: 'human-settled', outcome, request: open.request, continuation: open.continuation, reply }, ctx);
  }
  if (open.reply?.wants === 'decision') open.reply.handle.resolve(answer as ApprovalDecision | ErrorReply);
  else open.reply?.handle.resolve(outcome);
  ctx.publish({ type: 'human-request-settled', time: Date.now(), request: open.request, outcome });
}

/** How long the broker keeps trying to hand a settled request to its asker. */
const DELIVERY_WINDOW_MS = 60_000;

/**
 * Tells the asker a request settled, until its mailbox takes it: the asker may be between two
 * incarnations (its thread crashed and is being replaced), which is exactly when a task parked on a
 * person needs its answer kept. Gives up after {@link DELIVERY_WINDOW_MS} with an event.
 */
async function deliverSettled(target: ActorRef<HumanSettledNotice, unknown>, message: HumanSettled, ctx: ActorContext<BrokerMessage>): Promise<void> {
  const started = Date.now();
  for (let delayMs = 25; ; delayMs = Math.min(delayMs * 2, 2_000)) {
    try {
      await ctx.send(target, message);
      return;
    } catch (error) {
      if (Date.now() - started + delayMs > DELIVERY_WINDOW_MS) {
        ctx.publish({ type: 'human-settled-undelivered', time: Date.now(), request: message.request, to: target.path, error: toError(error).message });
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}
