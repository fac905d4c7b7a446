import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { buildTimeline, loadTotals, type RequestRecord } from '../domain/serving/load-timeline.ts';
import { loadPageData, loadTimelinePage } from './load-page.ts';
import type { LoadReport } from './load-runner.ts';

/**
 * The timeline.html `kennel load --out` writes, opened in a real browser (Debian's chromium,
 * which .ci/run installs; a machine without it fails here, loudly): its four charts must be drawn,
 * offline, from the data in the page.
 */
const CHROMIUM = '/usr/bin/chromium';
const run = promisify(execFile);

/** Four seconds of a spike: 5 rps, then 20 with refusals and a model error, then 5 again; a second instance from 2 s. */
function spikeReport(endpointName: string): LoadReport {
  const records: RequestRecord[] = [];
  for (let second = 0; second < 4; second++) {
    const rps = second === 1 || second === 2 ? 20 : 5;
    for (let i = 0; i < rps; i++) {
      const scheduledMs = second * 1000 + (i * 1000) / rps;
      const code = rps === 20 && i % 4 === 0 ? 'ServiceUnavailable' : second === 2 && i === 1 ? 'ModelError' : 'OK';
      const latencyMs = code === 'OK' ? 20 + (rps === 20 ? 80 : 0) + i : 2;
      records.push({ scheduledMs, completedMs: scheduledMs + latencyMs, latencyMs, code });
    }
  }
  const samples = [
    { atMs: 0, variants: { AllTraffic: 1 } },
    { atMs: 2100, variants: { AllTraffic: 2 } },
  ];
  return {
    endpointName,
    url: 'http://127.0.0.1:8080',
    shape: { kind: 'spike', rps: 5, factor: 4, atSeconds: 1, forSeconds: 2, durationSeconds: 4 },
    intervalSeconds: 1,
    maxInFlight: 256,
    startedAt: '2026-12-01T10:00:00.000Z',
    elapsedSeconds: 4.1,
    stoppedEarly: false,
    summary: loadTotals(records, samples),
    rows: buildTimeline(records, samples, { intervalMs: 1000, runMs: 4000 }),
    instancePollErrors: 0,
  };
}

describe('the load timeline page', () => {
  it('carries the rows as chart columns: throughput, latency, refusals apart from failures, instances', () => {
    const data = loadPageData(spikeReport('toy'));
    assert.deepEqual(data.seconds, [1, 2, 3, 4]);
    assert.deepEqual(data.offeredRps, [5, 20, 20, 5]);
    assert.equal(data.backPressureRps[1], 5);
    assert.equal(data.failureRps[2], 1);
    assert.deepEqual(data.instances, [{ variant: 'AllTraffic', counts: [1, 1, 2, 2] }]);
  });

  describe('in a browser', () => {
    let dir: string;
    before(async () => {
      assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install chromium (apt-get install chromium); .ci/run does`);
      dir = await mkdtemp(join(tmpdir(), 'kennel-load-page-'));
    });
    after(() => rm(dir, { recursive: true, force: true }));

    it('draws the four charts with the bundled library, and names stay text', async () => {
      const file = join(dir, 'timeline.html');
      await writeFile(file, loadTimelinePage(spikeReport('</script><b>x</b>')));
      const { stdout } = await run(
        CHROMIUM,
        ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${join(dir, 'profile')}`, '--virtual-time-budget=5000', '--dump-dom', pathToFileURL(file).href],
        { encoding: 'utf8', timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      );
      // uPlot replaces each chart's placeholder with its own element and a canvas: only a script that ran does that.
      assert.equal(stdout.match(/<div class="uplot[^"]*"/g)?.length, 4, 'four charts drawn');
      assert.equal(stdout.match(/<canvas /g)?.length, 4);
      for (const label of ['offered', 'achieved (OK)', 'p99', 'back-pressure', 'failures', 'AllTraffic']) assert.ok(stdout.includes(`>${label}<`), `legend ${label}`);
      assert.ok(!stdout.includes('<b>x</b>'), 'an endpoint name is shown as text, never parsed as HTML');
      assert.match(stdout, /ServiceUnavailable 10/);
    });
  });
});
