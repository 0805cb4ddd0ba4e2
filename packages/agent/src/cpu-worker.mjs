// Piscina worker for CPU-bound tools. Plain JavaScript on purpose (Node 20 cannot start a worker
// from a .ts entry): it registers tsx when the agent runs from TypeScript sources, then imports the
// tool's module by URL and runs its handler.
import { workerData } from 'piscina';

if (workerData?.tsx === true) {
  const { register } = await import('tsx/esm/api');
  register();
}

export default async function runCpuTool({ module, exportName, args, callId }) {
  const mod = await import(module);
  const tool = mod[exportName];
  if (tool === null || typeof tool !== 'object' || tool.kind !== 'apiary.tool') {
    throw new Error(`${exportName} in ${module} is not a tool made by defineTool()`);
  }
  // Cancellation of a CPU tool is the pool terminating this thread; the signal never fires here.
  return await tool.handler(args, { signal: new AbortController().signal, callId });
}
