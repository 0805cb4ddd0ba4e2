import type { HumanOutcome, HumanRequest } from './human/requests.js';
import type { WorkerStatus } from './tracking/tracker.js';

/**
 * The worker level's events, added to the one event bus of `@apiary/runtime`: human input requests
 * opening and settling (channels listen to these), and worker status changes.
 */
declare module '@apiary/runtime' {
  interface ApiaryEventMap {
    'human-request-opened': { type: 'human-request-opened'; time: number; request: HumanRequest };
    'human-request-settled': { type: 'human-request-settled'; time: number; request: HumanRequest; outcome: HumanOutcome };
    /** A worker's status changed (see WorkerTracker). */
    'worker-status': { type: 'worker-status'; time: number; worker: string; name: string; path: string; status: WorkerStatus; previous: WorkerStatus['kind'] | null };
    'human-answer-rejected': { type: 'human-answer-rejected'; time: number; id: string; channel: string; problem: string };
    /** A settled request could not be handed to its asker for 60 s (it stopped for good, or its thread stayed down). */
    'human-settled-undelivered': { type: 'human-settled-undelivered'; time: number; request: HumanRequest; to: string; error: string };
  }
}

export {};
