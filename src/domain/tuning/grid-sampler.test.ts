import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../core/random.ts';
import { gridSampler } from './grid-sampler.ts';
import { gridSize } from './ranges.ts';
import type { ParameterValues, SearchSpace, TrialRecord } from './search-space.ts';

const space: SearchSpace = [
  { kind: 'Categorical', name: 'batch_size', values: ['32', '64', '128'] },
  { kind: 'Categorical', name: 'optimizer', values: ['adam', 'sgd'] },
  { kind: 'Categorical', name: 'dropout', values: ['0.1', '0.5'] },
];

const trial = (number: number, params: ParameterValues, state: TrialRecord['state'] = 'complete'): TrialRecord => ({
  number,
  params,
  state,
  intermediate: [],
  ...(state === 'complete' ? { value: number } : {}),
});

/** Proposes until the sampler has nothing left, each proposal joining the history as a running trial would. */
function runGrid(history: TrialRecord[] = []): ParameterValues[] {
  const sampler = gridSampler();
  const proposed: ParameterValues[] = [];
  for (;;) {
    const proposal = sampler.propose(space, history, 'Minimize', seededRandom(history.length));
    if (proposal === undefined) return proposed;
    proposed.push(proposal);
    history = [...history, trial(history.length, proposal, 'running')];
  }
}

const key = (params: ParameterValues) => JSON.stringify(space.map((range) => params[range.name]));

describe('gridSampler', () => {
  it('proposes every combination exactly once, then nothing', () => {
    const proposed = runGrid();
    assert.equal(proposed.length, gridSize(space));
    assert.equal(new Set(proposed.map(key)).size, 12);
    for (const proposal of proposed) {
      for (const range of space) assert.ok(range.kind === 'Categorical' && range.values.includes(proposal[range.name] as string));
    }
  });

  it('goes through the grid in a fixed order, the first range slowest, whatever the random stream', () => {
    const proposed = runGrid();
    assert.deepEqual(proposed.slice(0, 5), [
      { batch_size: '32', optimizer: 'adam', dropout: '0.1' },
      { batch_size: '32', optimizer: 'adam', dropout: '0.5' },
      { batch_size: '32', optimizer: 'sgd', dropout: '0.1' },
      { batch_size: '32', optimizer: 'sgd', dropout: '0.5' },
      { batch_size: '64', optimizer: 'adam', dropout: '0.1' },
    ]);
    assert.deepEqual(proposed.at(-1), { batch_size: '128', optimizer: 'sgd', dropout: '0.5' });
    assert.deepEqual(runGrid(), proposed);
  });

  it('skips the combinations already in the history, read from their values, in any state and order', () => {
    const done = [
      trial(7, { batch_size: '128', optimizer: 'sgd', dropout: '0.5' }, 'failed'),
      trial(3, { batch_size: '32', optimizer: 'adam', dropout: '0.1' }),
      trial(5, { batch_size: '64', optimizer: 'sgd', dropout: '0.1' }, 'pruned'),
      trial(9, { batch_size: '32', optimizer: 'adam', dropout: '0.5' }, 'running'),
    ];
    const rest = runGrid(done);
    assert.equal(rest.length, 8);
    const all = new Set([...done.map((t) => key(t.params)), ...rest.map(key)]);
    assert.equal(all.size, 12);
    assert.deepEqual(rest[0], { batch_size: '32', optimizer: 'sgd', dropout: '0.1' });
  });

  it('a restarted job carries on where it stopped, with no combination twice', () => {
    const uninterrupted = runGrid();
    const firstFive = uninterrupted.slice(0, 5).map((params, number) => trial(number, params));
    assert.deepEqual(runGrid(firstFive), uninterrupted.slice(5));
  });

  it('does not count a trial without a value for every range as a combination tried', () => {
    assert.equal(runGrid([trial(-1, { batch_size: '32', optimizer: 'adam' })]).length, 12);
  });

  it('has nothing to propose once the whole grid is in the history', () => {
    const full = runGrid().map((params, number) => trial(number, params));
    assert.equal(gridSampler().propose(space, full, 'Minimize', seededRandom(1)), undefined);
  });
});
