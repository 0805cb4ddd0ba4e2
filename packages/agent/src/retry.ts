/** Retry policy for model calls. Every default is listed. */
export interface RetryOptions {
  /** Retries per model after the first attempt. Default 3. */
  readonly maxRetries?: number;
  /** First backoff delay. Default 250 ms. */
  readonly minDelayMs?: number;
  /** Largest backoff delay. Default 8000 ms. */
  readonly maxDelayMs?: number;
  /** Spread of each delay, as a fraction (0..1). Default 0.2. */
  readonly jitter?: number;
  /** A `Retry-After` longer than this is not waited for: that model is given up at once. Default 30000 ms. */
  readonly maxRetryAfterMs?: number;
}

/** The defaults of {@link RetryOptions}. */
export const DEFAULT_RETRY: Required<RetryOptions> = Object.freeze({ maxRetries: 3, minDelayMs: 250, maxDelayMs: 8000, jitter: 0.2, maxRetryAfterMs: 30_000 });

/**
 * Delay before retry number `retry` (1, 2, ...): exponential from minDelayMs, capped, spread by
 * jitter; a server's `Retry-After` wins when it is longer.
 */
export function retryDelay(retry: number, options: Required<RetryOptions>, retryAfterMs: number | null, random: () => number = Math.random): number {
  const base = Math.min(options.maxDelayMs, options.minDelayMs * 2 ** (retry - 1));
  const spread = base * options.jitter * (2 * random() - 1);
  const backoff = Math.max(0, base + spread);
  return retryAfterMs === null ? backoff : Math.max(backoff, retryAfterMs);
}

/** Reads `retry-after-ms` or `retry-after` (seconds or an HTTP date) from response headers. */
export function retryAfterMs(headers: Headers | undefined, now: number = Date.now()): number | null {
  if (headers === undefined) return null;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = headers.get('retry-after');
  if (value === null) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** HTTP statuses worth retrying: rate limits, timeouts, conflicts and server errors. */
export function retriableStatus(status: number | undefined): boolean {
  return status === undefined || status === 408 || status === 409 || status === 429 || status >= 500;
}

/** Sleeps `ms`, or rejects early with the signal's reason. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted === true) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
