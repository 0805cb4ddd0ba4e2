import { randomFillSync } from 'node:crypto';

/**
 * Actor ids are ULIDs: 48 bits of milliseconds then 80 random bits, 26 characters of Crockford base32.
 * They sort by creation time as strings, and are unique across threads and processes without
 * coordination. Within one millisecond the random part is incremented (monotonic ULID), so ids made in
 * a burst still sort in creation order.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TWO_POW_40 = 2 ** 40;

/** Generates monotonic ULIDs. One generator per thread; ids from different generators never collide in practice. */
export class IdGenerator {
  #lastMs = -1;
  #hi = 0; // upper 40 random bits
  #lo = 0; // lower 40 random bits
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** A new id, greater than every id this generator made before. */
  next(): string {
    let ms = this.#now();
    if (ms <= this.#lastMs) {
      ms = this.#lastMs;
      this.#lo += 1;
      if (this.#lo >= TWO_POW_40) {
        this.#lo = 0;
        this.#hi += 1;
        // 2^80 ids in one millisecond cannot happen; move time on rather than wrap.
        if (this.#hi >= TWO_POW_40) this.#reseed(++ms);
      }
    } else {
      this.#reseed(ms);
    }
    return encode(ms, 10) + encode(this.#hi, 8) + encode(this.#lo, 8);
  }

  #reseed(ms: number): void {
    this.#lastMs = ms;
    const bytes = new Uint8Array(10);
    randomFillSync(bytes);
    // Keep the top bit of hi clear so increments within a millisecond never overflow.
    this.#hi = ((bytes[0]! & 0x7f) * 2 ** 32 + bytes[1]! * 2 ** 24 + bytes[2]! * 2 ** 16 + bytes[3]! * 2 ** 8 + bytes[4]!);
    this.#lo = bytes[5]! * 2 ** 32 + bytes[6]! * 2 ** 24 + bytes[7]! * 2 ** 16 + bytes[8]! * 2 ** 8 + bytes[9]!;
  }
}

/** All two-character base32 pairs: encoding 10 bits at a time halves the string work per id. */
const PAIRS: string[] = Array.from({ length: 1024 }, (_, i) => ALPHABET[i >> 5]! + ALPHABET[i & 31]!);

function encode(value: number, length: number): string {
  let out = '';
  let v = value;
  let i = length;
  for (; i >= 2; i -= 2) {
    out = PAIRS[v % 1024]! + out;
    v = Math.floor(v / 1024);
  }
  if (i === 1) out = ALPHABET[v % 32]! + out;
  return out;
}

/** Milliseconds since the epoch at which a ULID was made. */
export function idTime(id: string): number {
  let ms = 0;
  for (let i = 0; i < 10; i++) ms = ms * 32 + ALPHABET.indexOf(id[i]!);
  return ms;
}
