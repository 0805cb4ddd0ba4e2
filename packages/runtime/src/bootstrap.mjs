// Worker-thread bootstrap, plain JavaScript on purpose: on Node 20 a worker whose entry is a .ts
// file fails even under `--import tsx` (ERR_UNKNOWN_FILE_EXTENSION). So every worker starts here,
// registers tsx when the runtime runs from TypeScript sources, then imports the real entry.
import { workerData } from 'node:worker_threads';

if (workerData.tsx) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(workerData.entry);
