/**
 * A host's view of which event types the system's bus (on the main thread) has listeners for, so
 * that actors build no event nobody reads. A worker thread learns it from `interest` envelopes; until
 * the first one arrives everything counts as wanted, so that no event is lost to a race at start-up.
 * The main thread asks the bus itself.
 */
export class EventInterestView {
  #all = true;
  #types = new Set<string>();
  #source: ((type: string) => boolean) | null = null;

  /** Whether anyone listens to events of `type`. */
  wants(type: string): boolean {
    if (this.#source !== null) return this.#source(type);
    return this.#all || this.#types.has(type);
  }

  /** Main thread only: answer from the bus itself. */
  setSource(source: (type: string) => boolean): void {
    this.#source = source;
  }

  /** What the main thread last said: everything, or these types. */
  update(all: boolean, types: readonly string[]): void {
    this.#all = all;
    this.#types = new Set(types);
  }
}
