import type { Behavior } from './behavior.js';
import { InvalidArgumentError, toError } from './errors.js';
import { ErrorReply } from './error-reply.js';
import type { Kernel } from './kernel.js';
import type { ActorRef } from './ref.js';
import type { ActorStatus } from './registry.js';
import { isSupervisorOp, type SupervisorOp } from './spec.js';

/** Pseudo module URL under which the supervisor behavior is registered on the main thread. */
export const SUPERVISOR_MODULE = 'apiary:supervisor';
/** Export name of the supervisor behavior. */
export const SUPERVISOR_EXPORT = 'supervisor';

/** One row of `whichChildren` (OTP's which_children). */
export interface ChildInfo {
  readonly name: string;
  readonly ref: ActorRef;
  readonly status: ActorStatus;
  readonly supervisor: boolean;
  readonly restarts: number;
}

/**
 * The behavior of every supervisor actor. Supervisors live on the main thread, next to the kernel,
 * so a crashing worker thread never takes a supervisor with it. Failure handling itself runs in the
 * kernel; this actor answers the requests anyone can `ask` it from any thread.
 */
export function createSupervisorBehavior(kernel: Kernel): Behavior<{ id: string }, SupervisorOp, { id: string }, unknown> {
  return Object.freeze({
    kind: 'apiary.behavior' as const,
    module: SUPERVISOR_MODULE,
    exportName: SUPERVISOR_EXPORT,
    setup: (props: { id: string }) => ({ id: props.id }),
    receive(state: { id: string }, message: SupervisorOp): unknown {
      if (!isSupervisorOp(message)) {
        return new ErrorReply(new InvalidArgumentError('message', 'a supervisor accepts supervisor operations only'));
      }
      const self = kernel.index.byId.get(state.id);
      if (self === undefined) return new ErrorReply(new InvalidArgumentError('supervisor', 'is not registered'));
      switch (message.op) {
        case 'start-child':
          return kernel.startChild(self.ref, message.spec).catch((error: unknown) => new ErrorReply(toError(error)));
        case 'terminate-child': {
          const child = self.children?.get(message.name);
          if (child === undefined) return new ErrorReply(new InvalidArgumentError('name', `no child named ${message.name}`));
          return kernel.stop(child.ref).then(
            () => undefined,
            (error: unknown) => new ErrorReply(toError(error)),
          );
        }
        case 'which-children':
          return [...(self.children?.values() ?? [])].map(
            (c): ChildInfo => ({ name: c.name, ref: c.ref, status: c.status, supervisor: c.isSupervisor, restarts: c.restarts }),
          );
        default: {
          const never: never = message;
          return new ErrorReply(new InvalidArgumentError('message', `unknown supervisor operation ${JSON.stringify(never)}`));
        }
      }
    },
  });
}
