import type { Latency } from './random.js';
import { contentText, type ChatRequest } from './wire.js';

/** A failure the server can be told to produce. */
export type Fault =
  /** HTTP 429 with a `Retry-After` header (seconds). */
  | { readonly type: 'rate-limit'; readonly retryAfterSeconds?: number }
  /** HTTP 5xx (default 500). */
  | { readonly type: 'server-error'; readonly status?: number }
  /** Never answers; the request stays open until the client gives up or the server closes. */
  | { readonly type: 'hang' }
  /** Streams `afterChunks` chunks (default 2), then cuts the connection; without streaming, cuts the body. */
  | { readonly type: 'truncate-stream'; readonly afterChunks?: number }
  /** Answers with a tool call whose arguments are not valid JSON. */
  | { readonly type: 'malformed-tool-args' }
  /** Answers with content that is not JSON although JSON was asked for. */
  | { readonly type: 'invalid-json-content' };

/** A tool call in a scripted reply; `arguments` given as a string is sent as is (may be malformed). */
export interface ScriptedToolCall {
  readonly name: string;
  readonly arguments: unknown;
}

/** What the server answers to one chat request. */
export type Reply =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'tool-calls'; readonly calls: readonly ScriptedToolCall[] }
  | { readonly kind: 'fault'; readonly fault: Fault };

/** Conditions a request must meet for a rule to apply (all given ones must hold). */
export interface RuleMatch {
  /** The request's model. */
  readonly model?: string | RegExp;
  /** The last user message contains this. */
  readonly lastUserIncludes?: string | RegExp;
  /** The system prompt contains this. */
  readonly systemIncludes?: string | RegExp;
  /** Tools were offered (true) or not (false). */
  readonly hasTools?: boolean;
  /** The last message is a tool result (the model is asked to go on after its tools ran). */
  readonly afterToolResult?: boolean;
  /** Anything else. */
  readonly predicate?: (request: ChatRequest) => boolean;
}

/** A scripted behaviour: when the request matches, answer with `reply`. */
export interface Rule {
  readonly name?: string;
  readonly when?: RuleMatch;
  /**
   * The answer, or a function of the request that makes it. The function may be async: the request
   * is held until it settles (tests use this as a gate, to hold requests until some condition).
   */
  readonly reply: Reply | ((request: ChatRequest) => Reply | Promise<Reply>);
  /** How many requests this rule answers before it retires. Default: unlimited. */
  readonly times?: number;
  /** Extra latency for requests this rule answers (on top of the server's). */
  readonly latency?: Latency;
}

const test = (pattern: string | RegExp, text: string): boolean => (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text));

/** True when every condition of `match` holds for `request`. */
export function matches(match: RuleMatch | undefined, request: ChatRequest): boolean {
  if (match === undefined) return true;
  if (match.model !== undefined && !test(match.model, request.model)) return false;
  const messages = request.messages;
  if (match.lastUserIncludes !== undefined) {
    const lastUser = [...messages].reverse().find((m) => m.role === 'user');
    if (!test(match.lastUserIncludes, contentText(lastUser))) return false;
  }
  if (match.systemIncludes !== undefined) {
    const system = messages.find((m) => m.role === 'system' || m.role === 'developer');
    if (!test(match.systemIncludes, contentText(system))) return false;
  }
  if (match.hasTools !== undefined && match.hasTools !== (request.tools !== undefined && request.tools.length > 0)) return false;
  if (match.afterToolResult !== undefined && match.afterToolResult !== (messages.at(-1)?.role === 'tool')) return false;
  if (match.predicate !== undefined && !match.predicate(request)) return false;
  return true;
}

/** The rules in force, in order; the first that matches (with uses left) answers. */
export class Script {
  readonly #rules: { rule: Rule; left: number }[] = [];

  /** Adds a rule after the existing ones. */
  add(rule: Rule): void {
    this.#rules.push({ rule, left: rule.times ?? Number.POSITIVE_INFINITY });
  }

  /** Adds a rule before the existing ones (faults injected for the next requests). */
  addFirst(rule: Rule): void {
    this.#rules.unshift({ rule, left: rule.times ?? Number.POSITIVE_INFINITY });
  }

  /** Removes every rule. */
  clear(): void {
    this.#rules.length = 0;
  }

  /** The rule answering `request`, consuming one of its uses; undefined for the default behaviour. */
  take(request: ChatRequest): Rule | undefined {
    for (let i = 0; i < this.#rules.length; i++) {
      const slot = this.#rules[i]!;
      if (slot.left <= 0 || !matches(slot.rule.when, request)) continue;
      slot.left--;
      if (slot.left <= 0) this.#rules.splice(i, 1);
      return slot.rule;
    }
    return undefined;
  }

  get size(): number {
    return this.#rules.length;
  }
}
