import type { ActorRef, ActorSystem } from '@apiary/runtime';
import type { ApprovalAsk, ApprovalDecision, HumanAsk, HumanAskOutcome } from '@apiary/agent';
import '../events.js';
import { humanInputBroker, type BrokerMessage, type BrokerOptions } from './broker.js';
import type { Answer } from './questions.js';
import type { HumanRequest } from './requests.js';
import { attachTerminal, type TerminalChannel, type TerminalOptions } from './terminal-channel.js';

/** Options of {@link HumanInput.start}. */
export interface HumanInputOptions extends BrokerOptions {
  /** The broker actor's name. Default `human-input`. */
  readonly name?: string;
}

let channels = 0;

/**
 * The human-input broker of a system, and its programmatic channel: for applications that embed
 * Apiary (and for tests). Workers open requests at the broker; people answer through any attached
 * channel. With no channel attached, requests settle at once by their timeout default.
 *
 * ```ts
 * const human = await HumanInput.start(system);
 * for await (const request of human.requests()) {
 *   await human.answer(request.id, { kind: 'confirm', confirmed: true });
 * }
 * ```
 */
export class HumanInput {
  readonly #system: ActorSystem;
  /** The broker; give it to workers (`humanInput: human.broker`). */
  readonly broker: ActorRef<BrokerMessage, unknown>;

  private constructor(system: ActorSystem, broker: ActorRef<BrokerMessage, unknown>) {
    this.#system = system;
    this.broker = broker;
  }

  /** Spawns the broker on the main thread, where the channels are. */
  static async start(system: ActorSystem, options: HumanInputOptions = {}): Promise<HumanInput> {
    const broker = (await system.spawn(humanInputBroker, {
      name: options.name ?? 'human-input',
      placement: 'main',
      props: { ...(options.historySize === undefined ? {} : { historySize: options.historySize }) },
    })) as ActorRef<BrokerMessage, unknown>;
    return new HumanInput(system, broker);
  }

  /**
   * The broker seen as an approver: what agents take as `approver: { ref: human.approver }` (the same
   * actor; this type is the part of its protocol agents speak).
   */
  get approver(): ActorRef<ApprovalAsk, ApprovalDecision> {
    return this.broker as unknown as ActorRef<ApprovalAsk, ApprovalDecision>;
  }

  /** The broker seen by agents that ask people questions: `humanInput: { ref: human.asker }` gives the model `ask_human`. */
  get asker(): ActorRef<HumanAsk, HumanAskOutcome> {
    return this.broker as unknown as ActorRef<HumanAsk, HumanAskOutcome>;
  }

  /** The open requests, oldest first. */
  async pending(): Promise<HumanRequest[]> {
    return (await this.#system.ask(this.broker, { type: 'pending' })) as HumanRequest[];
  }

  /** One request (HumanRequestNotFoundError / HumanRequestClosedError otherwise). */
  async get(id: string): Promise<HumanRequest> {
    return (await this.#system.ask(this.broker, { type: 'get', id })) as HumanRequest;
  }

  /** Answers a request; InvalidAnswerError leaves it open for another try. */
  async answer(id: string, answer: Answer, channel = 'programmatic'): Promise<void> {
    await this.#system.ask(this.broker, { type: 'answer', id, answer, channel });
  }

  /** Registers a channel by name: while any is attached, requests wait for answers (channels call this). */
  async attach(channel: string): Promise<void> {
    await this.#system.ask(this.broker, { type: 'attach', channel });
  }

  /** Unregisters a channel. */
  async detach(channel: string): Promise<void> {
    await this.#system.ask(this.broker, { type: 'detach', channel }).catch(() => undefined);
  }

  /** Withdraws a request; the worker gets a `cancelled` outcome. */
  async cancel(id: string, reason: string): Promise<void> {
    await this.#system.ask(this.broker, { type: 'cancel', id, reason });
  }

  /**
   * Serves requests through a callback (pending ones first, then each new one) until the returned
   * function is called. While any such channel is attached, requests wait for answers.
   */
  async onRequest(handler: (request: HumanRequest) => void): Promise<() => Promise<void>> {
    const channel = `programmatic-${++channels}`;
    const seen = new Set<string>();
    const deliver = (request: HumanRequest): void => {
      if (seen.has(request.id)) return;
      seen.add(request.id);
      handler(request);
    };
    const off = this.#system.events.on('human-request-opened', (e) => deliver(e.request));
    const offSettled = this.#system.events.on('human-request-settled', (e) => seen.delete(e.request.id));
    await this.attach(channel);
    for (const request of await this.pending()) deliver(request);
    return async () => {
      off();
      offSettled();
      await this.detach(channel);
    };
  }

  /** The same as an async iterator: `for await (const request of human.requests())`; `break` detaches. */
  async *requests(): AsyncGenerator<HumanRequest, void, undefined> {
    const queue: HumanRequest[] = [];
    let wake: (() => void) | null = null;
    const detach = await this.onRequest((request) => {
      queue.push(request);
      wake?.();
    });
    try {
      for (;;) {
        while (queue.length > 0) yield queue.shift()!;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
    } finally {
      await detach();
    }
  }

  /**
   * Attaches the terminal channel to this broker (see {@link attachTerminal}): resolves to `null`,
   * attaching nothing, when `requireTty` (default true) and the input is not a TTY.
   */
  attachTerminal(options?: TerminalOptions): Promise<TerminalChannel | null> {
    return attachTerminal({ system: this.#system, broker: this.broker }, options);
  }

  /** Stops the broker (open requests are dropped with it). */
  async stop(): Promise<void> {
    await this.#system.stop(this.broker);
  }
}
