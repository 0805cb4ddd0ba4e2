import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { answer, completionBody, streamChunks } from './completion.js';
import { defaultReply } from './default-behaviour.js';
import { embeddingsBody } from './embeddings.js';
import { checkLatency, sampleLatency, seededRandom, type Latency } from './random.js';
import { Script, type Fault, type Reply, type Rule } from './script.js';
import type { ChatRequest, EmbeddingsRequest } from './wire.js';

/** Options of {@link MockOpenAIServer.start}. Every default is listed. */
export interface MockServerOptions {
  /** Port on 127.0.0.1; default 0 (a free port). The server only ever listens on loopback. */
  readonly port?: number;
  /** Latency added to every chat and embeddings request. Default: none. */
  readonly latency?: Latency;
  /** Seed of the generator behind latency distributions. Default 1. */
  readonly seed?: number;
  /** When set, requests must carry `Authorization: Bearer <apiKey>` (401 otherwise). Default: any key. */
  readonly apiKey?: string;
  /** Model ids listed by `/v1/models`. Default: `apiary-mock`, `gpt-4o-mini`, `text-embedding-3-small`. */
  readonly models?: readonly string[];
  /** Scripted rules, in order (see {@link Rule}). Default: none (the default behaviour answers). */
  readonly rules?: readonly Rule[];
  /** How many recent chat requests `requests` keeps. Default 100. */
  readonly keepRequests?: number;
}

/** Counters of what the server did. */
export interface MockServerStats {
  requests: number;
  chatCompletions: number;
  streams: number;
  embeddings: number;
  faults: number;
  /** Requests being answered right now (including hung ones). */
  inFlight: number;
}

const MAX_BODY = 10 * 1024 * 1024;

/**
 * A real HTTP server that speaks the OpenAI API on loopback: `/v1/chat/completions` (plain and SSE
 * streaming, tools, usage, JSON output), `/v1/embeddings`, `/v1/models`. Its behaviour is scripted by
 * rules, with latency and fault injection; with no rules it answers deterministically (see
 * `defaultReply`). The official `openai` SDK works against it unchanged.
 */
export class MockOpenAIServer {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #script = new Script();
  readonly #options: MockServerOptions;
  readonly #random: () => number;
  readonly #recent: ChatRequest[] = [];
  readonly #stats: MockServerStats = { requests: 0, chatCompletions: 0, streams: 0, embeddings: 0, faults: 0, inFlight: 0 };
  #port = 0;
  #closed: Promise<void> | null = null;

  private constructor(options: MockServerOptions) {
    this.#options = options;
    this.#random = seededRandom(options.seed ?? 1);
    for (const rule of options.rules ?? []) this.addRule(rule);
    // Idle keep-alive sockets stay open 65 s, as behind common API gateways. Node's default (5 s)
    // races clients that reuse a socket just as the server drops it ("other side closed").
    this.#server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => void this.#handle(req, res));
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  /** Starts listening on 127.0.0.1. Rejects on bad options or a port in use. */
  static async start(options: MockServerOptions = {}): Promise<MockOpenAIServer> {
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port must be an integer in 0..65535 (got ${port})`);
    if (options.latency !== undefined) checkLatency(options.latency, 'latency');
    const server = new MockOpenAIServer(options);
    await new Promise<void>((resolve, reject) => {
      server.#server.once('error', reject);
      server.#server.listen(port, '127.0.0.1', () => {
        server.#server.off('error', reject);
        resolve();
      });
    });
    const address = server.#server.address();
    server.#port = typeof address === 'object' && address !== null ? address.port : port;
    return server;
  }

  /** The port it listens on. */
  get port(): number {
    return this.#port;
  }

  /** `http://127.0.0.1:<port>`. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** What to pass as the `openai` SDK's `baseURL`: `http://127.0.0.1:<port>/v1`. */
  get baseURL(): string {
    return `${this.url}/v1`;
  }

  /** Adds a rule after the existing ones. */
  addRule(rule: Rule): void {
    if (rule.latency !== undefined) checkLatency(rule.latency, 'rule.latency');
    if (rule.times !== undefined && !(Number.isInteger(rule.times) && rule.times >= 1)) throw new RangeError('rule.times must be an integer >= 1');
    this.#script.add(rule);
  }

  /** Makes the next `times` chat requests (matching `when`, if given) fail with `fault`. */
  inject(fault: Fault, times = 1, when?: Rule['when']): void {
    this.#script.addFirst({ name: `fault:${fault.type}`, reply: { kind: 'fault', fault }, times, ...(when === undefined ? {} : { when }) });
  }

  /** Removes every rule and pending fault. */
  clearRules(): void {
    this.#script.clear();
  }

  /** Counters (a copy). */
  get stats(): MockServerStats {
    return { ...this.#stats };
  }

  /** The most recent chat requests, oldest first. */
  get requests(): readonly ChatRequest[] {
    return this.#recent;
  }

  /** Stops listening and cuts every open connection (hung requests included). Idempotent. */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      for (const socket of this.#sockets) socket.destroy();
    });
    return this.#closed;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.#stats.requests++;
    this.#stats.inFlight++;
    res.on('close', () => this.#stats.inFlight--);
    try {
      if (this.#options.apiKey !== undefined && req.headers.authorization !== `Bearer ${this.#options.apiKey}`) {
        return sendError(res, 401, 'invalid_api_key', 'Incorrect API key provided.');
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      const path = url.pathname.replace(/\/+$/, '');
      if (req.method === 'GET' && path === '/v1/models') return sendJson(res, 200, { object: 'list', data: this.#models().map(model) });
      if (req.method === 'GET' && path.startsWith('/v1/models/')) {
        const id = decodeURIComponent(path.slice('/v1/models/'.length));
        return this.#models().includes(id) ? sendJson(res, 200, model(id)) : sendError(res, 404, 'model_not_found', `The model '${id}' does not exist`);
      }
      if (req.method === 'POST' && path === '/v1/chat/completions') return await this.#chat(req, res);
      if (req.method === 'POST' && path === '/v1/embeddings') return await this.#embeddings(req, res);
      return sendError(res, 404, 'not_found', `Unknown route ${req.method} ${path}`);
    } catch (error) {
      if (!res.headersSent) sendError(res, 500, 'server_error', error instanceof Error ? error.message : String(error));
      else res.destroy();
    }
  }

  #models(): readonly string[] {
    return this.#options.models ?? ['apiary-mock', 'gpt-4o-mini', 'text-embedding-3-small'];
  }

  async #chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req, res);
    if (body === undefined) return;
    const request = body as ChatRequest;
    if (typeof request.model !== 'string' || !Array.isArray(request.messages) || request.messages.length === 0) {
      return sendError(res, 400, 'invalid_request_error', 'model (string) and messages (non-empty array) are required');
    }
    this.#stats.chatCompletions++;
    this.#recent.push(request);
    if (this.#recent.length > (this.#options.keepRequests ?? 100)) this.#recent.shift();
    const rule = this.#script.take(request);
    const reply: Reply = rule === undefined ? defaultReply(request) : typeof rule.reply === 'function' ? await rule.reply(request) : rule.reply;
    await delay(sampleLatency(this.#options.latency, this.#random) + sampleLatency(rule?.latency, this.#random));
    if (res.destroyed) return;
    const stream = request.stream === true;
    if (stream) this.#stats.streams++;

    let malformedArgs = false;
    let invalidJson = false;
    let truncateAfter: number | null = null;
    let final: Exclude<Reply, { kind: 'fault' }>;
    if (reply.kind === 'fault') {
      this.#stats.faults++;
      const fault = reply.fault;
      switch (fault.type) {
        case 'rate-limit':
          res.setHeader('retry-after', String(fault.retryAfterSeconds ?? 1));
          return sendError(res, 429, 'rate_limit_exceeded', 'Rate limit reached (injected by the mock server).');
        case 'server-error':
          return sendError(res, fault.status ?? 500, 'server_error', 'The server had an error (injected by the mock server).');
        case 'hang':
          return; // the response stays open until the client gives up or the server closes
        case 'truncate-stream':
          truncateAfter = fault.afterChunks ?? 2;
          final = defaultReply(request) as Exclude<Reply, { kind: 'fault' }>;
          break;
        case 'malformed-tool-args': {
          malformedArgs = true;
          const tool = request.tools?.[0]?.function.name ?? 'unknown_tool';
          final = { kind: 'tool-calls', calls: [{ name: tool, arguments: {} }] };
          break;
        }
        case 'invalid-json-content':
          invalidJson = true;
          final = { kind: 'text', text: 'not json' };
          break;
        default: {
          const never: never = fault;
          throw new Error(`unknown fault ${JSON.stringify(never)}`);
        }
      }
    } else {
      final = reply;
    }
    const a = answer(request, final, { malformedArgs, invalidJson });
    if (!stream) {
      if (truncateAfter !== null) {
        // Headers and half a body, then the connection drops.
        const text = JSON.stringify(completionBody(a));
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(text.length) });
        res.write(text.slice(0, Math.floor(text.length / 2)));
        setImmediate(() => res.socket?.destroy());
        return;
      }
      return sendJson(res, 200, completionBody(a));
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const chunks = streamChunks(a, request.stream_options?.include_usage === true);
    for (let i = 0; i < chunks.length; i++) {
      if (truncateAfter !== null && i >= truncateAfter) {
        res.socket?.destroy();
        return;
      }
      res.write(`data: ${JSON.stringify(chunks[i])}\n\n`);
    }
    res.end('data: [DONE]\n\n');
  }

  async #embeddings(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req, res);
    if (body === undefined) return;
    const request = body as EmbeddingsRequest;
    if (typeof request.model !== 'string') return sendError(res, 400, 'invalid_request_error', 'model (string) is required');
    const result = embeddingsBody(request);
    if ('error' in result) return sendError(res, 400, 'invalid_request_error', result.error);
    this.#stats.embeddings++;
    await delay(sampleLatency(this.#options.latency, this.#random));
    if (!res.destroyed) sendJson(res, 200, result.body);
  }
}

function model(id: string): unknown {
  return { id, object: 'model', created: 1_700_000_000, owned_by: 'apiary-mock' };
}

function delay(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}

async function readJson(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) {
      sendError(res, 413, 'request_too_large', `request body over ${MAX_BODY} bytes`);
      return undefined;
    }
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    sendError(res, 400, 'invalid_request_error', 'the request body is not valid JSON');
    return undefined;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  const type = status === 429 ? 'requests' : status >= 500 ? 'server_error' : 'invalid_request_error';
  sendJson(res, status, { error: { message, type, param: null, code } });
}
