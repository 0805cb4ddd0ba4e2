// The baseline: a raw worker with one persistent listener, one postMessage per message.
import { parentPort } from 'node:worker_threads';

let count = 0;
parentPort.on('message', (msg) => {
  if (msg === 'sync') parentPort.postMessage(count);
  else if (msg.rtt === true) parentPort.postMessage(msg);
  else count++;
});
