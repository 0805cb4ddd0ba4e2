import { Piscina } from 'piscina';
import { InvalidArgumentError } from '@apiary/runtime';

/** Settings of the pool that runs CPU-bound tools. Every default is listed. */
export interface CpuPoolOptions {
  /** Threads of the pool. Default 1 (agents share their host thread's core with other actors). */
  readonly maxThreads?: number;
  /** V8 old-generation limit per pool thread; a tool past it fails instead of taking the process down. Default 256 MB. */
  readonly memoryLimitMb?: number;
  /** Idle pool threads exit after this, so an idle agent holds no threads. Default 1000 ms. */
  readonly idleTimeoutMs?: number;
}

/** Why a CPU tool call did not return a value. */
export class CpuToolAborted extends Error {
  constructor(readonly reason: 'timeout' | 'cancelled') {
    super(reason === 'timeout' ? 'the CPU tool timed out and its thread was stopped' : 'the CPU tool was cancelled');
    this.name = 'CpuToolAborted';
  }
}

const ENTRY = new URL(`./cpu-worker.mjs`, import.meta.url);

function wantsTsx(): boolean {
  if (import.meta.url.endsWith('.ts')) return true;
  return /tsx/.test([...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' '));
}

/**
 * A piscina pool for tools marked `cpu: true`: their handlers run on the pool's own threads, with a
 * timeout (the pool stops the thread, so even a busy loop ends) and a memory limit, so they never
 * block the actors sharing the agent's thread. Made lazily on the first CPU call; `close()` frees it.
 */
export class CpuPool {
  readonly #options: Required<CpuPoolOptions>;
  #pool: Piscina | null = null;

  constructor(options: CpuPoolOptions = {}) {
    const o = { maxThreads: 1, memoryLimitMb: 256, idleTimeoutMs: 1000, ...options };
    if (!Number.isInteger(o.maxThreads) || o.maxThreads < 1) throw new InvalidArgumentError('cpu.maxThreads', 'must be an integer >= 1');
    if (!(o.memoryLimitMb >= 16)) throw new InvalidArgumentError('cpu.memoryLimitMb', 'must be >= 16');
    this.#options = o;
  }

  /** Runs a tool's handler on the pool; rejects with CpuToolAborted on timeout or cancellation. */
  async run(task: { module: string; exportName: string; args: unknown; callId: string }, timeoutMs: number, signal?: AbortSignal): Promise<unknown> {
    this.#pool ??= new Piscina({
      filename: ENTRY.href,
      minThreads: 0,
      maxThreads: this.#options.maxThreads,
      idleTimeout: this.#options.idleTimeoutMs,
      resourceLimits: { maxOldGenerationSizeMb: this.#options.memoryLimitMb },
      workerData: { tsx: wantsTsx() },
    });
    const controller = new AbortController();
    let reason: 'timeout' | 'cancelled' | null = null;
    const timer = setTimeout(() => {
      reason = 'timeout';
      controller.abort();
    }, timeoutMs);
    const onCancel = (): void => {
      reason = 'cancelled';
      controller.abort();
    };
    signal?.addEventListener('abort', onCancel, { once: true });
    try {
      return await this.#pool.run(task, { signal: controller.signal });
    } catch (error) {
      if (reason !== null) throw new CpuToolAborted(reason);
      throw error;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onCancel);
    }
  }

  /** Stops the pool's threads. */
  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = null;
    await pool?.destroy();
  }
}
