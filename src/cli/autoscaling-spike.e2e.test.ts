import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AWS_ALARMS } from '../domain/serving/target-tracking.ts';
import { deploySmallClassifier, startTestKennel, type TestKennel } from '../testing/test-kennel.ts';
import { KennelClient } from './client.ts';
import { watchEndpoint } from './endpoint-watch.ts';
import { runLoad, type LoadReport } from './load-runner.ts';

/**
 * The reference scenario, time-scaled: an endpoint with min 1 and max 5 instances, a
 * target-tracking policy on invocations per instance, and a 5× spike from the load tool.
 * One-second metric periods stand for CloudWatch's minutes and AWS's own alarms are kept
 * (3 periods above target to scale out, 15 below 90% of it to scale in), so what takes
 * AWS a quarter of an hour takes this test under a minute; the 30 s cooldowns become 3 s.
 */
const ENDPOINT = 'spiky';
const RESOURCE_ID = `endpoint/${ENDPOINT}/variant/AllTraffic`;
const TARGET = { ServiceNamespace: 'sagemaker', ResourceId: RESOURCE_ID, ScalableDimension: 'sagemaker:variant:DesiredInstanceCount' };
/**
 * Invocations per instance per period: 3 rps on one instance sits below it, and 15 rps asks for
 * ceil(15 / 3.2) = 5 instances. Periods of a loaded machine count a little under 15 at times;
 * down to 12.8 still asks for 5.
 */
const TARGET_VALUE = 3.2;

interface Activity {
  Description: string;
  Cause: string;
  StatusCode: string;
  StartTime: number;
  EndTime?: number;
}

describe('autoscaling absorbs a 5× spike', { timeout: 240_000 }, () => {
  let test: TestKennel;
  let client: KennelClient;
  let report: LoadReport;
  let activities: Activity[];
  let watched = '';

  before(async () => {
    test = await startTestKennel({ autoscaling: { metricPeriodMs: 1000, alarms: AWS_ALARMS } });
    await deploySmallClassifier(test, ENDPOINT);
    client = new KennelClient(test.url, test.credentials);
    await client.applicationAutoScaling('RegisterScalableTarget', { ...TARGET, MinCapacity: 1, MaxCapacity: 5 });
    await client.applicationAutoScaling('PutScalingPolicy', {
      ...TARGET,
      PolicyName: 'invocations',
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: TARGET_VALUE,
        PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
        ScaleInCooldown: 3,
        ScaleOutCooldown: 3,
      },
    });
    // `kennel endpoints watch` looks on during the spike, as a user would.
    const screen = { isTTY: false, write: (text: string) => ((watched += text), true) } as unknown as NodeJS.WriteStream;
    const watching = new Promise((resolve) => setTimeout(resolve, 8000)).then(() => watchEndpoint(client, ENDPOINT, { intervalMs: 4000, rounds: 2, out: screen }));
    report = await runLoad({
      url: test.url,
      endpointName: ENDPOINT,
      credentials: test.credentials,
      shape: { kind: 'spike', rps: 3, factor: 5, atSeconds: 4, forSeconds: 12, durationSeconds: 40 },
    });
    await watching;
    // The scale-in may still be draining its last instances when the load ends.
    for (let waited = 0; test.kennel.platform.instances.count(ENDPOINT) > 1 && waited < 30_000; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const answer = await client.applicationAutoScaling<{ ScalingActivities: Activity[] }>('DescribeScalingActivities', { ServiceNamespace: 'sagemaker', ResourceId: RESOURCE_ID });
    activities = [...answer.ScalingActivities].reverse();
  });
  after(() => test?.close());

  it('answers every request, apart from counted back-pressure', () => {
    const { summary } = report;
    assert.equal(summary.failures.total, 0, JSON.stringify(summary.failures.byCode));
    assert.equal(summary.clientSkipped, 0);
    assert.equal(summary.sent, summary.answeredOk + summary.backPressure.total, 'every request sent was answered or refused with back-pressure');
    assert.ok(summary.sent > 250, `${summary.sent} requests`);
  });

  it('scales out to 5 during the spike and back to 1 after it, as DescribeScalingActivities records', () => {
    const described = activities.map((activity) => `${activity.Description} ${activity.StatusCode}`);
    const counts = activities.map((activity) => Number(/count to (\d+)\./.exec(activity.Description)?.[1]));
    // Target tracking may take a second step when a period of the spike counted short: 4, then 5.
    const peak = counts.indexOf(5);
    assert.ok(peak === 0 || (peak === 1 && counts[0] === 4), `one step to 5, or 4 then 5: ${described.join('; ')}`);
    assert.equal(described.at(-1), 'Setting desired instance count to 1. Successful', described.join('; '));
    assert.match(activities[0].Cause, /above the target 3\.2 for 3 datapoints/);
    assert.match(activities.at(-1)!.Cause, /below 2\.88 \(90% of the target 3\.2\) for 15 datapoints/);
    const loadStart = Date.parse(report.startedAt) / 1000;
    assert.ok(activities[0].StartTime >= loadStart + 4, 'the scale-out came after the spike began');
    assert.ok(activities.at(-1)!.StartTime >= loadStart + 16, 'the scale-in came after the spike ended');
    for (const activity of activities) assert.equal(activity.StatusCode, 'Successful', `${activity.Description}: ${activity.StatusCode}`);
    assert.equal(test.kennel.platform.instances.count(ENDPOINT), 1);
  });

  it('shows the spike and the scale-out in kennel endpoints watch', () => {
    const screens = watched.split(/^(?=spiky {2})/m);
    assert.equal(screens.length, 2, watched);
    const last = screens.at(-1)!;
    assert.match(last, /^spiky {2}(InService|Updating)/);
    const row = last.split('\n').find((line) => line.startsWith('AllTraffic'));
    assert.ok(row, last);
    const rate = Number(row.split(/\s+/)[3]);
    assert.ok(rate > 8, `about 15 requests/s during the spike: ${row}`);
    assert.match(last, /Setting desired instance count to 5\./);
  });

  it('shows the instances rise and fall in the load timeline', () => {
    const counts = report.rows.map((row) => row.instances.AllTraffic ?? 0);
    assert.equal(report.summary.maxInstances.AllTraffic, 5);
    const peak = counts.indexOf(5);
    assert.ok(peak > 4, `5 instances only after the spike began: ${counts.join(' ')}`);
    assert.equal(counts[0], 1, counts.join(' '));
    assert.ok(counts.slice(peak).includes(1), `and back to 1 by the end: ${counts.join(' ')}`);
  });
});
