import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TimelineRow } from '../domain/serving/load-timeline.ts';
import { deploySlowClassifier, deploySmallClassifier, startTestKennel, type TestKennel } from '../testing/test-kennel.ts';
import { runLoad, type LoadReport } from './load-runner.ts';
import { runKennelCli } from '../testing/kennel-cli.ts';

/**
 * `kennel load` against a real Kennel: every request due is accounted for in the summary and in
 * the timeline, and an endpoint whose queues are full is seen refusing (back-pressure), not failing.
 */

const sum = (rows: TimelineRow[], count: (row: TimelineRow) => number) => rows.reduce((total, row) => total + count(row), 0);
const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** The summary and the rows say the same, and every request due is in exactly one bucket. */
function assertAccounted(report: Pick<LoadReport, 'summary' | 'rows'>, due: number): void {
  const { summary, rows } = report;
  assert.equal(summary.scheduled, due);
  assert.equal(summary.answeredOk + summary.backPressure.total + summary.failures.total + summary.clientSkipped, due, JSON.stringify(summary));
  assert.equal(summary.sent, due - summary.clientSkipped);
  assert.equal(sum(rows, (row) => row.offered), due, 'each request is offered in one row');
  assert.equal(sum(rows, (row) => row.ok), summary.answeredOk);
  assert.equal(sum(rows, (row) => total(row.backPressure)), summary.backPressure.total);
  assert.equal(sum(rows, (row) => total(row.failures)), summary.failures.total);
  assert.equal(sum(rows, (row) => row.clientSkipped), summary.clientSkipped);
}

describe('kennel load', { timeout: 600_000 }, () => {
  let test: TestKennel;
  const kennel = (...args: string[]) => runKennelCli(test, args, 120_000);

  before(async () => {
    test = await startTestKennel();
    await deploySmallClassifier(test, 'toy');
  });
  after(async () => test?.close());

  it('answers all of a short steady load, and the timeline accounts for every request', async () => {
    const out = join(test.home, 'steady');
    const result = await kennel('load', 'toy', '--shape', 'steady', '--rps', '5', '--duration', '2s', '--interval', '500ms', '--out', out, '--json');
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout) as Omit<LoadReport, 'rows'> & { files: string[] };
    assert.equal(summary.summary.answeredOk, 10, JSON.stringify(summary.summary));
    assert.equal(summary.summary.backPressure.total, 0);
    assert.equal(summary.summary.failures.total, 0);
    assert.ok(summary.summary.latency && summary.summary.latency.p99Ms >= summary.summary.latency.p50Ms);
    assert.deepEqual(summary.summary.maxInstances, { AllTraffic: 1 });
    assert.deepEqual(summary.files, [join(out, 'timeline.json'), join(out, 'timeline.html')]);
    assert.match(result.stderr, /OFFERED +ACHIEVED/, 'the live table goes to stderr when stdout is JSON');

    const timeline = JSON.parse(await readFile(join(out, 'timeline.json'), 'utf8')) as LoadReport;
    assertAccounted(timeline, 10);
    assert.deepEqual(timeline.summary, summary.summary);
    assert.ok(timeline.rows.length >= 4, 'rows of half a second over two seconds');
    assert.equal(timeline.rows[0].offeredRps, 6, 'three requests due in the first half second: at 0, 0.2 and 0.4 s');
    assert.ok(timeline.rows.every((row) => row.instances.AllTraffic === 1));
    const page = await readFile(join(out, 'timeline.html'), 'utf8');
    assert.match(page, /<title>Load on toy<\/title>/);
  });

  it('prints a line per interval and the summary', async () => {
    const result = await kennel('load', 'toy', '--rps', '4', '--duration', '1s');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Load on toy: steady 4 rps for 1s, rows of 1s, at most 256 in flight\n +TIME +OFFERED +ACHIEVED +P50 MS/);
    assert.match(result.stdout, /\n +1s +4\.0 +\d+\.\d/);
    assert.match(result.stdout, /Sent 4 of 4 requests due to toy/);
    assert.match(result.stdout, /answered OK +4\n/);
    assert.match(result.stdout, /back-pressure refusals +0\n/);
    assert.match(result.stdout, /max instances +AllTraffic 1/);
  });

  it('stops sending when asked, and reports what ran', async () => {
    const abort = new AbortController();
    const stopping = setTimeout(() => abort.abort(), 500);
    const report = await runLoad({ url: test.url, endpointName: 'toy', credentials: test.credentials, shape: { kind: 'steady', rps: 10, durationSeconds: 60 }, signal: abort.signal });
    clearTimeout(stopping);
    assert.equal(report.stoppedEarly, true);
    assert.ok(report.summary.scheduled >= 1 && report.summary.scheduled < 600, String(report.summary.scheduled));
    assertAccounted(report, report.summary.scheduled);
    assert.equal(report.summary.answeredOk, report.summary.scheduled);
  });

  it('refuses bad shapes, naming the flag, before sending anything', async () => {
    const shapeFile = join(test.home, 'shape.csv');
    await writeFile(shapeFile, 'seconds,rps\n0,2\n5,x\n');
    const cases: [string[], RegExp][] = [
      [['--shape', 'spike', '--rps', '4', '--duration', '10s'], /--shape spike needs --factor/],
      [['--shape', 'steady', '--rps', '4', '--factor', '2', '--duration', '10s'], /--factor does not apply to --shape steady, which takes --rps, --duration/],
      [['--shape', 'wave'], /--shape: "wave" is not a shape; use one of steady, ramp, spike, file/],
      [['--rps', 'ten', '--duration', '10s'], /--rps: "ten" is not a number/],
      [['--rps', '4', '--duration', '10 minutes'], /--duration: "10 minutes" is not a duration; write it like 90s/],
      [['--shape', 'spike', '--rps', '4', '--factor', '5', '--at', '20s', '--for', '30s', '--duration', '40s'], /--for: the spike \(from 20 s for 30 s\) must end within the run's 40 s/],
      [['--shape', 'file', '--file', shapeFile], /shape\.csv: line 3: expected two numbers "seconds,rps", got "5,x"/],
      [['--shape', 'file', '--file', join(test.home, 'missing.json')], /--file .*missing\.json: no such file/],
      [['--rps', '4', '--duration', '1s', '--image', join(test.home, 'nothing.jpg')], /--image .*nothing\.jpg: no such file/],
    ];
    for (const [args, message] of cases) {
      const result = await kennel('load', 'toy', ...args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    }
    const unknown = await kennel('load', 'no-such-endpoint', '--rps', '1', '--duration', '1s');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^kennel: Endpoint no-such-endpoint does not exist at http:\/\/127\.0\.0\.1:\d+: see `kennel endpoints list`\n$/);
  });

  describe('on an endpoint that cannot keep up', () => {
    let slow: TestKennel;
    before(async () => {
      // A backbone that takes about a third of a second per image, on one instance that holds 2 requests.
      slow = await startTestKennel({ limits: { maxRequestsPerInstance: 2 } });
      await deploySlowClassifier(slow, 'slow');
    });
    after(async () => slow?.close());

    it('counts the refusals of a full queue as back-pressure, apart from failures', async () => {
      const live: TimelineRow[] = [];
      const report = await runLoad({
        url: slow.url,
        endpointName: 'slow',
        credentials: slow.credentials,
        shape: { kind: 'steady', rps: 20, durationSeconds: 1 },
        intervalSeconds: 0.25,
        onInterval: (row) => live.push(row),
      });
      assertAccounted(report, 20);
      assertAccounted({ summary: report.summary, rows: live }, 20); // the lines printed as it ran say the same
      assert.equal(report.summary.failures.total, 0, JSON.stringify(report.summary.failures));
      assert.equal(report.summary.clientSkipped, 0);
      assert.ok(report.summary.backPressure.byCode.ServiceUnavailable > 0, 'the requests beyond the 2 queued were refused');
      assert.equal(report.summary.backPressure.total, report.summary.backPressure.byCode.ServiceUnavailable);
      assert.ok(report.summary.answeredOk >= 2, 'what the queue held was answered');
      assert.ok(report.summary.latency, 'latency of the answered requests');
      assert.deepEqual(report.summary.maxInstances, { AllTraffic: 1 });
    });

    it('skips what is due beyond --max-in-flight, and counts it', async () => {
      const report = await runLoad({
        url: slow.url,
        endpointName: 'slow',
        credentials: slow.credentials,
        shape: { kind: 'steady', rps: 20, durationSeconds: 1 },
        maxInFlight: 1,
      });
      assertAccounted(report, 20);
      assert.ok(report.summary.clientSkipped > 0, 'requests were due while one was outstanding');
      assert.equal(report.summary.backPressure.total, 0, 'one request at a time never fills the queue');
      assert.equal(report.summary.sent, report.summary.answeredOk);
    });
  });
});
