import { createInterface, type Interface } from 'node:readline/promises';
import { InvalidArgumentError, type ActorRef, type ActorSystem } from '@apiary/runtime';
import '../events.js';
import type { BrokerMessage } from './broker.js';
import type { Answer, Question } from './questions.js';
import type { HumanOutcome, HumanRequest } from './requests.js';
import { WorkerErrorCodes } from '../errors.js';

/** What the terminal needs of a human-input broker: its system (for asks and the event bus) and its ref. `HumanInput.attachTerminal` passes both. */
export interface TerminalTarget {
  readonly system: ActorSystem;
  readonly broker: ActorRef<BrokerMessage, unknown>;
}

/** Options of {@link attachTerminal}. */
export interface TerminalOptions {
  /** Where keystrokes come from. Default `process.stdin`. */
  readonly input?: NodeJS.ReadableStream;
  /** Where prompts and notices go. Default `process.stdout`. */
  readonly output?: NodeJS.WritableStream;
  /**
   * Refuse to attach when `input` is not a TTY: {@link attachTerminal} then resolves to `null` and
   * nothing is registered at the broker, so (in CI, under a pipe) requests fall back to their
   * timeout defaults instead of waiting for a person who is not there. Default true.
   */
  readonly requireTty?: boolean;
}

/**
 * Why a terminal channel stopped: `detach()` was called, or its input ended. On a TTY, Ctrl+D and
 * Ctrl+C both end the input: readline reads keys raw, so Ctrl+C reaches it as a key rather than as
 * SIGINT, and it closes instead of killing the process. An application that wants Ctrl+C to stop
 * everything can await `closed()` and stop its system.
 */
export type TerminalClosed = 'detached' | 'input-ended';

/** An attached terminal channel. */
export interface TerminalChannel {
  /** Its channel name at the broker: `terminal-<n>`, unique in the process. */
  readonly channel: string;
  /**
   * Abandons the question on screen, closes the readline interface (never the streams themselves)
   * and detaches from the broker. Idempotent; resolves once detached.
   */
  detach(): Promise<void>;
  /** Resolves with the reason once the channel has detached. */
  closed(): Promise<TerminalClosed>;
}

let terminals = 0;

/**
 * The terminal channel: asks a person at a TTY, one request at a time, in arrival order (requests
 * already open when it attaches come first). Each prompt shows the asking worker, the task, the
 * seconds left and the question; per kind the person types:
 * - text: a line (non-empty, at most `maxLength` characters);
 * - choice: the option's number (1..n) or its exact text;
 * - confirm: `y`, `yes`, `n` or `no` (any case);
 * - structured: one line of JSON fitting the schema shown;
 * - approval: `a` approves, `r` rejects (then a reason line), `e` edits (then a JSON line of new arguments).
 *
 * A line that does not parse, or that the broker refuses (`APIARY_ERR_INVALID_ANSWER`), prints the
 * problem and asks again. A request settled elsewhere (another channel, its deadline, a cancel) is
 * abandoned with a notice, or skipped if it had not come up yet. When the input ends the channel
 * detaches; open requests then wait for another channel or their deadline.
 *
 * Resolves to `null` when `requireTty` (default true) and the input is not a TTY. Rejects with
 * InvalidArgumentError on bad arguments.
 *
 * ```ts
 * const terminal = await attachTerminal({ system, broker: human.broker });
 * // null under CI or a pipe: nobody is attached, so requests settle by their timeout defaults.
 * // ... later
 * await terminal?.detach();
 * ```
 */
export async function attachTerminal(target: TerminalTarget, options: TerminalOptions = {}): Promise<TerminalChannel | null> {
  if (typeof target?.system?.ask !== 'function' || typeof target.system.events?.on !== 'function') throw new InvalidArgumentError('target.system', 'must be an ActorSystem');
  if (typeof target.broker?.id !== 'string') throw new InvalidArgumentError('target.broker', 'must be the human-input broker ref');
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  if (typeof input?.on !== 'function' || typeof input.read !== 'function') throw new InvalidArgumentError('input', 'must be a readable stream');
  if (typeof output?.write !== 'function') throw new InvalidArgumentError('output', 'must be a writable stream');
  if ((options.requireTty ?? true) && (input as { isTTY?: boolean }).isTTY !== true) return null;
  const terminal = new Terminal(target, input, output, `terminal-${++terminals}`);
  await terminal.start();
  return { channel: terminal.channel, detach: () => terminal.shutdown('detached').then(() => undefined), closed: () => terminal.closed };
}

/** Why the question on screen was abandoned. */
type Abandon = { readonly kind: 'settled'; readonly outcome: HumanOutcome } | { readonly kind: 'closed' };
/** Which line an approval waits for: the decision, or the follow-up of `r` / `e` after a refused try. */
type Step = 'decision' | 'reason' | 'arguments';
type Read = { readonly answer: Answer } | { readonly problem: string; readonly step: Step };

/** The engine behind a {@link TerminalChannel}. */
class Terminal {
  readonly channel: string;
  readonly closed: Promise<TerminalClosed>;
  readonly #system: ActorSystem;
  readonly #broker: ActorRef<BrokerMessage, unknown>;
  readonly #out: NodeJS.WritableStream;
  readonly #rl: Interface;
  readonly #queue: HumanRequest[] = [];
  /** Ids queued or on screen, so a request seen both in `pending` and as an event is asked once. */
  readonly #seen = new Set<string>();
  readonly #offs: (() => void)[] = [];
  /** Until `pending` has answered, events are held here so that older requests are asked first. */
  #early: { readonly requests: HumanRequest[]; readonly settled: Set<string> } | null = { requests: [], settled: new Set() };
  #current: { readonly id: string; readonly abort: AbortController } | null = null;
  #wake: (() => void) | null = null;
  #state: 'open' | TerminalClosed = 'open';
  #resolveClosed: (why: TerminalClosed) => void = () => undefined;

  constructor(target: TerminalTarget, input: NodeJS.ReadableStream, output: NodeJS.WritableStream, channel: string) {
    this.#system = target.system;
    this.#broker = target.broker;
    this.#out = output;
    this.channel = channel;
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.#rl = createInterface({ input, output });
    // EOF, Ctrl+D and Ctrl+C (with no SIGINT listener readline closes itself) all end the channel.
    this.#rl.once('close', () => void this.shutdown('input-ended'));
  }

  async start(): Promise<void> {
    const events = this.#system.events;
    // Listen before attaching: a request opened in between is then seen (and deduplicated against `pending`).
    this.#offs.push(
      events.on('human-request-opened', (e) => this.#offer(e.request)),
      events.on('human-request-settled', (e) => this.#drop(e.request.id, e.outcome)),
    );
    let pending: HumanRequest[];
    try {
      await this.#system.ask(this.#broker, { type: 'attach', channel: this.channel });
      pending = (await this.#system.ask(this.#broker, { type: 'pending' })) as HumanRequest[];
    } catch (error) {
      await this.shutdown('detached');
      throw error;
    }
    const early = this.#early!;
    this.#early = null;
    for (const request of [...pending, ...early.requests]) if (!early.settled.has(request.id)) this.#offer(request);
    if (this.#state === 'open') this.#print(`[${this.channel}] attached: answering human input requests here (Ctrl+D detaches)`);
    void this.#run().catch((error: unknown) => {
      // Only readline itself can fail here (its input broke); there is nobody left to ask.
      this.#print(`[${this.channel}] stopped: ${error instanceof Error ? error.message : String(error)}`);
      void this.shutdown('input-ended');
    });
  }

  async shutdown(why: TerminalClosed): Promise<TerminalClosed> {
    if (this.#state !== 'open') return this.closed;
    this.#state = why;
    this.#current?.abort.abort({ kind: 'closed' } satisfies Abandon);
    for (const off of this.#offs) off();
    this.#wake?.();
    this.#rl.close();
    await this.#system.ask(this.#broker, { type: 'detach', channel: this.channel }).catch(() => undefined);
    if (why === 'input-ended') this.#print(`[${this.channel}] input ended: detached (open requests wait for another channel or their deadline)`);
    this.#resolveClosed(why);
    return why;
  }

  #offer(request: HumanRequest): void {
    if (this.#early !== null) return void this.#early.requests.push(request);
    if (this.#seen.has(request.id)) return;
    this.#seen.add(request.id);
    this.#queue.push(request);
    this.#wake?.();
  }

  #drop(id: string, outcome: HumanOutcome): void {
    this.#early?.settled.add(id);
    this.#seen.delete(id);
    // Closed before its turn: nobody has seen it here, so it leaves the queue silently.
    const at = this.#queue.findIndex((r) => r.id === id);
    if (at >= 0) this.#queue.splice(at, 1);
    if (this.#current?.id === id) this.#current.abort.abort({ kind: 'settled', outcome } satisfies Abandon);
  }

  async #run(): Promise<void> {
    while (this.#state === 'open') {
      const request = this.#queue.shift();
      if (request === undefined) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = null;
        continue;
      }
      await this.#serve(request);
    }
  }

  /** Asks one request until it is answered here, settled elsewhere, or the channel closes. */
  async #serve(request: HumanRequest): Promise<void> {
    const abort = new AbortController();
    this.#current = { id: request.id, abort };
    try {
      this.#print(describe(request));
      let step: Step = 'decision';
      for (;;) {
        const read = await this.#read(request.question, step, abort.signal);
        if ('problem' in read) {
          this.#print(`  ! ${read.problem}`);
          step = read.step;
          continue;
        }
        const sent = await this.#send(request.id, read.answer);
        if (sent === null) return this.#print(`  answered ${request.id}`);
        this.#print(`  ! ${sent.problem}`);
        if (!sent.open) return;
        // Ask again only for the part that was refused: a rejection's reason, an edit's arguments.
        step = read.answer.kind === 'approval' && read.answer.decision !== 'approve' ? (read.answer.decision === 'reject' ? 'reason' : 'arguments') : 'decision';
      }
    } catch (error) {
      if (!abort.signal.aborted) throw error;
      const why = abort.signal.reason as Abandon;
      if (why.kind === 'settled') this.#print(`  ${request.id} ${settledText(why.outcome)}; moving on`);
    } finally {
      this.#current = null;
    }
  }

  async #read(q: Question, step: Step, signal: AbortSignal): Promise<Read> {
    switch (q.kind) {
      case 'text':
        // Trimmed here, so stray spaces around what the person typed do not count against maxLength.
        return { answer: { kind: 'text', text: (await this.#ask('> ', signal)).trim() } };
      case 'choice': {
        const line = (await this.#ask(`choose 1-${q.options.length}> `, signal)).trim();
        // Exact text first, so an option that is itself a number ("10") is never read as an index.
        if (q.options.includes(line) || !/^\d+$/.test(line)) return { answer: { kind: 'choice', choice: line } };
        const option = q.options[Number(line) - 1];
        return option === undefined ? { problem: `${line} is not a number from 1 to ${q.options.length}`, step } : { answer: { kind: 'choice', choice: option } };
      }
      case 'confirm': {
        const line = (await this.#ask('[y/n]> ', signal)).trim().toLowerCase();
        if (line === 'y' || line === 'yes') return { answer: { kind: 'confirm', confirmed: true } };
        if (line === 'n' || line === 'no') return { answer: { kind: 'confirm', confirmed: false } };
        return { problem: 'answer y, yes, n or no', step };
      }
      case 'structured': {
        const value = parseJson(await this.#ask('JSON> ', signal));
        return 'problem' in value ? { problem: value.problem, step } : { answer: { kind: 'structured', value: value.value } };
      }
      case 'approval': {
        if (step === 'decision') {
          const line = (await this.#ask('[a]pprove, [r]eject or [e]dit> ', signal)).trim().toLowerCase();
          if (line === 'a' || line === 'approve') return { answer: { kind: 'approval', decision: 'approve' } };
          if (line === 'r' || line === 'reject') step = 'reason';
          else if (line === 'e' || line === 'edit') step = 'arguments';
          else return { problem: 'answer a (approve), r (reject) or e (edit)', step };
        }
        if (step === 'reason') return { answer: { kind: 'approval', decision: 'reject', reason: await this.#ask('reason> ', signal) } };
        const value = parseJson(await this.#ask('new arguments (JSON)> ', signal));
        return 'problem' in value ? { problem: value.problem, step } : { answer: { kind: 'approval', decision: 'edit', arguments: value.value } };
      }
    }
  }

  #ask(query: string, signal: AbortSignal): Promise<string> {
    // A closed interface would reject with ERR_USE_AFTER_CLOSE; closing always aborts first, so this wins.
    signal.throwIfAborted();
    return this.#rl.question(query, { signal });
  }

  /** null when delivered; otherwise the problem, and whether the request is still open for another try. */
  async #send(id: string, answer: Answer): Promise<{ readonly problem: string; readonly open: boolean } | null> {
    try {
      await this.#system.ask(this.#broker, { type: 'answer', id, answer, channel: this.channel });
      return null;
    } catch (error) {
      const e = error as { code?: unknown; message?: unknown; data?: { problem?: unknown } };
      if (e.code === WorkerErrorCodes.INVALID_ANSWER) return { problem: String(e.data?.problem ?? e.message), open: true };
      if (e.code === WorkerErrorCodes.HUMAN_REQUEST_CLOSED) return { problem: `${id} was closed elsewhere before this answer arrived; moving on`, open: false };
      return { problem: `could not deliver the answer to ${id}: ${String(e.message ?? error)}; moving on`, open: false };
    }
  }

  #print(text: string): void {
    this.#out.write(`${text}\n`);
  }
}

/** The header of a request: who asks, for which task, how long is left, and the question with its kind's details. */
function describe(r: HumanRequest): string {
  const who = r.workerName === null ? r.worker : `${r.workerName} (${r.worker})`;
  const left = Math.max(0, Math.ceil((r.deadline - Date.now()) / 1000));
  const lines = [`--- ${r.id}: ${who} asks, task ${r.taskId}, ${left}s left`, r.question.prompt];
  const q = r.question;
  switch (q.kind) {
    case 'text':
      if (q.maxLength !== undefined) lines.push(`  (at most ${q.maxLength} characters)`);
      break;
    case 'choice':
      q.options.forEach((option, i) => lines.push(`  ${i + 1}) ${option}`));
      break;
    case 'confirm':
      break;
    case 'structured':
      lines.push(`  schema: ${compactSchema(q.schema)}`);
      break;
    case 'approval':
      lines.push(`  tool: ${q.tool}`, `  arguments: ${JSON.stringify(q.arguments)}`, `  schema: ${compactSchema(q.schema)}`);
      break;
    default: {
      const never: never = q;
      throw new InvalidArgumentError('question.kind', `unknown kind ${JSON.stringify(never)}`);
    }
  }
  return lines.join('\n');
}

/** The schema as one line, without the `$schema` dialect URL zod adds (noise to a person). */
function compactSchema(schema: Readonly<Record<string, unknown>>): string {
  const { $schema: _dialect, ...rest } = schema;
  return JSON.stringify(rest);
}

function settledText(outcome: HumanOutcome): string {
  switch (outcome.status) {
    case 'answered':
      return `was answered via ${outcome.channel}`;
    case 'timed-out':
      return `timed out (default: ${outcome.applied})`;
    case 'cancelled':
      return `was cancelled: ${outcome.reason}`;
    default: {
      const never: never = outcome;
      return `settled (${JSON.stringify(never)})`;
    }
  }
}

function parseJson(line: string): { readonly value: unknown } | { readonly problem: string } {
  try {
    return { value: JSON.parse(line) as unknown };
  } catch (error) {
    return { problem: `not valid JSON (${(error as Error).message}); type it on one line` };
  }
}
