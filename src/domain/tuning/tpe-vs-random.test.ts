import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomSampler } from './random-sampler.ts';
import { strategyFor } from './strategies.ts';
import { BRANIN, HARTMANN6, NOISY_QUADRATIC, bestFound } from './test-functions.ts';

const BUDGET = 40;
const SEEDS = Array.from({ length: 20 }, (_, seed) => seed);

/** Bayesian must earn its name: with the same budget, TPE finds a better optimum than Random on average over seeds. */
test(`Bayesian (TPE) beats Random on standard functions, ${BUDGET} trials, mean over ${SEEDS.length} seeds`, (t) => {
  const rows: string[] = [];
  for (const fn of [BRANIN, HARTMANN6, NOISY_QUADRATIC]) {
    const tpe = SEEDS.map((seed) => bestFound(fn, strategyFor('Bayesian', { maxNumberOfTrainingJobs: BUDGET }).sampler, BUDGET, seed));
    const random = SEEDS.map((seed) => bestFound(fn, randomSampler(), BUDGET, seed));
    const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
    const wins = tpe.filter((value, i) => value < random[i]).length;
    rows.push(
      `${fn.name.padEnd(30)} ${mean(tpe).toFixed(4).padStart(10)} ${mean(random).toFixed(4).padStart(10)} ${String(fn.minimum).padStart(9)} ${`${wins}/${SEEDS.length}`.padStart(6)}`,
    );
    assert.ok(mean(tpe) < mean(random), `${fn.name}: TPE ${mean(tpe)} is not better than Random ${mean(random)}`);
  }
  t.diagnostic(`${'function'.padEnd(30)} ${'TPE'.padStart(10)} ${'Random'.padStart(10)} ${'optimum'.padStart(9)} ${'wins'.padStart(6)}`);
  for (const row of rows) t.diagnostic(row);
  t.diagnostic(`mean best objective of ${BUDGET} trials (minimised), seeds 0-${SEEDS.length - 1}; wins: seeds where TPE found the better best`);
});
