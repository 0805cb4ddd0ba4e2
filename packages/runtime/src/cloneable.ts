import { MessageNotCloneableError } from './errors.js';

/**
 * Checks that a value survives structured clone, so a bad message fails at the sender's call site
 * with a typed error instead of failing a whole batch later inside postMessage.
 *
 * Accepted: primitives except symbols, plain objects and arrays, Date, RegExp, Map, Set, ArrayBuffer,
 * SharedArrayBuffer, typed arrays, DataView, Error. Class instances are accepted but arrive as plain
 * objects (structured clone drops prototypes). Functions, symbols, promises, WeakMaps and native
 * handles are rejected, naming the path to the offending value.
 */
export function assertCloneable(value: unknown, what: string): void {
  const t = typeof value;
  if (t === 'string' || t === 'number' || t === 'boolean' || value === null || value === undefined || t === 'bigint') return;
  // Fast pass without a visited set; only a structure deeper than FAST_DEPTH (usually a cycle) pays for one.
  let found = walk(value, 0, null);
  if (found === DEEP) found = walk(value, 0, new Set());
  if (found !== null && found !== DEEP) throw new MessageNotCloneableError(what, `$${found.path}`, found.kind);
}

interface Found {
  path: string;
  kind: string;
}

const FAST_DEPTH = 64;
const MAX_DEPTH = 1024;
const DEEP: Found = { path: '', kind: 'deep' };
const HANDLES = new Set(['MessagePort', 'Worker', 'Socket', 'Server', 'EventEmitter', 'ReadableStream', 'WritableStream']);

/** Returns null when cloneable, the offending value's path (built while unwinding) when not. */
function walk(value: unknown, depth: number, seen: Set<object> | null): Found | null {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return null;
    case 'function':
      return { path: '', kind: `function ${(value as { name?: string }).name || '(anonymous)'}` };
    case 'symbol':
      return { path: '', kind: 'symbol' };
    case 'object':
      break;
  }
  if (value === null) return null;
  const obj = value as object;
  if (seen === null) {
    if (depth > FAST_DEPTH) return DEEP;
  } else {
    if (depth > MAX_DEPTH) return { path: '', kind: `nesting deeper than ${MAX_DEPTH}` };
    if (seen.has(obj)) return null; // structured clone preserves cycles
    seen.add(obj);
  }
  const proto: unknown = Object.getPrototypeOf(obj);
  if (proto === Object.prototype || proto === null) return walkKeys(obj as Record<string, unknown>, depth, seen);
  if (Array.isArray(obj)) {
    for (let i = 0; i < obj.length; i++) {
      const item: unknown = obj[i];
      if (typeof item !== 'object' && typeof item !== 'function' && typeof item !== 'symbol') continue;
      const f = walk(item, depth + 1, seen);
      if (f !== null) return f === DEEP ? f : { path: `[${i}]${f.path}`, kind: f.kind };
    }
    return null;
  }
  if (ArrayBuffer.isView(obj) || obj instanceof ArrayBuffer || obj instanceof SharedArrayBuffer) return null;
  if (obj instanceof Date || obj instanceof RegExp || obj instanceof Error) return null;
  if (obj instanceof Boolean || obj instanceof Number || obj instanceof String) return null;
  if (obj instanceof Map) {
    let i = 0;
    for (const [k, v] of obj) {
      const fk = walk(k, depth + 1, seen);
      if (fk !== null) return fk === DEEP ? fk : { path: `.<key ${i}>${fk.path}`, kind: fk.kind };
      const fv = walk(v, depth + 1, seen);
      if (fv !== null) return fv === DEEP ? fv : { path: `.get(${i})${fv.path}`, kind: fv.kind };
      i++;
    }
    return null;
  }
  if (obj instanceof Set) {
    let i = 0;
    for (const v of obj) {
      const f = walk(v, depth + 1, seen);
      if (f !== null) return f === DEEP ? f : { path: `.<item ${i}>${f.path}`, kind: f.kind };
      i++;
    }
    return null;
  }
  if (obj instanceof Promise || obj instanceof WeakMap || obj instanceof WeakSet || obj instanceof WeakRef) {
    return { path: '', kind: obj.constructor.name };
  }
  const name = (proto as { constructor?: { name?: string } }).constructor?.name ?? 'object';
  // Node's own handles (MessagePort, Worker, sockets) cannot be cloned without a transfer list.
  if (HANDLES.has(name)) return { path: '', kind: name };
  return walkKeys(obj as Record<string, unknown>, depth, seen);
}

function walkKeys(obj: Record<string, unknown>, depth: number, seen: Set<object> | null): Found | null {
  for (const key in obj) {
    if (!Object.prototype.hasOwnProperty.call(obj, key)) continue;
    const v = obj[key];
    if (typeof v !== 'object' && typeof v !== 'function' && typeof v !== 'symbol') continue;
    const f = walk(v, depth + 1, seen);
    if (f !== null) return f === DEEP ? f : { path: `.${key}${f.path}`, kind: f.kind };
  }
  return null;
}
