// Plain JavaScript behaviors for the built-output smoke test (no tsx anywhere in this process).
import { defineBehavior } from '../dist/index.js';

export const tally = defineBehavior(import.meta.url, 'tally', {
  setup: (props) => ({ n: props?.start ?? 0 }),
  receive(state, msg, ctx) {
    if (msg === 'crash-thread') process.exit(7);
    if (msg === 'throw') throw new Error('thrown');
    if (msg === 'inc') state.n++;
    return { n: state.n, thread: ctx.thread };
  },
});
