import type { MessagePort } from 'node:worker_threads';
import type { Envelope } from './protocol.js';
import type { Transport } from './transport.js';

/**
 * The outbound side of one host-to-host connection. Envelopes are micro-batched: collected until the
 * current microtask checkpoint (or until `maxBatch` are waiting) and posted as one array, so
 * throughput is not capped by one `postMessage` per message.
 *
 * While the peer thread is down (`transport` null) envelopes wait here, up to `maxBuffered`; past
 * that the oldest are dropped and reported through `onDrop`.
 */
export class Link {
  #transport: Transport | null;
  #batch: Envelope[] = [];
  #scheduled = false;
  readonly #maxBatch: number;
  readonly #maxBuffered: number;
  readonly #onDrop: (envelope: Envelope) => void;
  readonly #flushBound = (): void => {
    this.#scheduled = false;
    this.flush();
  };

  constructor(transport: Transport | null, maxBatch: number, maxBuffered: number, onDrop: (envelope: Envelope) => void) {
    this.#transport = transport;
    this.#maxBatch = maxBatch;
    this.#maxBuffered = maxBuffered;
    this.#onDrop = onDrop;
  }

  /** True while a transport is attached. */
  get up(): boolean {
    return this.#transport !== null;
  }

  /** Queues one envelope for the next flush. */
  push(envelope: Envelope): void {
    const batch = this.#batch;
    batch.push(envelope);
    if (this.#transport === null) {
      if (batch.length > this.#maxBuffered) this.#onDrop(batch.shift()!);
      return;
    }
    if (batch.length >= this.#maxBatch) {
      this.flush();
    } else if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flushBound);
    }
  }

  /** Sends what is queued now (plus `transfer` objects, which ride with the batch). */
  flush(transfer?: readonly MessagePort[]): void {
    const transport = this.#transport;
    if (transport === null || (this.#batch.length === 0 && transfer === undefined)) return;
    const batch = this.#batch;
    this.#batch = [];
    try {
      transport.send(batch, transfer);
    } catch {
      // The peer closed under us: keep the batch for the replacement thread.
      this.#batch = batch.concat(this.#batch);
      this.#transport = null;
    }
  }

  /** Sends an envelope that carries transferable ports, after everything queued before it. */
  pushWithTransfer(envelope: Envelope, transfer: readonly MessagePort[]): void {
    this.#batch.push(envelope);
    this.flush(transfer);
  }

  /** Detaches the transport (peer down); envelopes buffer until {@link attach}. Returns the dead transport. */
  detach(): Transport | null {
    const t = this.#transport;
    this.#transport = null;
    return t;
  }

  /** Attaches a transport and sends `preamble`, then whatever was buffered while down, in order. */
  attach(transport: Transport, preamble: readonly Envelope[] = []): void {
    this.#transport = transport;
    if (preamble.length > 0) this.#batch = [...preamble, ...this.#batch];
    if (this.#batch.length > 0) this.flush();
  }

  /** Envelopes waiting to be sent. */
  get pending(): number {
    return this.#batch.length;
  }
}
