import type { ApiaryEvent, ApiaryEventMap, ApiaryEventType } from '@apiary/runtime';

/** The part of the event bus the probes need (structural, so any bus instance fits). */
export interface EventSource {
  on(type: 'event', listener: (event: ApiaryEvent) => void): () => void;
}

/** Thrown when a probe's bounded wait runs out. */
export class ProbeTimeoutError extends Error {
  readonly code = 'APIARY_ERR_PROBE_TIMEOUT';
  constructor(what: string, timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}`);
    this.name = 'ProbeTimeoutError';
  }
}

/**
 * Resolves with the first event of `type` matching `predicate`; rejects with ProbeTimeoutError after
 * `timeoutMs`. Subscribe before triggering the action whose event you expect.
 */
export function waitForEvent<K extends ApiaryEventType>(
  bus: EventSource,
  type: K,
  predicate: (event: ApiaryEventMap[K]) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<ApiaryEventMap[K]> {
  return waitForEvents(bus, type, 1, predicate, timeoutMs).then((events) => events[0]!);
}

/** Resolves with the first `count` events of `type` matching `predicate`, or rejects after `timeoutMs`. */
export function waitForEvents<K extends ApiaryEventType>(
  bus: EventSource,
  type: K,
  count: number,
  predicate: (event: ApiaryEventMap[K]) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<ApiaryEventMap[K][]> {
  if (count <= 0) return Promise.resolve([]);
  const probe = new Promise<ApiaryEventMap[K][]>((resolve, reject) => {
    const seen: ApiaryEventMap[K][] = [];
    const off = bus.on('event', (any: ApiaryEvent) => {
      if (any.type !== type) return;
      const event = any as ApiaryEventMap[K];
      if (!predicate(event)) return;
      seen.push(event);
      if (seen.length >= count) {
        clearTimeout(timer);
        off();
        resolve(seen);
      }
    });
    const timer = setTimeout(() => {
      off();
      reject(new ProbeTimeoutError(`${count} x ${type} (saw ${seen.length})`, timeoutMs));
    }, timeoutMs);
  });
  // A probe left behind by a failed assertion must not crash the run as an unhandled rejection;
  // whoever awaits it still sees the timeout.
  probe.catch(() => undefined);
  return probe;
}

/** Records every event from now on; `stop()` unsubscribes. */
export function recordEvents(bus: EventSource): { readonly events: ApiaryEvent[]; stop(): void; ofType<K extends ApiaryEventType>(type: K): ApiaryEventMap[K][] } {
  const events: ApiaryEvent[] = [];
  const off = bus.on('event', (e: ApiaryEvent) => void events.push(e));
  return {
    events,
    stop: off,
    ofType: <K extends ApiaryEventType>(type: K) => events.filter((e) => e.type === type) as ApiaryEventMap[K][],
  };
}

/** Resolves with `promise`, or rejects with ProbeTimeoutError after `timeoutMs`. */
export function within<T>(promise: Promise<T>, timeoutMs: number, what = 'a promise'): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new ProbeTimeoutError(what, timeoutMs)), timeoutMs);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** Retries `check` (awaiting each attempt, no sleeping between) until it returns true or time runs out. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000, what = 'a condition'): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new ProbeTimeoutError(what, timeoutMs);
}
