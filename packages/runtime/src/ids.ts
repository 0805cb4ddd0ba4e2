import { randomFillSync } from 'node:crypto';

/**
 * Actor ids are ULIDs: 48 bits of milliseconds then 80 random bits, 26 characters of Crockford base32.
 * They sort by creation time as strings, and are unique across threads and processes without
 * coordination. Within one millisecond the random part is incremented (monotonic ULID), so ids made in
 * a burst still sort in creation order.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TWO_POW_40 = 2 ** 40;

const CODES = Array.from(ALPHABET, (c) => c.charCodeAt(0));

/** Generates monotonic ULIDs. One generator per thread; ids from different generators never collide in practice. */
export class IdGenerator {
  #lastMs = -1;
  #hi = 0; // upper 40 random bits
  #lo = 0; // lower 40 random bits
  readonly #now: () => number;
  /**
   * Character codes of the id being built. Time and upper bits change rarely, so only the low 8
   * characters are recomputed per id, and the string is made in one flat allocation: this runs once
   * per spawn, 100 k times a second.
   */
  readonly #codes: number[] = new Array<number>(26).fill(48);

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** A new id, greater than every id this generator made before. */
  next(): string {
    const ms = this.#now();
    if (ms <= this.#lastMs) {
      this.#lo += 1;
      if (this.#lo >= TWO_POW_40) {
        this.#lo = 0;
        this.#hi += 1;
        // 2^80 ids in one millisecond cannot happen; move time on rather than wrap.
        if (this.#hi >= TWO_POW_40) this.#reseed(this.#lastMs + 1);
        else this.#fill(this.#hi, 10, 8);
      }
    } else {
      this.#reseed(ms);
    }
    this.#fill(this.#lo, 18, 8);
    return String.fromCharCode.apply(null, this.#codes);
  }

  #reseed(ms: number): void {
    this.#lastMs = ms;
    const bytes = new Uint8Array(10);
    randomFillSync(bytes);
    // Keep the top bit of hi clear so increments within a millisecond never overflow.
    this.#hi = (bytes[0]! & 0x7f) * 2 ** 32 + bytes[1]! * 2 ** 24 + bytes[2]! * 2 ** 16 + bytes[3]! * 2 ** 8 + bytes[4]!;
    this.#lo = bytes[5]! * 2 ** 32 + bytes[6]! * 2 ** 24 + bytes[7]! * 2 ** 16 + bytes[8]! * 2 ** 8 + bytes[9]!;
    this.#fill(ms, 0, 10);
    this.#fill(this.#hi, 10, 8);
  }

  /** Writes `length` base32 digits of `value` at `offset`. */
  #fill(value: number, offset: number, length: number): void {
    let v = value;
    for (let i = offset + length - 1; i >= offset; i--) {
      this.#codes[i] = CODES[v % 32]!;
      v = Math.floor(v / 32);
    }
  }
}

/** Milliseconds since the epoch at which a ULID was made. */
export function idTime(id: string): number {
  let ms = 0;
  for (let i = 0; i < 10; i++) ms = ms * 32 + ALPHABET.indexOf(id[i]!);
  return ms;
}
