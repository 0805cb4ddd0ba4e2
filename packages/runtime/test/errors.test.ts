import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ActorFailedError,
  ApiaryError,
  AskTimeoutError,
  ErrorCodes,
  MailboxFullError,
  deserializeError,
  serializeError,
  toError,
} from '../src/index.ts';

test('an Apiary error survives serialization with its class, code, data and cause', () => {
  const original = new ActorFailedError('/a', new MailboxFullError('/b', 3));
  const copy = deserializeError(structuredClone(serializeError(original)));
  assert.instance(copy, ActorFailedError);
  assert.instance(copy, ApiaryError);
  assert.is(copy.name, 'ActorFailedError');
  assert.is((copy as ActorFailedError).code, ErrorCodes.ACTOR_FAILED);
  assert.equal((copy as ActorFailedError).data, { target: '/a' });
  assert.instance(copy.cause, MailboxFullError);
  assert.is((copy.cause as MailboxFullError).data.capacity, 3);
});

test('a foreign error keeps its name, message and code; a thrown non-error becomes an Error', () => {
  const sys = Object.assign(new TypeError('nope'), { code: 'ERR_SOMETHING' });
  const copy = deserializeError(serializeError(sys));
  assert.is(copy.name, 'TypeError');
  assert.is(copy.message, 'nope');
  assert.is((copy as Error & { code: string }).code, 'ERR_SOMETHING');
  assert.is(toError('plain string').message, 'plain string');
  assert.match(toError({ a: 1 }).message, /non-error thrown: \{"a":1\}/);
});

test('name equals the class name for every error class', () => {
  assert.is(new AskTimeoutError('/x', 5).name, 'AskTimeoutError');
});

test('the README error table lists every code the runtime defines', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const documented = new Set([...readme.matchAll(/\|\s*`(APIARY_ERR_[A-Z_]+)`\s*\|/g)].map((m) => m[1]));
  for (const code of Object.values(ErrorCodes)) assert.ok(documented.has(code), `${code} is not documented`);
  // Rows for codes of other packages are checked by those packages' tests.
});

test.run();
