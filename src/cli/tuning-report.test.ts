import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rankTrials, renderTuningReport, type TuningReport, type TuningTrial } from './tuning-report.ts';

function trial(number: number, final: number | undefined, curve: number[], extra: Partial<TuningTrial> = {}): TuningTrial {
  return {
    number,
    trainingJobName: `dog-breeds-hpo-${String(number).padStart(3, '0')}-5f1c2a9e`,
    status: final === undefined ? 'Failed' : 'Completed',
    hyperParameters: { learning_rate: String(0.001 * (number + 1)), hidden_units: String(64 * (number + 1)) },
    ...(final === undefined ? {} : { final }),
    curve,
    ...extra,
  };
}

function report(trials: TuningTrial[], type: 'Minimize' | 'Maximize' = 'Minimize'): TuningReport {
  return {
    name: 'dog-breeds-hpo',
    status: 'Completed',
    strategy: 'Bayesian',
    objective: { type, metricName: 'validation:loss' },
    maxNumberOfTrainingJobs: 6,
    maxParallelTrainingJobs: 2,
    counters: { Completed: 4, InProgress: 0, RetryableError: 0, NonRetryableError: 1, Stopped: 1 },
    trials,
  };
}

/** Six trials: 4 is best when minimising, 2 when maximising; 3 failed without a value. */
const SIX = report([
  trial(0, 0.912, [1.6, 1.2, 1.0, 0.95, 0.912]),
  trial(1, 0.634, [1.4, 0.98, 0.8, 0.7, 0.634]),
  trial(2, 1.31, [1.9, 1.5, 1.31], { status: 'Stopped', earlyStopped: true }),
  trial(3, undefined, [2.3, NaN], { failureReason: 'AlgorithmError: the loss diverged at epoch 2' }),
  trial(4, 0.571, [1.45, 1.0, 0.79, 0.66, 0.571]),
  trial(5, 0.602, [1.5, 1.1, 0.86, 0.7, 0.602]),
]);

const plain = (r: TuningReport, width = 100) => renderTuningReport(r, { width, color: false });

/** The four sections: header, ranking, objective chart, learning curves. */
function sections(text: string): { header: string; ranking: string; objective: string; curves: string } {
  const [header, ranking, objective, curves] = text.split('\n\n');
  assert.ok(curves !== undefined, `expected four sections in:\n${text}`);
  return { header, ranking, objective, curves };
}

/** The TRIAL column of the ranking table, top to bottom. */
function rankedTrialNumbers(text: string): number[] {
  const lines = sections(text).ranking.split('\n');
  const headerLine = lines.findIndex((line) => line.includes('TRAINING JOB'));
  const rows = lines.slice(headerLine + 1).filter((line) => /^\s+(★\s+)?(\d+|-)\s+\d+\s/.test(line));
  return rows.map((line) => Number(line.replace('★', '').trim().split(/\s+/)[1]));
}

describe('renderTuningReport', () => {
  it('ranks the trials lowest first when minimising, trials without a value last in trial order', () => {
    assert.deepEqual(rankedTrialNumbers(plain(SIX)), [4, 5, 1, 0, 2, 3]);
    assert.deepEqual(
      rankTrials(SIX).map((t) => t.number),
      [4, 5, 1, 0, 2, 3],
    );
  });

  it('ranks the trials highest first when maximising', () => {
    assert.deepEqual(rankedTrialNumbers(plain({ ...SIX, objective: { type: 'Maximize', metricName: 'validation:accuracy' } })), [2, 0, 1, 5, 4, 3]);
  });

  it('ranks NaN and infinite objectives with the trials that have no value, whichever the direction', () => {
    const odd = report([trial(0, 0.5, []), trial(1, NaN, []), trial(2, Infinity, []), trial(3, 0.4, []), trial(4, -Infinity, [])]);
    assert.deepEqual(rankedTrialNumbers(plain(odd)), [3, 0, 1, 2, 4]);
    assert.deepEqual(rankedTrialNumbers(plain({ ...odd, objective: { type: 'Maximize', metricName: 'validation:loss' } })), [0, 3, 1, 2, 4]);
  });

  it('marks the best trial, and only it, in the table and the chart', () => {
    const { ranking, objective } = sections(plain(SIX));
    const marked = ranking.split('\n').filter((line) => line.includes('★'));
    assert.equal(marked.length, 1);
    assert.match(marked[0], /dog-breeds-hpo-004-5f1c2a9e\s+Completed\s+0\.571/);
    assert.equal([...objective].filter((c) => c === '★').length, 2, 'one ★ point and one in the legend');
    assert.match(objective, /best: trial 4, 0\.571/);
  });

  it('shows early-stopped trials, the failure reasons and every tuned hyperparameter', () => {
    const { ranking } = sections(plain(SIX, 120));
    assert.match(ranking, /dog-breeds-hpo-002-5f1c2a9e\s+Stopped \(early\)\s+1\.31\s+0\.003\s+192/);
    assert.match(ranking, /learning_rate\s+hidden_units/);
    assert.match(ranking, /trial 3 \(dog-breeds-hpo-003-5f1c2a9e\): AlgorithmError: the loss diverged at epoch 2/);
  });

  it('draws a point for each trial with a value in the objective chart', () => {
    const { objective } = sections(plain(SIX));
    const chart = objective.split('\n').slice(1, -1).join('\n');
    // Five trials have a value: four ● and the best one's ★.
    assert.equal([...chart].filter((c) => c === '●').length, 4);
    assert.equal([...chart].filter((c) => c === '★').length, 1);
    assert.match(chart, /━/, 'the best-so-far line');
  });

  it('draws the learning curves of the three best trials, each in its own line style, with a legend', () => {
    const { curves } = sections(plain(SIX));
    const lines = curves.split('\n');
    const legend = lines.filter((line) => /^ {2}\S #\d/.test(line));
    assert.deepEqual(
      legend.map((line) => line.trim().split(/\s+/).slice(0, 4).join(' ')),
      ['━ #1 trial 4:', '═ #2 trial 5:', '╌ #3 trial 1:'],
    );
    const chart = lines.slice(1, -legend.length).join('\n');
    for (const glyph of ['━', '═', '╌']) assert.ok(chart.includes(glyph), `no ${glyph} series in\n${chart}`);
  });

  it('keeps every line within the width, down to 60 columns, with colour or without', () => {
    const crowded = report(
      SIX.trials.map((t) => ({
        ...t,
        trainingJobName: `${t.trainingJobName}-with-a-very-long-suffix-that-goes-on`,
        hyperParameters: { ...t.hyperParameters, optimizer: 'adam-with-decoupled-weight-decay', dropout: '0.25', batch_size: '128' },
      })),
    );
    crowded.failureReason = `ResourceLimitExceeded: ${'x'.repeat(150)} and then a few more words to wrap`;
    crowded.name = 'n'.repeat(90);
    for (const width of [60, 61, 72, 80, 100, 132]) {
      for (const color of [false, true]) {
        const text = renderTuningReport(crowded, { width, color });
        for (const line of text.split('\n')) {
          const visible = [...line.replace(/\x1b\[[0-9;]*m/g, '')];
          assert.ok(visible.length <= width, `width ${width}, colour ${color}: ${visible.length} columns: ${line}`);
        }
      }
    }
  });

  it('names the hyperparameters left out for lack of width', () => {
    const { ranking } = sections(plain(SIX, 60));
    assert.match(ranking, /not shown for lack of width: .*hidden_units/);
    assert.match(ranking, /OBJECTIVE/);
  });

  it('writes no ANSI codes when colour is off, and some when it is on', () => {
    assert.doesNotMatch(plain(SIX), /\x1b/);
    assert.match(renderTuningReport(SIX, { width: 100, color: true }), /\x1b\[/);
  });

  it('describes the job in the header', () => {
    const { header } = sections(plain({ ...SIX, status: 'Failed', failureReason: 'every trial failed' }));
    assert.match(header, /^Tuning job dog-breeds-hpo: Failed/);
    assert.match(header, /strategy\s+Bayesian/);
    assert.match(header, /objective\s+minimize validation:loss/);
    assert.match(header, /trials\s+6 \/ 6 done, up to 2 in parallel/);
    assert.match(header, /4 completed, 0 in progress, 1 stopped, 1 non-retryable error, 0 retryable errors/);
    assert.match(header, /failure\s+every trial failed/);
  });

  it('renders a job with no trials yet', () => {
    const text = plain({ ...report([]), status: 'InProgress' });
    const { ranking, objective, curves } = sections(text);
    assert.match(ranking, /no trials yet/);
    assert.match(objective, /no trial has reported validation:loss yet/);
    assert.match(curves, /no trial has reported validation:loss per epoch yet/);
  });

  it('renders one trial, trials without curves, flat values and values that are not numbers', () => {
    const cases: [string, TuningReport, RegExp][] = [
      ['one trial', report([trial(0, 0.5, [0.9, 0.7, 0.5])]), /#1 trial 0: 0\.5/],
      ['one epoch', report([trial(0, 0.5, [0.5])]), /#1 trial 0: 0\.5/],
      ['no curves', report([trial(0, 0.5, []), trial(1, 0.4, [])]), /no trial has reported validation:loss per epoch yet/],
      ['flat', report([trial(0, 0.5, [0.5, 0.5]), trial(1, 0.5, [0.5, 0.5]), trial(2, 0.5, [0.5])]), /#3 trial 2: 0\.5/],
      ['all NaN', report([trial(0, NaN, [NaN, Infinity]), trial(1, Infinity, [])]), /no trial has reported validation:loss per epoch yet/],
      ['NaN epochs', report([trial(0, 0.5, [NaN, 0.8, Infinity, 0.5])]), /#1 trial 0: 0\.5/],
      ['huge values', report([trial(0, 1e12, [3e12, 1e12]), trial(1, -2e-9, [1, -2e-9])]), /#1 trial 1: -2\.00e-9/],
    ];
    for (const [name, r, expected] of cases) {
      for (const width of [60, 100]) {
        const text = plain(r, width);
        assert.match(sections(text).curves, expected, name);
        for (const line of text.split('\n')) assert.ok([...line].length <= width, `${name} at ${width}: ${line}`);
      }
    }
    const { objective } = sections(plain(report([trial(0, NaN, [])])));
    assert.match(objective, /no trial has reported validation:loss yet/);
  });
});
