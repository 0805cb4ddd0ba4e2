/**
 * Entry of every worker thread: one ActorHost linked to the main thread, and the host's control API
 * (heartbeat, counters) exposed over comlink on a separate port, away from the message hot path.
 */
import { workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { comlinkEndpoint } from './comlink-endpoint.js';
import { ActorHost } from './host.js';
import type { HostControl, HostWorkerData } from './protocol.js';
import { MessagePortTransport } from './transport.js';

const data = workerData as HostWorkerData;
const host = new ActorHost(data.thread, { maxBatch: data.maxBatch, blockingCell: data.blocking, nativeCell: data.native });
host.attach(0, new MessagePortTransport(data.data));

const control: HostControl = {
  ping: () => Date.now(),
  stats: (ids) => host.stats(ids),
  hostStats: () => host.hostStats(),
};
Comlink.expose(control, comlinkEndpoint(data.control));
