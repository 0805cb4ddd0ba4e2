/**
 * Behaviors of the examples. Worker threads import this module by URL, so it stands alone.
 */
import { defineBehavior, type DeferredReply } from '@apiary/runtime';
import type { TaskReport } from '@apiary/agent';

/** What a demo worker understands. */
export type WorkerMsg =
  | { readonly type: 'task'; readonly id: number }
  | { readonly type: 'status' }
  | { readonly type: 'fail' }
  | { readonly type: 'crash-thread' };

/** A worker's answer to `status` (and to every task). */
export interface WorkerStatus {
  readonly name: string;
  readonly thread: number;
  readonly tasksDone: number;
}

/** A worker that counts the tasks it did; `fail` throws, `crash-thread` kills its whole thread. */
export const worker = defineBehavior(import.meta.url, 'worker', {
  setup: (props: { name: string }) => ({ name: props.name, tasksDone: 0 }),
  async receive(state, msg: WorkerMsg, ctx): Promise<WorkerStatus> {
    switch (msg.type) {
      case 'task':
        // Pretend to work asynchronously (a model call would be here), without blocking the thread.
        await new Promise<void>((resolve) => setImmediate(resolve));
        state.tasksDone++;
        break;
      case 'status':
        break;
      case 'fail':
        throw new Error(`${state.name} failed on purpose`);
      case 'crash-thread':
        // Simulates a native crash or a fatal bug outside any actor: the whole thread goes.
        process.exit(1);
    }
    return { name: state.name, thread: ctx.thread, tasksDone: state.tasksDone };
  },
});

/** Prints the reports of tasks given it as `replyTo` (embedded-app example); `next` answers with the next one. */
export const reportPrinter = defineBehavior(import.meta.url, 'reportPrinter', {
  setup: () => ({ seen: [] as TaskReport[], waiting: [] as DeferredReply<TaskReport>[] }),
  receive(state, msg: TaskReport | { readonly type: 'next' }, ctx): DeferredReply<TaskReport> | TaskReport | undefined {
    if (msg.type === 'next') {
      const seen = state.seen.shift();
      if (seen !== undefined) return seen;
      const reply = ctx.deferReply<TaskReport>();
      state.waiting.push(reply);
      return reply;
    }
    const what = msg.type === 'task-done' ? (msg.result.status === 'completed' ? msg.result.answer : msg.result.status) : `failed: ${msg.error.message}`;
    console.log(`  report for ${msg.taskId} from ${msg.agent}: ${what}`);
    const waiter = state.waiting.shift();
    if (waiter === undefined) state.seen.push(msg);
    else waiter.resolve(msg);
    return undefined;
  },
});
