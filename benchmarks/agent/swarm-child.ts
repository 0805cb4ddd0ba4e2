/**
 * One side of `swarm.1000-agents` alone in a fresh process, for its peak RSS over one round (in the
 * suite's own process the side that runs second would carry the first one's heap). Usage:
 * `swarm-child.ts swarm|baseline <baseURL> <count> <threads>`; prints one JSON line.
 */
import { ActorSystem } from '@apiary/runtime';
import { baselineSide, swarmSide, withPeakRss } from './swarm.ts';

const [side, baseURL, count, threads] = process.argv.slice(2);
if ((side !== 'swarm' && side !== 'baseline') || baseURL === undefined) throw new Error('usage: swarm-child.ts swarm|baseline <baseURL> <count> <threads>');
const n = Number(count);
const system = side === 'swarm' ? await ActorSystem.start({ threads: Number(threads) }) : null;
const measured = await withPeakRss(async () => {
  const round = system === null ? baselineSide(baseURL, n) : await swarmSide(system, baseURL, n);
  await round(); // one round, cold, for both sides alike
});
await system?.stop();
process.stdout.write(`${JSON.stringify({ side, peakRssMb: measured.peakRssMb })}\n`);
