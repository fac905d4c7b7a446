import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { tuningReportPage } from './tuning-plot.ts';
import type { TuningReport } from './tuning-report.ts';

/**
 * The page `tuning-jobs describe --plot` writes, opened in a real browser
 * (Debian's chromium, which .ci/run installs; a machine without it fails here,
 * loudly): its charts must be drawn, offline, from the data in the page.
 */
const CHROMIUM = '/usr/bin/chromium';
const run = promisify(execFile);

const report: TuningReport = {
  name: 'browser-hpo',
  status: 'Completed',
  strategy: 'Bayesian',
  objective: { type: 'Minimize', metricName: 'validation:loss' },
  maxNumberOfTrainingJobs: 4,
  maxParallelTrainingJobs: 2,
  counters: { Completed: 3, InProgress: 0, RetryableError: 0, NonRetryableError: 0, Stopped: 1 },
  trials: [
    { number: 1, trainingJobName: 'browser-hpo-001-aaaaaaaa', status: 'Completed', hyperParameters: { learning_rate: '0.01' }, final: 0.4, curve: [1.2, 0.7, 0.4] },
    { number: 2, trainingJobName: 'browser-hpo-002-bbbbbbbb', status: 'Completed', hyperParameters: { learning_rate: '0.1' }, final: 0.9, curve: [1.1, 1.0, 0.9] },
    { number: 3, trainingJobName: 'browser-hpo-003-cccccccc', status: 'Stopped', hyperParameters: { learning_rate: '0.001' }, final: 1.3, curve: [1.5, 1.3], earlyStopped: true },
    { number: 4, trainingJobName: 'browser-hpo-004-dddddddd', status: 'Completed', hyperParameters: { learning_rate: '</script><b>x</b>' }, final: 0.5, curve: [1.0, 0.6, 0.5] },
  ],
};

describe('the tuning report page in a browser', () => {
  let dir: string;
  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install chromium (apt-get install chromium); .ci/run does`);
    dir = await mkdtemp(join(tmpdir(), 'kennel-plot-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('draws both charts with the bundled library, and user text stays text', async () => {
    const file = join(dir, 'report.html');
    await writeFile(file, tuningReportPage(report));
    const { stdout } = await run(
      CHROMIUM,
      ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${join(dir, 'profile')}`, '--virtual-time-budget=5000', '--dump-dom', pathToFileURL(file).href],
      { encoding: 'utf8', timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
    );
    // uPlot replaces each chart's placeholder with its own element and a canvas: only a script that ran does that.
    assert.equal(stdout.match(/<div class="uplot[^"]*"/g)?.length, 2, 'two charts drawn');
    assert.equal(stdout.match(/<canvas /g)?.length, 2);
    assert.ok(!stdout.includes('<b>x</b>'), 'a hyperparameter value is shown as text, never parsed as HTML');
    assert.ok(stdout.includes('browser-hpo-001-aaaaaaaa'));
  });
});
