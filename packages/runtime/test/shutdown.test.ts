import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ActorSystem, ErrorCodes } from '../src/index.ts';
import { counter } from './fixtures/behaviors.ts';

test('after system.stop() the process exits by itself: no leaked threads, ports or timers', async () => {
  const script = fileURLToPath(new URL('./fixtures/lifecycle-script.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | string>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('hung: the process did not exit within 20 s of starting');
    }, 20_000);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c ?? -1);
    });
  });
  assert.is(code, 0, out);
  assert.match(out, /stopped \/s/);
});

test('stop() is idempotent, and the system refuses work afterwards with SystemStoppedError', async () => {
  const system = await ActorSystem.start({ threads: 1 });
  const c = await system.spawn(counter);
  await Promise.all([system.stop(), system.stop()]);
  assert.is((await system.whenTerminated()).reason, 'stopped');
  assert.throws(() => system.tell(c, { type: 'inc' }), (e: { code: string }) => e.code === ErrorCodes.SYSTEM_STOPPED);
  const askError = await system.ask(c, { type: 'get' }).catch((e: { code: string }) => e.code);
  assert.is(askError, ErrorCodes.SYSTEM_STOPPED);
});

test('an actor whose postStop never finishes is dropped after its shutdown timeout', async () => {
  const { stuck } = await import('./fixtures/behaviors.ts');
  const system = await ActorSystem.start({ threads: 0 });
  const ref = await system.spawn(stuck, { shutdownTimeoutMs: 50 });
  const terminated = system.watch(ref);
  await system.stop(ref);
  assert.is((await terminated).reason, 'killed');
  await system.stop();
});

test.run();
