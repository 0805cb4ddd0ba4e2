import { ActorSystem, supervisor, type ActorRef } from '../src/index.ts';
import { waitForEvents } from '@apiary/testkit';
import { counter } from './fixtures/behaviors.ts';
const system = await ActorSystem.start({ threads: 2 });
system.events.on('event', (e) => console.log('EV', e.type, 'ref' in e ? e.ref.path : ''));
try {
const sup = await system.spawn(supervisor({ strategy: 'one-for-one', intensity: 100, periodMs: 60000, backoff: false,
  children: ['a','b','c'].map((n) => ({ name: n, behavior: counter, restart: 'permanent' as const, props: { start: 0 } })) }), { name: 'x' });
const b = system.registry.get('/x/b') as ActorRef<any, any>;
console.log(await system.ask(b, { type: 'inc' }));
const r = waitForEvents(system.events, 'actor-restarted', 1, (e) => e.ref.id === b.id, 3000);
system.tell(b, { type: 'crash' });
await r;
console.log('restarted', await system.ask(b, { type: 'get' }));
console.log(await system.whichChildren(sup));
} catch (e) { console.log('ERR', e); }
await system.stop();
