import type { MessagePort } from 'node:worker_threads';
import type { Envelope } from './protocol.js';
import type { ActorRef } from './ref.js';
import type { OverflowPolicy } from './spec.js';
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
  /** Envelopes in the batch, counting each message of a group. */
  #count = 0;
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
    this.#batch.push(envelope);
    this.#count++;
    this.#pushed();
  }

  /**
   * Queues a tell. Consecutive tells from one sender to one target share one group envelope, so a
   * burst costs one small object per message on the wire instead of a full envelope each.
   */
  pushTell(to: string, from: ActorRef | null, body: unknown): void {
    const batch = this.#batch;
    const last = batch[batch.length - 1];
    if (last !== undefined && last.t === 'g' && last.to === to && last.from === from) last.bs.push(body);
    else batch.push({ t: 'g', to, from, bs: [body] });
    this.#count++;
    this.#pushed();
  }

  /** Queues a start; consecutive starts of one behavior and mailbox setting share one column envelope. */
  pushStart(b: number, c: number, o: OverflowPolicy, id: string, path: string, props: unknown): void {
    const batch = this.#batch;
    const last = batch[batch.length - 1];
    if (last !== undefined && last.t === 'S' && last.b === b && last.c === c && last.o === o) {
      last.ids.push(id);
      last.paths.push(path);
      last.props.push(props);
    } else {
      batch.push({ t: 'S', b, c, o, ids: [id], paths: [path], props: [props] });
    }
    this.#count++;
    this.#pushed();
  }

  /** Queues a successful-start notice; consecutive ones share one envelope. */
  pushStarted(id: string): void {
    const batch = this.#batch;
    const last = batch[batch.length - 1];
    if (last !== undefined && last.t === 'R') last.ids.push(id);
    else batch.push({ t: 'R', ids: [id] });
    this.#count++;
    this.#pushed();
  }

  #pushed(): void {
    if (this.#transport === null) {
      while (this.#count > this.#maxBuffered) {
        const oldest = this.#batch.shift()!;
        this.#count -= oldest.t === 'g' ? oldest.bs.length : oldest.t === 'S' || oldest.t === 'R' ? oldest.ids.length : 1;
        this.#onDrop(oldest);
      }
      return;
    }
    if (this.#count >= this.#maxBatch) {
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
    const count = this.#count;
    this.#batch = [];
    this.#count = 0;
    try {
      transport.send(batch, transfer);
    } catch {
      // The peer closed under us: keep the batch for the replacement thread.
      this.#batch = batch.concat(this.#batch);
      this.#count += count;
      this.#transport = null;
    }
  }

  /** Sends an envelope that carries transferable ports, after everything queued before it. */
  pushWithTransfer(envelope: Envelope, transfer: readonly MessagePort[]): void {
    this.#batch.push(envelope);
    this.#count++;
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
    if (preamble.length > 0) {
      this.#batch = [...preamble, ...this.#batch];
      this.#count += preamble.length;
    }
    if (this.#batch.length > 0) this.flush();
  }

  /** Messages and envelopes waiting to be sent. */
  get pending(): number {
    return this.#count;
  }
}
