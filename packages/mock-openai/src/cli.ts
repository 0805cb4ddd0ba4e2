#!/usr/bin/env node
/**
 * `npx --yes pnpm@10 mock-openai --port N [--latency-ms N] [--api-key KEY] [--seed N]`: runs the
 * loopback OpenAI-compatible server until SIGINT or SIGTERM, printing its base URL.
 */
import { MockOpenAIServer } from './server.js';

function flag(name: string): string | undefined {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

function number(name: string): number | undefined {
  const raw = flag(name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) {
    process.stderr.write(`--${name} must be a number >= 0 (got ${raw})\n`);
    process.exit(2);
  }
  return n;
}

if (process.argv.includes('--help')) {
  process.stdout.write('usage: mock-openai [--port N] [--latency-ms N] [--api-key KEY] [--seed N]\n');
  process.exit(0);
}

const latencyMs = number('latency-ms');
const apiKey = flag('api-key');
const seed = number('seed');
const server = await MockOpenAIServer.start({
  port: number('port') ?? 0,
  ...(latencyMs === undefined ? {} : { latency: { fixedMs: latencyMs } }),
  ...(apiKey === undefined ? {} : { apiKey }),
  ...(seed === undefined ? {} : { seed }),
}).catch((error: unknown) => {
  process.stderr.write(`mock-openai: cannot start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
process.stdout.write(`mock OpenAI server listening on ${server.baseURL}\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.close().then(() => {
      process.stdout.write(`mock-openai: stopped (${signal})\n`);
      process.exit(0);
    });
  });
}
