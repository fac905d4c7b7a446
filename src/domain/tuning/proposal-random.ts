import { deriveSeed, seededRandom, type Random } from '../../core/random.ts';

/**
 * The random stream for one proposal: derived from the tuning job's RandomSeed and the trial's
 * number alone, so a proposal does not depend on how many numbers earlier proposals drew, and a
 * job that restarts proposes again exactly what it would have.
 */
export function proposalRandom(seed: number, trialNumber: number): Random {
  return seededRandom(deriveSeed(seed, `proposal:${trialNumber}`));
}
