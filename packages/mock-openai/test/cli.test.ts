import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

test('the CLI prints its base URL, serves the API, and stops on SIGTERM', async () => {
  const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', cli, '--port', '0', '--latency-ms', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const baseURL = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no base URL printed: ${out}`)), 15_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  });
  const models = (await (await fetch(`${baseURL}/models`)).json()) as { data: { id: string }[] };
  assert.ok(models.data.some((m) => m.id === 'apiary-mock'));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  assert.is(await exited, 0);
  assert.match(out, /stopped \(SIGTERM\)/);
});

test.run();
