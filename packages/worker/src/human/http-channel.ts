import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { InvalidArgumentError } from '@apiary/runtime';
import type { HumanInput } from './human-input.js';
import type { Answer } from './questions.js';
import { WorkerErrorCodes } from '../errors.js';

/** Options of {@link serveHttp}. */
export interface HttpChannelOptions {
  /** Every call must carry `Authorization: Bearer <token>`. At least 16 characters. */
  readonly token: string;
  /** Port on 127.0.0.1; 0 picks a free one. Default 0. */
  readonly port?: number;
  /** Largest request body accepted. Default 65536 bytes. */
  readonly maxBodyBytes?: number;
}

/** A running HTTP channel. */
export interface HttpChannel {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Stops serving and detaches the channel. */
  close(): Promise<void>;
}

let served = 0;

/**
 * The HTTP channel: a small JSON API on loopback, for a dashboard or a script.
 * - `GET /human/requests`: the open requests, oldest first (`{ requests: [...] }`).
 * - `GET /human/requests/:id`: one request (404 unknown, 409 closed).
 * - `POST /human/requests/:id` with an {@link Answer} as JSON: 200 `{ ok: true }`; 400 for a body that
 *   is not a JSON object, 422 for an answer that does not fit (the request stays open), 404 for an
 *   unknown id, 409 for a request already answered, cancelled or expired.
 * Every call needs `Authorization: Bearer <token>` (401 without it). Loopback only.
 */
export async function serveHttp(human: HumanInput, options: HttpChannelOptions): Promise<HttpChannel> {
  if (typeof options?.token !== 'string' || options.token.length < 16) throw new InvalidArgumentError('token', 'must be a string of at least 16 characters');
  const expected = Buffer.from(`Bearer ${options.token}`);
  const maxBody = options.maxBodyBytes ?? 65_536;
  const channel = `http-${++served}`;
  const authorized = (req: IncomingMessage): boolean => {
    const given = Buffer.from(req.headers.authorization ?? '');
    // Constant time: a wrong token must not be guessable from how long the refusal takes.
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { error: 'internal', message: error instanceof Error ? error.message : String(error) });
    });
  });
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!authorized(req)) return send(res, 401, { error: 'unauthorized', message: 'send Authorization: Bearer <token>' }, { 'www-authenticate': 'Bearer' });
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname.replace(/\/+$/, '');
    if (path === '/human/requests') {
      if (req.method !== 'GET') return send(res, 405, { error: 'method-not-allowed' }, { allow: 'GET' });
      return send(res, 200, { requests: await human.pending() });
    }
    const match = /^\/human\/requests\/([^/]+)$/.exec(path);
    if (match === null) return send(res, 404, { error: 'not-found', message: `no route ${path}` });
    const id = decodeURIComponent(match[1]!);
    if (req.method === 'GET') return reply(res, () => human.get(id));
    if (req.method !== 'POST') return send(res, 405, { error: 'method-not-allowed' }, { allow: 'GET, POST' });
    const body = await readBody(req, maxBody);
    if (body === 'too-large') return send(res, 413, { error: 'too-large', message: `at most ${maxBody} bytes` });
    let answer: unknown;
    try {
      answer = JSON.parse(body);
    } catch {
      return send(res, 400, { error: 'bad-json', message: 'the body must be a JSON answer object' });
    }
    if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) return send(res, 400, { error: 'bad-answer', message: 'the body must be a JSON object with a kind' });
    return reply(res, async () => {
      await human.answer(id, answer as Answer, channel);
      return { ok: true };
    });
  };
  await human.attach(channel);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await human.detach(channel);
    },
  };
}

/** Runs `fn` and maps the worker level's errors to their HTTP status. */
async function reply(res: ServerResponse, fn: () => Promise<unknown>): Promise<void> {
  try {
    send(res, 200, await fn());
  } catch (error) {
    const e = error as { code?: string; message?: string; data?: { problem?: string } };
    const status = e.code === WorkerErrorCodes.HUMAN_REQUEST_NOT_FOUND ? 404 : e.code === WorkerErrorCodes.HUMAN_REQUEST_CLOSED ? 409 : e.code === WorkerErrorCodes.INVALID_ANSWER ? 422 : 500;
    send(res, status, { error: e.code ?? 'internal', message: e.message ?? String(error), ...(e.data?.problem === undefined ? {} : { problem: e.data.problem }) });
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

async function readBody(req: IncomingMessage, max: number): Promise<string | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) return 'too-large';
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
