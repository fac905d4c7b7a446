import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  ApplicationAutoScalingClient,
  DeleteScalingPolicyCommand,
  DeregisterScalableTargetCommand,
  DescribeScalableTargetsCommand,
  DescribeScalingActivitiesCommand,
  DescribeScalingPoliciesCommand,
  paginateDescribeScalingActivities,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
  type ScalingActivity,
} from '@aws-sdk/client-application-auto-scaling';
import { DescribeEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { deploySmallClassifier, startTestKennel, type TestKennel } from '../../testing/test-kennel.ts';
import { awsToolEnv, requireDebianTool, sdkFailure } from '../../testing/aws-tools.ts';

/**
 * Application Auto Scaling through the clients users have: @aws-sdk/client-application-auto-scaling,
 * Debian's boto3 and AWS CLI, against a real Kennel whose metric period is one second. The SDK
 * test drives traffic at an endpoint until the autoscaler adds an instance. Both Debian clients
 * come from apt (.ci/run installs them); a machine without them fails here, loudly.
 */
const run = promisify(execFile);
const root = fileURLToPath(new URL('../../..', import.meta.url));
const PYTHON = '/usr/bin/python3';
const AWS = '/usr/bin/aws';
const ENDPOINT = 'scaled';
const RESOURCE_ID = `endpoint/${ENDPOINT}/variant/AllTraffic`;
const TARGET = { ServiceNamespace: 'sagemaker', ResourceId: RESOURCE_ID, ScalableDimension: 'sagemaker:variant:DesiredInstanceCount' } as const;

describe('Application Auto Scaling through the SDK, boto3 and the AWS CLI', { timeout: 300_000 }, () => {
  let test: TestKennel;
  let client: ApplicationAutoScalingClient;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    requireDebianTool(PYTHON, 'python3-boto3');
    requireDebianTool(AWS, 'awscli');
    // One-second periods, and alarms of 2 and 3 datapoints: scaling within seconds.
    test = await startTestKennel({ autoscaling: { metricPeriodMs: 1_000, alarms: { scaleOutPeriods: 2, scaleInPeriods: 3 } } });
    await deploySmallClassifier(test, ENDPOINT);
    client = new ApplicationAutoScalingClient({ endpoint: test.url, region: 'us-east-1', credentials: test.credentials, maxAttempts: 1 });
    env = awsToolEnv(test, { ENDPOINT });
  });
  after(async () => {
    client?.destroy();
    await test?.close();
  });

  it('the SDK registers a target and a policy, and traffic scales the endpoint out, recorded as an activity', async () => {
    await client.send(new RegisterScalableTargetCommand({ ...TARGET, MinCapacity: 1, MaxCapacity: 2 }));
    const { ScalableTargets } = await client.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'sagemaker' }));
    assert.equal(ScalableTargets?.length, 1);
    assert.equal(ScalableTargets![0]!.MaxCapacity, 2);
    assert.ok(ScalableTargets![0]!.CreationTime instanceof Date);

    const put = await client.send(
      new PutScalingPolicyCommand({
        ...TARGET,
        PolicyName: 'sdk-invocations',
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: {
          TargetValue: 1,
          PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
          ScaleOutCooldown: 0,
          ScaleInCooldown: 600,
        },
      }),
    );
    assert.match(put.PolicyARN!, /^arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:.+:resource\/sagemaker\/endpoint\/scaled\/variant\/AllTraffic:policyName\/sdk-invocations$/);
    assert.equal(put.Alarms?.length, 2);
    const { ScalingPolicies } = await client.send(new DescribeScalingPoliciesCommand({ ServiceNamespace: 'sagemaker', ResourceId: RESOURCE_ID }));
    assert.equal(ScalingPolicies?.[0]?.TargetTrackingScalingPolicyConfiguration?.TargetValue, 1);

    // Requests one after another, far above one invocation per instance per second, until the second instance is healthy.
    const runtime = new SageMakerRuntimeClient({ endpoint: test.url, region: 'us-east-1', credentials: test.credentials });
    const testDir = join(test.home, 'toy-images', 'test');
    const classDir = join(testDir, (await readdir(testDir))[0]!);
    const image = await readFile(join(classDir, (await readdir(classDir))[0]!));
    let activity: ScalingActivity | undefined;
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && activity?.StatusCode !== 'Successful') {
      for (let i = 0; i < 5; i++) await runtime.send(new InvokeEndpointCommand({ EndpointName: ENDPOINT, ContentType: 'image/jpeg', Body: image }));
      const { ScalingActivities } = await client.send(new DescribeScalingActivitiesCommand({ ...TARGET }));
      activity = ScalingActivities?.[0];
    }
    runtime.destroy();
    assert.equal(activity?.StatusCode, 'Successful', JSON.stringify(activity));
    assert.equal(activity.Description, 'Setting desired instance count to 2.');
    assert.match(activity.Cause!, /AlarmHigh-.+ in state ALARM triggered policy sdk-invocations: the metric was above the target 1 for 2 datapoints/);
    assert.ok(activity.StartTime instanceof Date && activity.EndTime instanceof Date && activity.StartTime <= activity.EndTime);

    const sagemaker = new SageMakerClient({ endpoint: test.url, region: 'us-east-1', credentials: test.credentials });
    const endpoint = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: ENDPOINT }));
    sagemaker.destroy();
    assert.equal(endpoint.ProductionVariants?.[0]?.DesiredInstanceCount, 2);
    assert.equal(endpoint.ProductionVariants?.[0]?.CurrentInstanceCount, 2);

    const pages: ScalingActivity[] = [];
    for await (const page of paginateDescribeScalingActivities({ client, pageSize: 1 }, { ServiceNamespace: 'sagemaker' })) pages.push(...(page.ScalingActivities ?? []));
    assert.deepEqual(pages.map((a) => a.ActivityId), [activity.ActivityId]);

    const missing = await sdkFailure(client.send(new DeleteScalingPolicyCommand({ ...TARGET, PolicyName: 'never-put' })));
    assert.deepEqual([missing.name, missing.status], ['ObjectNotFoundException', 400]);
    const invalid = await sdkFailure(client.send(new RegisterScalableTargetCommand({ ...TARGET, ResourceId: 'endpoint/scaled', MinCapacity: 1, MaxCapacity: 2 })));
    assert.equal(invalid.name, 'ValidationException');
    assert.match(invalid.message, /endpoint\/<endpoint-name>\/variant\/<variant-name>/);

    await client.send(new DeregisterScalableTargetCommand({ ...TARGET }));
    assert.deepEqual((await client.send(new DescribeScalingPoliciesCommand({ ServiceNamespace: 'sagemaker' }))).ScalingPolicies, []);
  });

  it('boto3 drives every operation, its paginators and its error codes', async () => {
    const { stdout } = await run(PYTHON, [join(root, 'src/api/autoscaling/boto3-autoscaling.fixture.py')], { cwd: root, env, encoding: 'utf8', timeout: 120_000 });
    const found = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, any>;
    assert.match(String(found.botocore_path), /^\/usr\/lib\/python3\/dist-packages\//, "Debian's botocore");
    assert.match(found.policy_arn, /:resource\/sagemaker\/endpoint\/scaled\/variant\/AllTraffic:policyName\/boto3-invocations$/);
    assert.match(found.alarms[0], /^TargetTracking-endpoint\/scaled\/variant\/AllTraffic-AlarmHigh-/);
    assert.match(found.alarms[1], /^TargetTracking-endpoint\/scaled\/variant\/AllTraffic-AlarmLow-/);
    assert.deepEqual(found.targets, [{ ResourceId: RESOURCE_ID, MinCapacity: 1, MaxCapacity: 4 }]);
    assert.deepEqual(found.policy, {
      TargetValue: 70,
      PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
      ScaleOutCooldown: 30,
      ScaleInCooldown: 30,
      DisableScaleIn: false,
    });
    assert.equal(found.policy_created_is_datetime, true);
    // The SDK's activities went with its target; the autoscaler may have scaled the idle endpoint in since.
    assert.ok(found.activity_resources.every((resource: string) => resource === RESOURCE_ID), JSON.stringify(found.activity_resources));
    assert.ok(!found.activity_descriptions.includes('Setting desired instance count to 2.'), JSON.stringify(found.activity_descriptions));
    assert.equal(found.step_scaling.code, 'ValidationException');
    assert.match(found.step_scaling.message, /StepScaling is not supported/);
    assert.equal(found.bad_resource.code, 'ValidationException');
    assert.equal(found.missing_policy.code, 'ObjectNotFoundException');
    assert.equal(found.missing_target.code, 'ObjectNotFoundException');
  });

  it('the AWS CLI registers a target, puts a policy and describes activities', async () => {
    const aws = (...args: string[]) =>
      run(AWS, ['--endpoint-url', test.url, '--output', 'json', 'application-autoscaling', ...args], { env, encoding: 'utf8' }).then(
        ({ stdout }) => ({ code: 0, json: stdout.trim() === '' ? {} : (JSON.parse(stdout) as Record<string, any>), stderr: '' }),
        (error: { code: number; stderr: string }) => ({ code: error.code, json: {} as Record<string, any>, stderr: error.stderr }),
      );
    const target = ['--service-namespace', 'sagemaker', '--resource-id', RESOURCE_ID, '--scalable-dimension', 'sagemaker:variant:DesiredInstanceCount'];
    const registered = await aws('register-scalable-target', ...target, '--min-capacity', '1', '--max-capacity', '3');
    assert.equal(registered.code, 0, registered.stderr);
    const policy = await aws(
      'put-scaling-policy',
      ...target,
      '--policy-name',
      'cli-cpu',
      '--policy-type',
      'TargetTrackingScaling',
      '--target-tracking-scaling-policy-configuration',
      JSON.stringify({
        TargetValue: 70,
        CustomizedMetricSpecification: { MetricName: 'CPUUtilization', Namespace: '/aws/sagemaker/Endpoints', Statistic: 'Average' },
      }),
    );
    assert.equal(policy.code, 0, policy.stderr);
    assert.match(policy.json.PolicyARN, /policyName\/cli-cpu$/);
    const targets = await aws('describe-scalable-targets', '--service-namespace', 'sagemaker');
    assert.deepEqual(targets.json.ScalableTargets.map((t: { ResourceId: string }) => t.ResourceId), [RESOURCE_ID]);
    const activities = await aws('describe-scaling-activities', '--service-namespace', 'sagemaker', '--resource-id', RESOURCE_ID);
    assert.equal(activities.code, 0, activities.stderr);
    assert.ok(Array.isArray(activities.json.ScalingActivities));

    const namespace = await aws('describe-scalable-targets', '--service-namespace', 'ecs');
    assert.equal(namespace.code, 254);
    assert.match(namespace.stderr, /\(ValidationException\) when calling the DescribeScalableTargets operation: Unsupported service namespace ecs/);
    const missing = await aws('delete-scaling-policy', ...target, '--policy-name', 'nope');
    assert.match(missing.stderr, /\(ObjectNotFoundException\) when calling the DeleteScalingPolicy operation/);
    assert.equal((await aws('deregister-scalable-target', ...target)).code, 0);
  });
});
