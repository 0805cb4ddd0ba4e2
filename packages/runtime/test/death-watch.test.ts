import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DeathWatch } from '../src/death-watch.ts';
import type { Envelope } from '../src/protocol.ts';
import { makeRef } from '../src/ref.ts';
import { Entry, EntryIndex } from '../src/registry.ts';
import type { WireChild } from '../src/spec.ts';

const wire: WireChild = {
  name: '',
  behavior: { kind: 'apiary.behavior-ref', module: 'file:///x.js', exportName: 'x' },
  props: undefined,
  placement: 'main',
  capacity: 10,
  overflow: 'reject',
  tags: [],
  restart: 'permanent',
  shutdownTimeoutMs: 1,
  startTimeoutMs: 1,
};

function setup() {
  const index = new EntryIndex();
  const sent: Envelope[] = [];
  const watch = new DeathWatch(index, (_thread, env) => sent.push(env));
  const entry = (id: string) => {
    const e = new Entry(makeRef(id, `/${id}`, 0), wire, null);
    index.add(e);
    return e;
  };
  return { index, sent, watch, entry };
}

test('a watcher that stops is taken off the lists of everything it watched (no leak)', () => {
  const { sent, watch, entry } = setup();
  const a = entry('A');
  const b = entry('B');
  const c = entry('C');
  watch.watch('A', 'B', true);
  watch.watch('A', 'C', true);
  assert.is(watch.size, 2);
  watch.terminated(a, { type: 'terminated', ref: a.ref, reason: 'normal' });
  assert.is(b.watchers?.has('A') ?? false, false);
  assert.is(c.watchers?.has('A') ?? false, false);
  assert.is(watch.size, 0);
  assert.is(sent.length, 0); // nobody watched A
});

test('the watchers of a target that stops get Terminated once, and are forgotten', () => {
  const { sent, watch, entry } = setup();
  entry('A');
  const b = entry('B');
  watch.watch('A', 'B', true);
  watch.terminated(b, { type: 'terminated', ref: b.ref, reason: 'failed', error: 'boom' });
  assert.is(sent.length, 1);
  assert.equal(sent[0], { t: 'sig', to: 'A', sig: { type: 'terminated', ref: b.ref, reason: 'failed', error: 'boom' } });
  assert.is(watch.size, 0);
});

test('unwatch cancels, and watching an unknown actor answers not-found at once', () => {
  const { sent, watch, entry } = setup();
  entry('A');
  const b = entry('B');
  watch.watch('A', 'B', true);
  watch.watch('A', 'B', false);
  assert.is(watch.size, 0);
  watch.terminated(b, { type: 'terminated', ref: b.ref, reason: 'normal' });
  assert.is(sent.length, 0);
  watch.watch('A', 'nobody', true);
  assert.is(sent.length, 1);
  assert.is((sent[0] as { sig: { reason: string } }).sig.reason, 'not-found');
});

test.run();
