/** Latency to inject: fixed, or drawn from a distribution with the server's seeded generator. */
export type Latency =
  | { readonly fixedMs: number }
  | { readonly uniformMs: readonly [number, number] }
  | { readonly normalMs: { readonly mean: number; readonly sd: number } };

/** A small seeded PRNG (mulberry32): the same seed gives the same latencies and choices. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws one delay in ms (never negative). */
export function sampleLatency(latency: Latency | undefined, random: () => number): number {
  if (latency === undefined) return 0;
  if ('fixedMs' in latency) return Math.max(0, latency.fixedMs);
  if ('uniformMs' in latency) {
    const [min, max] = latency.uniformMs;
    return Math.max(0, min + (max - min) * random());
  }
  // Box-Muller
  const u = Math.max(random(), 1e-12);
  const v = random();
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return Math.max(0, latency.normalMs.mean + latency.normalMs.sd * z);
}

/** Validates a latency setting, naming the problem. */
export function checkLatency(latency: Latency, field: string): void {
  const bad = (why: string): never => {
    throw new RangeError(`${field}: ${why}`);
  };
  if ('fixedMs' in latency) {
    if (!(latency.fixedMs >= 0)) bad('fixedMs must be >= 0');
  } else if ('uniformMs' in latency) {
    const [min, max] = latency.uniformMs;
    if (!(min >= 0 && max >= min)) bad('uniformMs must be [min, max] with 0 <= min <= max');
  } else if ('normalMs' in latency) {
    if (!(latency.normalMs.mean >= 0 && latency.normalMs.sd >= 0)) bad('normalMs needs mean >= 0 and sd >= 0');
  } else {
    bad('must be { fixedMs }, { uniformMs: [min, max] } or { normalMs: { mean, sd } }');
  }
}
