/** The tool of the `agent` suite (loaded by URL on the runtime's threads). */
import { z } from 'zod';
import { defineTool } from '@apiary/agent';

export const add = defineTool(import.meta.url, 'add', {
  name: 'add',
  description: 'Adds two numbers',
  parameters: z.object({ a: z.number(), b: z.number() }),
  handler: ({ a, b }) => a + b,
});
