/**
 * The main-thread side of the raw baselines: a plain `new Worker` and a MessageChannel, each with one
 * persistent listener installed once, so a timed round costs the payload and nothing else.
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';

export class RawWorker {
  readonly #worker: Worker;
  readonly #echo: MessagePort;
  /** Messages sent for counting so far (the worker's `sync` answer must match). */
  #sent = 0;
  #onCount: ((count: number) => void) | null = null;
  #onEcho: ((value: unknown) => void) | null = null;

  private constructor(worker: Worker, echo: MessagePort) {
    this.#worker = worker;
    this.#echo = echo;
    worker.on('message', (count: number) => {
      const settle = this.#onCount;
      this.#onCount = null;
      settle?.(count);
    });
    echo.on('message', (value: unknown) => {
      const settle = this.#onEcho;
      this.#onEcho = null;
      settle?.(value);
    });
  }

  /** Starts the worker; resolves once it answered once (it is loaded and listening). */
  static async start(): Promise<RawWorker> {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(new URL('./raw-worker.mjs', import.meta.url), { workerData: { echo: port2 }, transferList: [port2] });
    const raw = new RawWorker(worker, port1);
    await raw.sync();
    return raw;
  }

  /** One postMessage per message. */
  post(message: unknown): void {
    this.#sent++;
    this.#worker.postMessage(message);
  }

  /** Several messages in one postMessage (the batched baseline). */
  postBatch(messages: readonly unknown[]): void {
    this.#sent += messages.length;
    this.#worker.postMessage(messages);
  }

  /** Resolves once the worker has counted everything posted before; throws if it counted otherwise. */
  async sync(): Promise<void> {
    const count = await new Promise<number>((resolve) => {
      this.#onCount = resolve;
      this.#worker.postMessage('sync');
    });
    if (count !== this.#sent) throw new Error(`raw worker counted ${count} messages, ${this.#sent} were sent`);
  }

  /** One round trip over the echo port. */
  roundTrip(message: unknown): Promise<unknown> {
    return new Promise((resolve) => {
      this.#onEcho = resolve;
      this.#echo.postMessage(message);
    });
  }

  async close(): Promise<void> {
    this.#echo.close();
    await this.#worker.terminate();
  }
}
