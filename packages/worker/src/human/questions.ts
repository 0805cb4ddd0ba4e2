import { z } from 'zod';
import { InvalidArgumentError } from '@apiary/runtime';

/** A JSON Schema, as zod's `z.toJSONSchema` makes it (what a structured question carries across threads). */
export type JsonSchema = Readonly<Record<string, unknown>>;

/** What a worker can ask a person. */
export type Question =
  /** Free text. */
  | { readonly kind: 'text'; readonly prompt: string; readonly maxLength?: number }
  /** One of `options`. */
  | { readonly kind: 'choice'; readonly prompt: string; readonly options: readonly string[] }
  /** Yes or no. */
  | { readonly kind: 'confirm'; readonly prompt: string }
  /** A value that fits `schema` (JSON Schema; build it with `z.toJSONSchema`). */
  | { readonly kind: 'structured'; readonly prompt: string; readonly schema: JsonSchema }
  /** May this tool call run? Approve it, reject it (the reason goes back to the model), or edit its arguments. */
  | { readonly kind: 'approval'; readonly prompt: string; readonly tool: string; readonly arguments: unknown; readonly schema: JsonSchema };

/** A person's answer; its kind must match the question's. */
export type Answer =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'choice'; readonly choice: string }
  | { readonly kind: 'confirm'; readonly confirmed: boolean }
  | { readonly kind: 'structured'; readonly value: unknown }
  | { readonly kind: 'approval'; readonly decision: 'approve' }
  | { readonly kind: 'approval'; readonly decision: 'reject'; readonly reason: string }
  | { readonly kind: 'approval'; readonly decision: 'edit'; readonly arguments: unknown };

/** Checks a question at the boundary (before anyone is asked it). */
export function validateQuestion(question: unknown): Question {
  const q = question as Partial<Question> | null;
  if (typeof q !== 'object' || q === null) throw new InvalidArgumentError('question', 'must be an object');
  if (typeof q.prompt !== 'string' || q.prompt.trim().length === 0) throw new InvalidArgumentError('question.prompt', 'must be a non-empty string');
  switch (q.kind) {
    case 'text':
      if (q.maxLength !== undefined && !(Number.isInteger(q.maxLength) && q.maxLength > 0)) throw new InvalidArgumentError('question.maxLength', 'must be an integer > 0');
      return q as Question;
    case 'choice': {
      const options = (q as { options?: unknown }).options;
      if (!Array.isArray(options) || options.length < 2 || !options.every((o) => typeof o === 'string' && o.length > 0) || new Set(options).size !== options.length) {
        throw new InvalidArgumentError('question.options', 'must be at least two distinct non-empty strings');
      }
      return q as Question;
    }
    case 'confirm':
      return q as Question;
    case 'structured':
    case 'approval': {
      const schema = (q as { schema?: unknown }).schema;
      if (typeof schema !== 'object' || schema === null) throw new InvalidArgumentError('question.schema', 'must be a JSON Schema object');
      try {
        z.fromJSONSchema(schema as Record<string, unknown>);
      } catch (error) {
        throw new InvalidArgumentError('question.schema', `is not a usable JSON Schema (${(error as Error).message})`);
      }
      if (q.kind === 'approval' && typeof (q as { tool?: unknown }).tool !== 'string') throw new InvalidArgumentError('question.tool', 'must be the tool name');
      return q as Question;
    }
    default:
      throw new InvalidArgumentError('question.kind', "must be 'text', 'choice', 'confirm', 'structured' or 'approval'");
  }
}

/** The verdict on an answer: the answer as it will be delivered, or why it does not fit. */
export type Checked = { readonly ok: true; readonly answer: Answer } | { readonly ok: false; readonly problem: string };

/**
 * Checks an answer against its question. A bad answer gets a clear problem and the request stays
 * open (the person can try again); a good one comes back normalised (trimmed text, parsed values).
 */
export function checkAnswer(question: Question, answer: unknown): Checked {
  const a = answer as { kind?: unknown } | null;
  if (typeof a !== 'object' || a === null) return { ok: false, problem: 'the answer must be an object with a kind' };
  if (a.kind !== question.kind) return { ok: false, problem: `this question wants a '${question.kind}' answer, not '${String(a.kind)}'` };
  switch (question.kind) {
    case 'text': {
      const text = (a as { text?: unknown }).text;
      if (typeof text !== 'string' || text.trim().length === 0) return { ok: false, problem: 'text must be a non-empty string' };
      if (question.maxLength !== undefined && text.length > question.maxLength) return { ok: false, problem: `text must be at most ${question.maxLength} characters` };
      return { ok: true, answer: { kind: 'text', text: text.trim() } };
    }
    case 'choice': {
      const choice = (a as { choice?: unknown }).choice;
      if (typeof choice !== 'string' || !question.options.includes(choice)) return { ok: false, problem: `choice must be one of: ${question.options.join(', ')}` };
      return { ok: true, answer: { kind: 'choice', choice } };
    }
    case 'confirm': {
      const confirmed = (a as { confirmed?: unknown }).confirmed;
      if (typeof confirmed !== 'boolean') return { ok: false, problem: 'confirmed must be true or false' };
      return { ok: true, answer: { kind: 'confirm', confirmed } };
    }
    case 'structured': {
      const parsed = z.fromJSONSchema(question.schema as Record<string, unknown>).safeParse((a as { value?: unknown }).value);
      if (!parsed.success) return { ok: false, problem: z.prettifyError(parsed.error) };
      return { ok: true, answer: { kind: 'structured', value: parsed.data } };
    }
    case 'approval': {
      const d = a as { decision?: unknown; reason?: unknown; arguments?: unknown };
      if (d.decision === 'approve') return { ok: true, answer: { kind: 'approval', decision: 'approve' } };
      if (d.decision === 'reject') {
        if (typeof d.reason !== 'string' || d.reason.trim().length === 0) return { ok: false, problem: 'a rejection needs a reason (it goes back to the model)' };
        return { ok: true, answer: { kind: 'approval', decision: 'reject', reason: d.reason.trim() } };
      }
      if (d.decision === 'edit') {
        const parsed = z.fromJSONSchema(question.schema as Record<string, unknown>).safeParse(d.arguments);
        if (!parsed.success) return { ok: false, problem: `the edited arguments do not fit the tool: ${z.prettifyError(parsed.error)}` };
        return { ok: true, answer: { kind: 'approval', decision: 'edit', arguments: parsed.data } };
      }
      return { ok: false, problem: "decision must be 'approve', 'reject' or 'edit'" };
    }
  }
}
