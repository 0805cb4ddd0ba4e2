// The `agent` suite's raw worker: the bare `openai` SDK on a plain worker thread, asked by raw
// postMessage. It shows what a thread hop costs with no runtime in the way.
import { parentPort, workerData } from 'node:worker_threads';
import OpenAI from 'openai';

const sdk = new OpenAI({ apiKey: 'unused', baseURL: workerData.baseURL, maxRetries: 0 });
parentPort.on('message', async (id) => {
  const r = await sdk.chat.completions.create({ model: 'apiary-mock', messages: [{ role: 'user', content: 'hello' }] });
  parentPort.postMessage({ id, ok: r.choices[0]?.message.content != null });
});
