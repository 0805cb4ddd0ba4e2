import { isBehavior, type Behavior } from './behavior.js';
import { BehaviorLoadError } from './errors.js';

interface Definition {
  readonly module: string;
  readonly exportName: string;
  readonly key: string;
}

/**
 * Finds behaviors by number on one thread. The kernel numbers each behavior once per thread (a `def`
 * envelope), because module URLs are long and a spawn burst would otherwise carry one per actor.
 * Modules are imported once; a failed import may be retried by a later start.
 */
export class BehaviorLoader {
  readonly #defs = new Map<number, Definition>();
  readonly #behaviors = new Map<string, Behavior>();
  readonly #loading = new Map<string, Promise<Behavior>>();

  /** Records what behavior number `b` stands for on this thread. */
  define(b: number, module: string, exportName: string): void {
    this.#defs.set(b, { module, exportName, key: `${module}#${exportName}` });
  }

  /** Registers a behavior that is not imported from a module (the kernel's supervisor behavior). */
  register(module: string, exportName: string, behavior: Behavior): void {
    this.#behaviors.set(`${module}#${exportName}`, behavior);
  }

  /** The behavior if it is already loaded (the common, synchronous case), else undefined. */
  loaded(b: number): Behavior | undefined {
    const def = this.#defs.get(b);
    return def === undefined ? undefined : this.#behaviors.get(def.key);
  }

  /** Imports the behavior numbered `b`; rejects with BehaviorLoadError. */
  load(b: number): Promise<Behavior> {
    const def = this.#defs.get(b);
    if (def === undefined) return Promise.reject(new BehaviorLoadError('?', '?', `behavior #${b} was never defined on this thread`));
    const known = this.#behaviors.get(def.key);
    if (known !== undefined) return Promise.resolve(known);
    let loading = this.#loading.get(def.key);
    if (loading === undefined) {
      const { module, exportName, key } = def;
      loading = import(module).then(
        (mod: Record<string, unknown>) => {
          const behavior = mod[exportName];
          if (!isBehavior(behavior)) {
            throw new BehaviorLoadError(module, exportName, 'the export is missing or was not made by defineBehavior()');
          }
          this.#behaviors.set(key, behavior);
          return behavior;
        },
        (error: unknown) => {
          this.#loading.delete(key); // let a later start try again
          throw new BehaviorLoadError(module, exportName, 'import failed', error);
        },
      );
      this.#loading.set(def.key, loading);
    }
    return loading;
  }
}
