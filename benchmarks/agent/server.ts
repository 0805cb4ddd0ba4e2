/**
 * The model server of the `agent` suite, in its own process (so its CPU is not the suite's): the
 * loopback mock with a fixed latency, answering a 3-turn tool loop: two tool calls, then an answer.
 * Prints its base URL on stdout; stops on SIGTERM or when its stdin closes (the suite is gone).
 */
import { MockOpenAIServer, type ChatRequest } from '@apiary/mock-openai';

const latencyMs = Number(process.argv[2] ?? 0);
const server = await MockOpenAIServer.start({ latency: { fixedMs: latencyMs }, keepRequests: 1 });
const toolResults = (r: ChatRequest): number => r.messages.filter((m) => m.role === 'tool').length;
server.addRule({
  name: 'second tool call',
  when: { hasTools: true, afterToolResult: true, predicate: (r) => toolResults(r) < 2 },
  reply: (r) => ({ kind: 'tool-calls', calls: [{ name: 'add', arguments: { a: toolResults(r), b: 1 } }] }),
});
process.stdout.write(`${server.baseURL}\n`);
const stop = (): void => void server.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
// The suite holds our stdin open: when it dies without a word (a crash, Ctrl-C), we go too.
process.stdin.once('end', stop).resume();
