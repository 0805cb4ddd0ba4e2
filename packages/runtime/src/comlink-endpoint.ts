import type { MessagePort } from 'node:worker_threads';
import type * as Comlink from 'comlink';

type Listener = Parameters<Comlink.Endpoint['addEventListener']>[1];

/**
 * Adapts a worker_threads MessagePort to comlink's Endpoint (DOM-style `addEventListener` with
 * `event.data`), keeping the listener mapping so removeEventListener works.
 */
export function comlinkEndpoint(port: MessagePort): Comlink.Endpoint {
  const wrapped = new Map<Listener, (data: unknown) => void>();
  return {
    postMessage(message: unknown, transfer?: readonly unknown[]) {
      port.postMessage(message, transfer as never);
    },
    addEventListener(_type: string, listener: Listener) {
      const fn = (data: unknown): void => {
        const event = { data } as MessageEvent;
        if (typeof listener === 'function') listener(event);
        else listener.handleEvent(event);
      };
      wrapped.set(listener, fn);
      port.on('message', fn);
    },
    removeEventListener(_type: string, listener: Listener) {
      const fn = wrapped.get(listener);
      if (fn !== undefined) {
        port.off('message', fn);
        wrapped.delete(listener);
      }
    },
    start() {
      port.start();
    },
  };
}
