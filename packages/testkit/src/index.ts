/**
 * @apiary/testkit: what Apiary's tests share. A manual clock, event probes that wait with a bound,
 * a thread-free behavior harness, and seeded clustered vectors.
 */
export { ManualClock, flushMicrotasks } from './manual-clock.js';
export { waitForEvent, waitForEvents, recordEvents, within, eventually, ProbeTimeoutError } from './probes.js';
export { BehaviorHarness } from './behavior-harness.js';
export { clustered, topical, row } from './vectors.js';

export type { EventSource } from './probes.js';
export type { BlockingSection, HarnessOptions, Outgoing } from './behavior-harness.js';
