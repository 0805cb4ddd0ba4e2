// The baselines: a raw worker with one persistent listener per port, no framework.
//   parentPort: one payload per postMessage (or an array of them for the batched baseline), counted;
//               'sync' answers the count.
//   workerData.echo: a MessagePort that sends every message straight back (round-trip baseline).
import { parentPort, workerData } from 'node:worker_threads';

let count = 0;
parentPort.on('message', (msg) => {
  if (msg === 'sync') parentPort.postMessage(count);
  else if (Array.isArray(msg)) count += msg.length;
  else count++;
});

const echo = workerData.echo;
echo.on('message', (msg) => echo.postMessage(msg));
