import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ActorSystem, type ActorRef } from '@apiary/runtime';
import { eventually, waitForEvent, within } from '@apiary/testkit';
import { HumanInput, type HumanOutcome, type HumanRequestSpec, type HumanSettled } from '../src/index.ts';
import { attachTerminal, type TerminalChannel } from '../src/human/terminal-channel.ts';
import { sink, type SinkMsg } from './fixtures/behaviors.ts';

/** What a stream has printed; `see` waits (bounded) for text printed after the previous match. */
class Screen {
  text = '';
  #from = 0;
  readonly #changed = new Set<() => void>();
  constructor(stream: NodeJS.ReadableStream) {
    stream.on('data', (chunk: Buffer | string) => {
      this.text += String(chunk);
      for (const fn of this.#changed) fn();
    });
  }
  see(needle: string, timeoutMs = 5_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const at = this.text.indexOf(needle, this.#from);
        if (at < 0) return;
        this.#from = at + needle.length;
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${JSON.stringify(needle)}; screen tail: ${JSON.stringify(this.text.slice(-400))}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.#changed.delete(check);
      };
      this.#changed.add(check);
      check();
    });
  }
}

interface Ctx {
  system: ActorSystem;
  human: HumanInput;
  sink: ActorRef<SinkMsg, unknown>;
  input: PassThrough;
  output: PassThrough;
  screen: Screen;
  terminal: TerminalChannel | null;
}
const test = suite<Ctx>('terminal channel', {} as Ctx);

test.before.each(async (ctx) => {
  ctx.system = await ActorSystem.start({ threads: 0 });
  ctx.human = await HumanInput.start(ctx.system);
  ctx.sink = (await ctx.system.spawn(sink, { placement: 'main' })) as ActorRef<SinkMsg, unknown>;
  ctx.input = new PassThrough();
  ctx.output = new PassThrough();
  ctx.screen = new Screen(ctx.output);
  ctx.terminal = null;
});
test.after.each(async (ctx) => {
  await ctx.terminal?.detach();
  await ctx.system.stop();
});

const target = (ctx: Ctx) => ({ system: ctx.system, broker: ctx.human.broker });
const attach = async (ctx: Ctx): Promise<TerminalChannel> => {
  const terminal = await attachTerminal(target(ctx), { input: ctx.input, output: ctx.output, requireTty: false });
  assert.ok(terminal !== null);
  ctx.terminal = terminal;
  await ctx.screen.see('attached');
  return terminal;
};
const type = (ctx: Ctx, line: string): void => void ctx.input.write(`${line}\n`);
const spec = (question: HumanRequestSpec['question'], extra: Partial<HumanRequestSpec> = {}): HumanRequestSpec => ({ worker: 'w-1', workerName: 'ada', taskId: 't-1', question, ...extra });
const open = async (ctx: Ctx, s: HumanRequestSpec): Promise<string> =>
  ((await ctx.system.ask(ctx.human.broker, { type: 'open', spec: s, replyTo: ctx.sink })) as { id: string }).id;
/** The outcome the asker received for `id` (asks the sink until it has arrived, bounded). */
const outcomeOf = async (ctx: Ctx, id: string): Promise<HumanOutcome> => {
  let found: HumanSettled | undefined;
  await eventually(async () => {
    found = ((await ctx.system.ask(ctx.sink, { type: 'outcomes' })) as HumanSettled[]).find((s) => s.request.id === id);
    return found !== undefined;
  }, 5_000, `the outcome of ${id}`);
  return found!.outcome;
};
/** Subscribe before typing: resolves when the broker refuses an answer from this terminal. */
const refused = (ctx: Ctx) => waitForEvent(ctx.system.events, 'human-answer-rejected', (e) => e.channel === ctx.terminal?.channel, 5_000);
const answered = (ctx: Ctx, id: string, answer: unknown): HumanOutcome => ({ id, status: 'answered', channel: ctx.terminal!.channel, answer } as HumanOutcome);

test('text: shows who asks, the task and the time left; an empty or too long line is asked again; the answer arrives trimmed', async (ctx) => {
  await attach(ctx);
  const id = await open(ctx, spec({ kind: 'text', prompt: 'Name the branch', maxLength: 8 }, { timeoutMs: 60_000 }));
  await ctx.screen.see(`--- ${id}: ada (w-1) asks, task t-1, `);
  await ctx.screen.see('s left\nName the branch\n  (at most 8 characters)\n> ');
  assert.match(ctx.screen.text, /, (59|60)s left\n/); // rounded up at print time, a moment after opening
  let rejection = refused(ctx);
  type(ctx, '   ');
  await rejection;
  await ctx.screen.see('  ! ');
  await ctx.screen.see('> ');
  rejection = refused(ctx);
  type(ctx, 'much-too-long-name');
  await rejection;
  await ctx.screen.see('> ');
  type(ctx, '  fix-42 ');
  await ctx.screen.see(`answered ${id}`);
  assert.equal(await outcomeOf(ctx, id), answered(ctx, id, { kind: 'text', text: 'fix-42' }));
});

test('choice: a number or the exact option; a bad number and an unknown option are asked again', async (ctx) => {
  await attach(ctx);
  const q = { kind: 'choice' as const, prompt: 'Which colour?', options: ['red', 'green', 'blue'] };
  const a = await open(ctx, spec(q));
  await ctx.screen.see('  1) red\n  2) green\n  3) blue\nchoose 1-3> ');
  type(ctx, '7');
  await ctx.screen.see('  ! ');
  await ctx.screen.see('choose 1-3> ');
  const rejection = refused(ctx);
  type(ctx, 'purple');
  await rejection;
  await ctx.screen.see('choose 1-3> ');
  type(ctx, '2');
  assert.equal(await outcomeOf(ctx, a), answered(ctx, a, { kind: 'choice', choice: 'green' }));
  const b = await open(ctx, spec(q));
  await ctx.screen.see(`--- ${b}`);
  await ctx.screen.see('choose 1-3> ');
  type(ctx, 'blue');
  assert.equal(await outcomeOf(ctx, b), answered(ctx, b, { kind: 'choice', choice: 'blue' }));
});

test('confirm: y/yes/n/no in any case; anything else is asked again', async (ctx) => {
  await attach(ctx);
  const a = await open(ctx, spec({ kind: 'confirm', prompt: 'Deploy?' }));
  await ctx.screen.see('[y/n]> ');
  type(ctx, 'maybe');
  await ctx.screen.see('  ! ');
  await ctx.screen.see('[y/n]> ');
  type(ctx, 'YES');
  assert.equal(await outcomeOf(ctx, a), answered(ctx, a, { kind: 'confirm', confirmed: true }));
  const b = await open(ctx, spec({ kind: 'confirm', prompt: 'Deploy again?' }));
  await ctx.screen.see(`--- ${b}`);
  await ctx.screen.see('[y/n]> ');
  type(ctx, 'n');
  assert.equal(await outcomeOf(ctx, b), answered(ctx, b, { kind: 'confirm', confirmed: false }));
});

test('structured: shows the schema compactly; bad JSON and a schema violation are asked again', async (ctx) => {
  await attach(ctx);
  const schema = z.toJSONSchema(z.object({ city: z.string(), nights: z.number().int().min(1) }));
  const id = await open(ctx, spec({ kind: 'structured', prompt: 'Where and how long?', schema }));
  await ctx.screen.see('  schema: {"type":"object"');
  await ctx.screen.see('JSON> ');
  assert.not.ok(ctx.screen.text.includes('$schema'));
  type(ctx, '{city: Oslo');
  await ctx.screen.see('  ! ');
  await ctx.screen.see('JSON> ');
  const rejection = refused(ctx);
  type(ctx, '{"city":"Oslo","nights":0}');
  await rejection;
  await ctx.screen.see('JSON> ');
  type(ctx, '{"city":"Oslo","nights":2}');
  assert.equal(await outcomeOf(ctx, id), answered(ctx, id, { kind: 'structured', value: { city: 'Oslo', nights: 2 } }));
});

test('approval: approve, reject with a reason (asked again if blank), edit with arguments checked against the tool schema', async (ctx) => {
  await attach(ctx);
  const schema = z.toJSONSchema(z.object({ amount: z.number().max(100) }));
  const q = { kind: 'approval' as const, prompt: 'Refund the customer?', tool: 'refund', arguments: { amount: 500 }, schema };
  const [a, b, c] = [await open(ctx, spec(q)), await open(ctx, spec(q)), await open(ctx, spec(q))];
  await ctx.screen.see(`--- ${a}`);
  await ctx.screen.see('  tool: refund\n  arguments: {"amount":500}\n');
  await ctx.screen.see('[a]pprove, [r]eject or [e]dit> ');
  type(ctx, 'x');
  await ctx.screen.see('  ! ');
  await ctx.screen.see('[a]pprove, [r]eject or [e]dit> ');
  type(ctx, 'A');
  assert.equal(await outcomeOf(ctx, a), answered(ctx, a, { kind: 'approval', decision: 'approve' }));

  await ctx.screen.see(`--- ${b}`);
  await ctx.screen.see('[a]pprove, [r]eject or [e]dit> ');
  type(ctx, 'r');
  await ctx.screen.see('reason> ');
  const blank = refused(ctx);
  type(ctx, '  ');
  await blank;
  await ctx.screen.see('reason> '); // the reason again, not the decision
  type(ctx, 'too much money');
  assert.equal(await outcomeOf(ctx, b), answered(ctx, b, { kind: 'approval', decision: 'reject', reason: 'too much money' }));

  await ctx.screen.see(`--- ${c}`);
  await ctx.screen.see('[a]pprove, [r]eject or [e]dit> ');
  type(ctx, 'edit');
  await ctx.screen.see('new arguments (JSON)> ');
  type(ctx, 'amount=50');
  await ctx.screen.see('  ! ');
  await ctx.screen.see('new arguments (JSON)> ');
  const tooMuch = refused(ctx);
  type(ctx, '{"amount":250}');
  await tooMuch;
  await ctx.screen.see('new arguments (JSON)> ');
  type(ctx, '{"amount":50}');
  assert.equal(await outcomeOf(ctx, c), answered(ctx, c, { kind: 'approval', decision: 'edit', arguments: { amount: 50 } }));
});

test('requests are asked one at a time in arrival order, those open at attach time first', async (ctx) => {
  // Another channel keeps the first two open (with none attached they would settle at once).
  const stopOther = await ctx.human.onRequest(() => undefined);
  const a = await open(ctx, spec({ kind: 'confirm', prompt: 'First?' }));
  const b = await open(ctx, spec({ kind: 'confirm', prompt: 'Second?' }));
  await attach(ctx);
  const c = await open(ctx, spec({ kind: 'confirm', prompt: 'Third?' }));
  for (const id of [a, b, c]) {
    await ctx.screen.see(`--- ${id}`);
    await ctx.screen.see('[y/n]> ');
    type(ctx, 'y');
    assert.equal(await outcomeOf(ctx, id), answered(ctx, id, { kind: 'confirm', confirmed: true }));
  }
  assert.is(ctx.screen.text.split('\n--- ').length - 1, 3);
  await stopOther();
});

test('a request settled elsewhere while on screen is abandoned with a notice, and the next one is asked', async (ctx) => {
  await attach(ctx);
  const a = await open(ctx, spec({ kind: 'confirm', prompt: 'Answered elsewhere?' }));
  await ctx.screen.see('[y/n]> ');
  await ctx.human.answer(a, { kind: 'confirm', confirmed: false }, 'http-9');
  await ctx.screen.see(`${a} was answered via http-9; moving on`);
  assert.equal(await outcomeOf(ctx, a), { id: a, status: 'answered', channel: 'http-9', answer: { kind: 'confirm', confirmed: false } });

  const b = await open(ctx, spec({ kind: 'text', prompt: 'Cancelled?' }));
  await ctx.screen.see(`--- ${b}`);
  await ctx.human.cancel(b, 'no longer needed');
  await ctx.screen.see(`${b} was cancelled: no longer needed; moving on`);

  const c = await open(ctx, spec({ kind: 'confirm', prompt: 'Too slow?' }, { timeoutMs: 100 }));
  await ctx.screen.see(`${c} timed out (default: deny); moving on`);

  const d = await open(ctx, spec({ kind: 'confirm', prompt: 'Still listening?' }));
  await ctx.screen.see(`--- ${d}`);
  await ctx.screen.see('[y/n]> ');
  type(ctx, 'y');
  assert.equal(await outcomeOf(ctx, d), answered(ctx, d, { kind: 'confirm', confirmed: true }));
});

test('a request that closed before its turn is skipped', async (ctx) => {
  await attach(ctx);
  const a = await open(ctx, spec({ kind: 'confirm', prompt: 'On screen' }));
  const b = await open(ctx, spec({ kind: 'confirm', prompt: 'Withdrawn while waiting' }));
  await ctx.screen.see('[y/n]> ');
  await ctx.human.cancel(b, 'withdrawn');
  const c = await open(ctx, spec({ kind: 'confirm', prompt: 'After' }));
  type(ctx, 'y');
  await ctx.screen.see(`--- ${c}`);
  assert.not.ok(ctx.screen.text.includes(`--- ${b}`));
  assert.not.ok(ctx.screen.text.includes(`${b} was cancelled`));
  assert.equal(await outcomeOf(ctx, a), answered(ctx, a, { kind: 'confirm', confirmed: true }));
});

test('EOF while a question is on screen detaches cleanly: no re-prompt loop, later requests fall back to defaults', async (ctx) => {
  const terminal = await attach(ctx);
  const a = await open(ctx, spec({ kind: 'confirm', prompt: 'Anyone there?' }));
  await ctx.screen.see('[y/n]> ');
  type(ctx, 'maybe');
  await ctx.screen.see('[y/n]> ');
  ctx.input.end();
  assert.is(await within(terminal.closed(), 5_000, 'the terminal to close on EOF'), 'input-ended');
  await ctx.screen.see('input ended');
  assert.equal((await ctx.human.pending()).map((r) => r.id), [a]); // left open for another channel or its deadline
  const b = await open(ctx, spec({ kind: 'confirm', prompt: 'After EOF' }));
  assert.equal(await outcomeOf(ctx, b), { id: b, status: 'timed-out', applied: 'deny', noChannel: true, answer: { kind: 'confirm', confirmed: false } });
  await terminal.detach(); // idempotent
  assert.is(await terminal.closed(), 'input-ended');
});

test('detach() abandons the prompt and unregisters the channel', async (ctx) => {
  const terminal = await attach(ctx);
  await open(ctx, spec({ kind: 'confirm', prompt: 'Waiting' }));
  await ctx.screen.see('[y/n]> ');
  await terminal.detach();
  assert.is(await terminal.closed(), 'detached');
  const b = await open(ctx, spec({ kind: 'confirm', prompt: 'After detach' }));
  assert.equal((await outcomeOf(ctx, b)).status, 'timed-out');
});

test('requireTty (the default) refuses a non-TTY input: null, nothing attached; bad arguments reject with a code', async (ctx) => {
  assert.is(await attachTerminal(target(ctx), { input: ctx.input, output: ctx.output }), null);
  const id = await open(ctx, spec({ kind: 'confirm', prompt: 'Nobody?' }));
  assert.equal(await outcomeOf(ctx, id), { id, status: 'timed-out', applied: 'deny', noChannel: true, answer: { kind: 'confirm', confirmed: false } });
  const codeOf = (p: Promise<unknown>): Promise<string> => p.then(() => 'no error', (e: { code?: string }) => e.code ?? 'no code');
  const badBroker = { system: ctx.system, broker: {} as ActorRef<never, unknown> };
  assert.is(await codeOf(attachTerminal(badBroker, { input: ctx.input, output: ctx.output, requireTty: false })), 'APIARY_ERR_INVALID_ARGUMENT');
  assert.is(await codeOf(attachTerminal(target(ctx), { input: {} as NodeJS.ReadableStream, requireTty: false })), 'APIARY_ERR_INVALID_ARGUMENT');
});

const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
test(`on a real pseudo-terminal (script from util-linux${hasScript ? '' : ': not installed, skipped'}): attaches with requireTty and answers a confirm`, async () => {
  if (!hasScript) return;
  const fixture = fileURLToPath(new URL('./fixtures/terminal-pty.ts', import.meta.url));
  const cwd = fileURLToPath(new URL('..', import.meta.url));
  const command = [process.execPath, '--import', 'tsx', '--conditions=source', fixture].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TERM: 'dumb' } });
  const screen = new Screen(child.stdout);
  child.stderr.on('data', (d: Buffer) => (screen.text += `[stderr] ${String(d)}`));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await screen.see('--- ', 20_000);
    await screen.see('pty-worker (w-pty) asks, task t-pty');
    await screen.see('[y/n]> ');
    child.stdin.write('nope\r'); // a TTY sends carriage return for Enter
    await screen.see('  ! ');
    await screen.see('[y/n]> ');
    child.stdin.write('y\r');
    await screen.see('OUTCOME ', 10_000);
    await screen.see('\n');
    const line = screen.text.slice(screen.text.indexOf('OUTCOME ') + 8).split(/\r?\n/)[0]!;
    const outcome = JSON.parse(line) as HumanOutcome;
    assert.equal({ status: outcome.status, channel: outcome.status === 'answered' ? outcome.channel.startsWith('terminal-') : null }, { status: 'answered', channel: true });
    assert.equal(outcome.status === 'answered' ? outcome.answer : null, { kind: 'confirm', confirmed: true });
    assert.is(await within(exited, 10_000, 'the fixture to exit'), 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test.run();
