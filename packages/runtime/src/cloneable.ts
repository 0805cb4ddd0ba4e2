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
  const found = walk(value, '$', 0, undefined);
  if (found !== null) throw new MessageNotCloneableError(what, found.path, found.kind);
}

interface Found {
  path: string;
  kind: string;
}

const MAX_DEPTH = 256;

function walk(value: unknown, path: string, depth: number, seen: Set<object> | undefined): Found | null {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return null;
    case 'function':
      return { path, kind: `function ${(value as { name?: string }).name || '(anonymous)'}` };
    case 'symbol':
      return { path, kind: 'symbol' };
    case 'object':
      break;
  }
  if (value === null) return null;
  const obj = value as object;
  if (depth > MAX_DEPTH) return { path, kind: `nesting deeper than ${MAX_DEPTH}` };
  const visited = seen ?? new Set<object>();
  if (visited.has(obj)) return null; // structured clone preserves cycles
  visited.add(obj);

  if (Array.isArray(obj)) {
    for (let i = 0; i < obj.length; i++) {
      const f = walk(obj[i], `${path}[${i}]`, depth + 1, visited);
      if (f !== null) return f;
    }
    return null;
  }
  if (ArrayBuffer.isView(obj) || obj instanceof ArrayBuffer || obj instanceof SharedArrayBuffer) return null;
  if (obj instanceof Date || obj instanceof RegExp || obj instanceof Error) return null;
  if (obj instanceof Boolean || obj instanceof Number || obj instanceof String) return null;
  if (obj instanceof Map) {
    let i = 0;
    for (const [k, v] of obj) {
      const f = walk(k, `${path}.<key ${i}>`, depth + 1, visited) ?? walk(v, `${path}.get(${i})`, depth + 1, visited);
      if (f !== null) return f;
      i++;
    }
    return null;
  }
  if (obj instanceof Set) {
    let i = 0;
    for (const v of obj) {
      const f = walk(v, `${path}.<item ${i++}>`, depth + 1, visited);
      if (f !== null) return f;
    }
    return null;
  }
  if (obj instanceof Promise || obj instanceof WeakMap || obj instanceof WeakSet || obj instanceof WeakRef) {
    return { path, kind: obj.constructor.name };
  }
  const proto: unknown = Object.getPrototypeOf(obj);
  if (proto !== Object.prototype && proto !== null) {
    const name = (proto as { constructor?: { name?: string } }).constructor?.name ?? 'object';
    // Node's own handles (MessagePort, Worker, sockets) cannot be cloned without a transfer list.
    if (['MessagePort', 'Worker', 'Socket', 'Server', 'EventEmitter', 'ReadableStream', 'WritableStream'].includes(name)) {
      return { path, kind: name };
    }
  }
  for (const key of Object.keys(obj)) {
    const f = walk((obj as Record<string, unknown>)[key], `${path}.${key}`, depth + 1, visited);
    if (f !== null) return f;
  }
  return null;
}
