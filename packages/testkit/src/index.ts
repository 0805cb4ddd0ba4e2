/**
 * @apiary/testkit: what Apiary's tests share. A manual clock, event probes that wait with a bound,
 * and a thread-free behavior harness.
 */
export { ManualClock, flushMicrotasks } from './manual-clock.js';
export { waitForEvent, waitForEvents, recordEvents, within, eventually, ProbeTimeoutError } from './probes.js';
export { BehaviorHarness } from './behavior-harness.js';

export type { EventSource } from './probes.js';
export type { HarnessOptions, Outgoing } from './behavior-harness.js';
