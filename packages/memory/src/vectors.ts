import { DimensionMismatchError, InvalidVectorError } from './errors.js';

/** A vector as callers may give it. */
export type VectorInput = Float32Array | Float64Array | readonly number[];

/**
 * Checks a vector at the boundary (type, length, finite entries, not all zeros) and returns its
 * squared L2 norm.
 */
function checkedSquaredNorm(namespace: string, dimensions: number, vector: VectorInput, where: string): number {
  if (!(vector instanceof Float32Array || vector instanceof Float64Array || Array.isArray(vector))) {
    throw new InvalidVectorError(namespace, 'a vector must be a Float32Array, a Float64Array or an array of numbers', where);
  }
  if (vector.length !== dimensions) throw new DimensionMismatchError(namespace, dimensions, vector.length, where);
  let sum = 0;
  if (vector instanceof Float32Array || vector instanceof Float64Array) {
    // Typed: every entry is a number; one finiteness check of the sum covers them all.
    for (let i = 0; i < dimensions; i++) sum += vector[i]! * vector[i]!;
    if (!Number.isFinite(sum)) {
      const bad = vector.findIndex((x) => !Number.isFinite(x));
      throw new InvalidVectorError(namespace, `entry ${bad} is ${String(vector[bad])}, not a finite number`, where);
    }
  } else {
    for (let i = 0; i < dimensions; i++) {
      const x = vector[i];
      if (typeof x !== 'number' || !Number.isFinite(x)) throw new InvalidVectorError(namespace, `entry ${i} is ${String(x)}, not a finite number`, where);
      sum += x * x;
    }
  }
  if (sum === 0) throw new InvalidVectorError(namespace, 'the vector is all zeros', where);
  return sum;
}

/**
 * Checks a vector at the boundary and writes it L2-normalised into `out` (`dimensions` long), which
 * it returns. Similarity is then the inner product, which is what the index and the tail scan compute.
 */
export function normalizeInto(namespace: string, dimensions: number, vector: VectorInput, out: Float32Array, where: string): Float32Array {
  return scaleInto(vector, 1 / Math.sqrt(checkedSquaredNorm(namespace, dimensions, vector, where)), out);
}

/** Writes `vector` times `scale` into `out` (as long as `vector`, checked already), which it returns. */
export function scaleInto(vector: VectorInput, scale: number, out: Float32Array): Float32Array {
  for (let i = 0; i < vector.length; i++) out[i] = vector[i]! * scale;
  return out;
}

/**
 * The boundary check of entry `i` of a batch; returns its squared L2 norm. The entry is named
 * (`entries[i].vector`) only when it fails: building that string for every entry of a large batch
 * costs more than the check itself.
 */
export function checkEntryVector(namespace: string, dimensions: number, vector: VectorInput, i: number): number {
  try {
    return checkedSquaredNorm(namespace, dimensions, vector, 'entry');
  } catch {
    return checkedSquaredNorm(namespace, dimensions, vector, `entries[${i}].vector`); // throws again, with the name
  }
}

/** `normalizeInto` for entry `i` of a batch, named as `checkEntryVector` names it. */
export function normalizedEntry(namespace: string, dimensions: number, vector: VectorInput, i: number, out = new Float32Array(dimensions)): Float32Array {
  return scaleInto(vector, 1 / Math.sqrt(checkEntryVector(namespace, dimensions, vector, i)), out);
}

/**
 * The owner's check of entry `i`: a Float32Array of unit length (what the namespace client sends)
 * is used as it is, without a copy; anything else is normalised as at the client. The result is
 * only read (copied into shared memory and the write log).
 */
export function checkedEntry(namespace: string, dimensions: number, vector: VectorInput, i: number): Float32Array {
  if (vector instanceof Float32Array && vector.length === dimensions) {
    let sum = 0;
    for (let j = 0; j < dimensions; j++) sum += vector[j]! * vector[j]!;
    // A NaN or an infinity makes the sum fail this too, and the full check below names it.
    if (Math.abs(sum - 1) < 1e-5) return vector;
  }
  return normalizedEntry(namespace, dimensions, vector, i);
}

/**
 * Inner product of `query` with the row of `matrix` starting at `offset`. The row is read through
 * a view of its own: indexing it from 0 let V8 drop the offset arithmetic from the loop (280-300
 * against 305-360 ns a 384-d row on Node 20, 940-1,000 against 1,100-1,200 at 1,536-d; Node 22 alike),
 * more than the view costs.
 */
export function dot(query: Float32Array, matrix: Float32Array, offset: number): number {
  const n = query.length;
  const row = matrix.subarray(offset, offset + n);
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  // Four accumulators: independent additions the CPU can overlap (about 2x over one running sum).
  for (; i + 3 < n; i += 4) {
    s0 += query[i]! * row[i]!;
    s1 += query[i + 1]! * row[i + 1]!;
    s2 += query[i + 2]! * row[i + 2]!;
    s3 += query[i + 3]! * row[i + 3]!;
  }
  for (; i < n; i++) s0 += query[i]! * row[i]!;
  return s0 + s1 + s2 + s3;
}
