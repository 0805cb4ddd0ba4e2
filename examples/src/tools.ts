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

/** A tool with a side effect a person must approve first (issue: worker level). */
export const sendEmail = defineTool(import.meta.url, 'sendEmail', {
  name: 'send_email',
  description: 'Sends an email to a customer',
  parameters: z.object({ to: z.string().email(), subject: z.string().min(1).max(120) }),
  requiresApproval: true,
  handler: ({ to, subject }) => `email "${subject}" sent to ${to}`,
});

/** A refund: money leaves, so a person approves each call. */
export const refund = defineTool(import.meta.url, 'refund', {
  name: 'refund',
  description: 'Refunds the customer',
  parameters: z.object({ amount: z.number().positive().max(500), reason: z.string().min(3) }),
  requiresApproval: true,
  handler: ({ amount, reason }) => `refunded ${amount} (${reason})`,
});
