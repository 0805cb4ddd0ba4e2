/** Tools of the demo's agents. Worker threads import this module by URL. */
import { z } from 'zod';
import { defineTool } from '@apiary/agent';

export const add = defineTool(import.meta.url, 'add', {
  name: 'add',
  description: 'Adds two numbers and returns the sum',
  parameters: z.object({ a: z.number(), b: z.number() }),
  handler: ({ a, b }) => a + b,
});

export const wordCount = defineTool(import.meta.url, 'wordCount', {
  name: 'word_count',
  description: 'Counts the words of a text',
  parameters: z.object({ text: z.string() }),
  handler: ({ text }) => text.trim().split(/\s+/).filter(Boolean).length,
});
