import type { MessagePort } from 'node:worker_threads';
import type { Envelope } from './protocol.js';

/** Why a transport closed. */
export interface TransportClosed {
  readonly reason: string;
}

/**
 * How envelopes move between two hosts. Today: worker-thread MessagePorts. A network transport
 * (NATS, for a hivemind across machines) implements the same four members and plugs into the host
 * without touching actors.
 */
export interface Transport {
  /** Sends one batch; `transfer` lists objects moved rather than copied (ports). Throws if closed. */
  send(batch: readonly Envelope[], transfer?: readonly MessagePort[]): void;
  /** Batches as they arrive, in order; ends when the transport closes. */
  readonly inbound: AsyncIterable<readonly Envelope[]>;
  /** Closes both directions; `closed()` resolves with `reason`. Idempotent. */
  close(reason?: string): void;
  /** Resolves once the transport is closed, by either side. */
  closed(): Promise<TransportClosed>;
}

/** A {@link Transport} over a worker_threads MessagePort. */
export class MessagePortTransport implements Transport {
  readonly #port: MessagePort;
  readonly #queue: (readonly Envelope[])[] = [];
  #wake: (() => void) | null = null;
  #closed: TransportClosed | null = null;
  readonly #closedPromise: Promise<TransportClosed>;
  #resolveClosed!: (c: TransportClosed) => void;

  constructor(port: MessagePort) {
    this.#port = port;
    this.#closedPromise = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    port.on('message', (batch: readonly Envelope[]) => {
      this.#queue.push(batch);
      const wake = this.#wake;
      if (wake !== null) {
        this.#wake = null;
        wake();
      }
    });
    port.on('close', () => this.#finish('peer closed'));
    port.start();
  }

  send(batch: readonly Envelope[], transfer?: readonly MessagePort[]): void {
    if (this.#closed !== null) throw new Error(`transport closed: ${this.#closed.reason}`);
    this.#port.postMessage(batch, transfer as MessagePort[] | undefined);
  }

  get inbound(): AsyncIterable<readonly Envelope[]> {
    return { [Symbol.asyncIterator]: () => this.#iterate() };
  }

  async *#iterate(): AsyncGenerator<readonly Envelope[]> {
    for (;;) {
      const next = this.#queue.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.#closed !== null) return;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  close(reason = 'closed'): void {
    if (this.#closed !== null) return;
    this.#port.close();
    this.#finish(reason);
  }

  closed(): Promise<TransportClosed> {
    return this.#closedPromise;
  }

  #finish(reason: string): void {
    if (this.#closed !== null) return;
    this.#closed = { reason };
    this.#port.removeAllListeners('message');
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
    this.#resolveClosed(this.#closed);
  }
}
