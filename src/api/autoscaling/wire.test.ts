import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { silentLogger } from '../../core/logger.ts';
import { provisionAdmin, type TestCredentials } from '../../testing/iam-fixtures.ts';
import { createPlatform, type Platform } from '../../control/platform.ts';
import type { Endpoint } from '../../domain/serving/endpoint.ts';
import { createMemoryStore } from '../../store/memory/memory-store.ts';
import { expectationMismatch, mutationCases } from '../../testing/aws-conformance.ts';
import { testControlDeps } from '../../testing/control-deps.ts';
import { checkOutput } from '../aws/output-checker.ts';
import { loadServiceModel } from '../aws/service-model.ts';
import { createApp } from '../server.ts';

/**
 * Application Auto Scaling on its wire, in-process (app.request): every operation and its
 * errors, paging, and the signing name it answers to. The endpoints are records in a memory
 * store; nothing is loaded, as registering and describing need only the records.
 */
const model = loadServiceModel('application-autoscaling');
let KEY: TestCredentials;
const NS = 'sagemaker';
const DIMENSION = 'sagemaker:variant:DesiredInstanceCount';
const target = (endpoint = 'dogs', variant = 'AllTraffic') => ({ ServiceNamespace: NS, ResourceId: `endpoint/${endpoint}/variant/${variant}`, ScalableDimension: DIMENSION });
const invocations = (TargetValue = 100) => ({ TargetValue, PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' } });

function endpointRecord(name: string): Endpoint {
  return {
    name,
    endpointConfigName: name,
    productionVariants: [
      {
        variantName: 'AllTraffic',
        modelName: name,
        image: 'kennel/image-classifier:latest',
        instanceType: 'ml.m5.large',
        instanceCount: 1,
        weight: 1,
        backbone: {
          digest: 'a'.repeat(64),
          inputName: 'input',
          outputName: 'features',
          featureSize: 8,
          preprocessing: { resizeSize: 32, cropSize: 32, mean: [0, 0, 0], std: [1, 1, 1], layout: 'NCHW' },
        },
        artifacts: { headModel: 'b'.repeat(64), labels: 'c'.repeat(64) },
      },
    ],
    status: 'InService',
    tags: [],
    createdAtMs: 1,
    lastModifiedAtMs: 1,
  };
}

describe('Application Auto Scaling on the wire', () => {
  let dir: string;
  let platform: Platform;
  let app: ReturnType<typeof createApp>;

  const send = async (target: string, input: unknown, service = 'application-autoscaling') => {
    const body = JSON.stringify(input);
    const signer = new SignatureV4({ service, region: 'us-east-1', credentials: KEY, sha256: Hash.bind(null, 'sha256') });
    const signed = await signer.sign({
      method: 'POST',
      protocol: 'http:',
      hostname: 'localhost',
      path: '/',
      headers: { host: 'localhost', 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target },
      body,
    });
    const response = await app.request('http://localhost/', { method: 'POST', headers: signed.headers as Record<string, string>, body });
    return { status: response.status, type: response.headers.get('x-amzn-errortype') ?? '', body: (await response.json()) as Record<string, any> };
  };
  /** Calls the operation; a success is checked against the output shape of the service model. */
  const call = async (operation: string, input: unknown) => {
    const answer = await send(`AnyScaleFrontendService.${operation}`, input);
    if (answer.status === 200) assert.deepEqual(checkOutput(model, model.operations[operation]!.output!.shape, answer.body), [], operation);
    return answer;
  };
  const ok = async (operation: string, input: unknown) => {
    const answer = await call(operation, input);
    assert.equal(answer.status, 200, `${operation}: ${JSON.stringify(answer.body)}`);
    return answer.body;
  };
  const refused = async (operation: string, input: unknown, type: string, message: RegExp) => {
    const answer = await call(operation, input);
    assert.equal(answer.status, 400, JSON.stringify(answer.body));
    assert.equal(answer.type, type, JSON.stringify(answer.body));
    assert.match(String(answer.body.message), message);
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kennel-autoscaling-wire-'));
  });
  beforeEach(() => {
    const deps = testControlDeps(dir, createMemoryStore());
    for (const name of ['dogs', 'cats', 'birds']) deps.store.endpoints.create(endpointRecord(name));
    platform = createPlatform(deps);
    KEY = provisionAdmin(platform);
    app = createApp({ platform, clock: deps.clock, logger: silentLogger, lookupSecret: platform.credentials.lookup });
  });
  after(async () => {
    await platform?.deps.trainers.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('registers a target, describes it, and updates its bounds keeping what a new register omits', async () => {
    assert.deepEqual(await ok('RegisterScalableTarget', { ...target(), MinCapacity: 1, MaxCapacity: 4 }), {});
    const [described] = (await ok('DescribeScalableTargets', { ServiceNamespace: NS })).ScalableTargets;
    assert.equal(described.ResourceId, 'endpoint/dogs/variant/AllTraffic');
    assert.deepEqual([described.MinCapacity, described.MaxCapacity], [1, 4]);
    assert.match(described.RoleARN, /AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint$/);
    assert.equal(typeof described.CreationTime, 'number');
    assert.deepEqual(described.SuspendedState, { DynamicScalingInSuspended: false, DynamicScalingOutSuspended: false, ScheduledScalingSuspended: false });

    await ok('RegisterScalableTarget', { ...target(), MaxCapacity: 6, SuspendedState: { DynamicScalingInSuspended: true } });
    const [updated] = (await ok('DescribeScalableTargets', { ServiceNamespace: NS, ResourceIds: ['endpoint/dogs/variant/AllTraffic'] })).ScalableTargets;
    assert.deepEqual([updated.MinCapacity, updated.MaxCapacity, updated.CreationTime], [1, 6, described.CreationTime]);
    assert.equal(updated.SuspendedState.DynamicScalingInSuspended, true);
    await refused('RegisterScalableTarget', { ...target(), MinCapacity: 7 }, 'ValidationException', /Minimum capacity cannot be greater than maximum capacity/);
  });

  it('refuses what cannot be registered, saying what is supported', async () => {
    await refused('RegisterScalableTarget', { ...target(), MaxCapacity: 3 }, 'ValidationException', /MinCapacity and MaxCapacity are required/);
    await refused('RegisterScalableTarget', { ...target(), MinCapacity: 4, MaxCapacity: 2 }, 'ValidationException', /Minimum capacity cannot be greater than maximum capacity/);
    await refused('RegisterScalableTarget', { ...target('ghost'), MinCapacity: 1, MaxCapacity: 2 }, 'ValidationException', /endpoint ghost does not exist/);
    await refused('RegisterScalableTarget', { ...target('dogs', 'Canary'), MinCapacity: 1, MaxCapacity: 2 }, 'ValidationException', /has no variant Canary/);
    await refused(
      'RegisterScalableTarget',
      { ...target(), ResourceId: 'endpoint/dogs', MinCapacity: 1, MaxCapacity: 2 },
      'ValidationException',
      /Unsupported resource ID endpoint\/dogs: .*endpoint\/<endpoint-name>\/variant\/<variant-name>/,
    );
    await refused(
      'RegisterScalableTarget',
      { ...target(), ScalableDimension: 'ecs:service:DesiredCount', MinCapacity: 1, MaxCapacity: 2 },
      'ValidationException',
      /supported dimension is sagemaker:variant:DesiredInstanceCount/,
    );
    await refused(
      'RegisterScalableTarget',
      { ...target(), ServiceNamespace: 'ecs', MinCapacity: 1, MaxCapacity: 2 },
      'ValidationException',
      /Unsupported service namespace ecs: .*ServiceNamespace sagemaker/,
    );
    await refused('DescribeScalableTargets', { ServiceNamespace: 'ecs' }, 'ValidationException', /Unsupported service namespace ecs/);
    await refused('RegisterScalableTarget', { ServiceNamespace: NS, ScalableDimension: DIMENSION }, 'ValidationException', /resourceId/);
    assert.deepEqual((await ok('DescribeScalableTargets', { ServiceNamespace: NS })).ScalableTargets, []);
  });

  it('puts a target-tracking policy with ARN and alarms, describes it with AWS’s default cooldowns, and updates it in place', async () => {
    await ok('RegisterScalableTarget', { ...target(), MinCapacity: 1, MaxCapacity: 4 });
    const put = await ok('PutScalingPolicy', {
      ...target(),
      PolicyName: 'invocations',
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: invocations(),
    });
    const uuid = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
    assert.match(put.PolicyARN, new RegExp(`^arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:${uuid}:resource/sagemaker/endpoint/dogs/variant/AllTraffic:policyName/invocations$`));
    assert.equal(put.Alarms.length, 2);
    assert.match(put.Alarms[0].AlarmName, new RegExp(`^TargetTracking-endpoint/dogs/variant/AllTraffic-AlarmHigh-${uuid}$`));
    assert.match(put.Alarms[1].AlarmName, new RegExp(`^TargetTracking-endpoint/dogs/variant/AllTraffic-AlarmLow-${uuid}$`));
    assert.equal(put.Alarms[0].AlarmARN, `arn:aws:cloudwatch:us-east-1:000000000000:alarm:${put.Alarms[0].AlarmName}`);

    const [policy] = (await ok('DescribeScalingPolicies', { ServiceNamespace: NS, ResourceId: target().ResourceId })).ScalingPolicies;
    assert.equal(policy.PolicyARN, put.PolicyARN);
    assert.equal(policy.PolicyType, 'TargetTrackingScaling');
    assert.deepEqual(policy.TargetTrackingScalingPolicyConfiguration, { ...invocations(), ScaleOutCooldown: 300, ScaleInCooldown: 300, DisableScaleIn: false });
    assert.deepEqual(policy.Alarms, put.Alarms);

    const cpu = {
      TargetValue: 60,
      CustomizedMetricSpecification: {
        MetricName: 'CPUUtilization',
        Namespace: '/aws/sagemaker/Endpoints',
        Dimensions: [
          { Name: 'EndpointName', Value: 'dogs' },
          { Name: 'VariantName', Value: 'AllTraffic' },
        ],
        Statistic: 'Average',
        Unit: 'Percent',
      },
      ScaleOutCooldown: 30,
      ScaleInCooldown: 60,
      DisableScaleIn: true,
    };
    const again = await ok('PutScalingPolicy', { ...target(), PolicyName: 'invocations', PolicyType: 'TargetTrackingScaling', TargetTrackingScalingPolicyConfiguration: cpu });
    assert.equal(again.PolicyARN, put.PolicyARN, 'the same name on the same target updates the policy');
    const [replaced] = (await ok('DescribeScalingPolicies', { ServiceNamespace: NS, PolicyNames: ['invocations'] })).ScalingPolicies;
    assert.deepEqual(replaced.TargetTrackingScalingPolicyConfiguration, cpu);
  });

  it('refuses policies Kennel cannot track, and policies for targets never registered', async () => {
    await ok('RegisterScalableTarget', { ...target(), MinCapacity: 1, MaxCapacity: 4 });
    const policy = (patch: Record<string, unknown>) => ({ ...target(), PolicyName: 'p', PolicyType: 'TargetTrackingScaling', TargetTrackingScalingPolicyConfiguration: invocations(), ...patch });
    await refused('PutScalingPolicy', policy({ PolicyType: 'StepScaling' }), 'ValidationException', /PolicyType StepScaling is not supported.*TargetTrackingScaling/);
    await refused('PutScalingPolicy', policy({ PolicyType: undefined }), 'ValidationException', /StepScaling \(the default when PolicyType is omitted\) is not supported/);
    await refused('PutScalingPolicy', policy({ TargetTrackingScalingPolicyConfiguration: undefined }), 'ValidationException', /TargetTrackingScalingPolicyConfiguration is required/);
    await refused(
      'PutScalingPolicy',
      policy({ TargetTrackingScalingPolicyConfiguration: { TargetValue: 50, PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' } } }),
      'ValidationException',
      /PredefinedMetricType ECSServiceAverageCPUUtilization is not supported.*SageMakerVariantInvocationsPerInstance/,
    );
    await refused(
      'PutScalingPolicy',
      policy({ TargetTrackingScalingPolicyConfiguration: { TargetValue: 50, CustomizedMetricSpecification: { MetricName: 'MemoryUtilization', Namespace: '/aws/sagemaker/Endpoints', Statistic: 'Average' } } }),
      'ValidationException',
      /is not supported.*CPUUtilization in namespace \/aws\/sagemaker\/Endpoints/,
    );
    await refused('PutScalingPolicy', policy({ TargetTrackingScalingPolicyConfiguration: { TargetValue: 10 } }), 'ValidationException', /exactly one of/);
    await refused('PutScalingPolicy', policy({ TargetTrackingScalingPolicyConfiguration: invocations(0) }), 'ValidationException', /TargetValue must be a number greater than 0/);
    await refused('PutScalingPolicy', policy({ ...target('cats') }), 'ObjectNotFoundException', /No scalable target registered for service namespace: sagemaker, resource ID: endpoint\/cats\/variant\/AllTraffic/);
    await refused('PutScalingPolicy', policy({ ResourceId: 'endpoint/dogs/AllTraffic' }), 'ValidationException', /Unsupported resource ID/);
    assert.deepEqual((await ok('DescribeScalingPolicies', { ServiceNamespace: NS })).ScalingPolicies, []);
  });

  it('deletes policies, and a deregistered target takes its policies with it', async () => {
    await ok('RegisterScalableTarget', { ...target(), MinCapacity: 1, MaxCapacity: 4 });
    for (const PolicyName of ['a', 'b']) {
      await ok('PutScalingPolicy', { ...target(), PolicyName, PolicyType: 'TargetTrackingScaling', TargetTrackingScalingPolicyConfiguration: invocations() });
    }
    assert.deepEqual(await ok('DeleteScalingPolicy', { ...target(), PolicyName: 'a' }), {});
    await refused('DeleteScalingPolicy', { ...target(), PolicyName: 'a' }, 'ObjectNotFoundException', /No scaling policy found for .*policy name: a/);
    assert.deepEqual((await ok('DescribeScalingPolicies', { ServiceNamespace: NS })).ScalingPolicies.map((p: { PolicyName: string }) => p.PolicyName), ['b']);

    assert.deepEqual(await ok('DeregisterScalableTarget', target()), {});
    assert.deepEqual((await ok('DescribeScalingPolicies', { ServiceNamespace: NS })).ScalingPolicies, []);
    assert.deepEqual((await ok('DescribeScalableTargets', { ServiceNamespace: NS })).ScalableTargets, []);
    await refused('DeregisterScalableTarget', target(), 'ObjectNotFoundException', /No scalable target registered for service namespace: sagemaker, resource ID: endpoint\/dogs\/variant\/AllTraffic, scalable dimension: sagemaker:variant:DesiredInstanceCount/);
  });

  it('pages the Describe calls with MaxResults and NextToken, activities newest first', async () => {
    for (const name of ['dogs', 'cats', 'birds']) await ok('RegisterScalableTarget', { ...target(name), MinCapacity: 1, MaxCapacity: 2 });
    const first = await ok('DescribeScalableTargets', { ServiceNamespace: NS, MaxResults: 2 });
    assert.equal(first.ScalableTargets.length, 2);
    assert.equal(typeof first.NextToken, 'string');
    const second = await ok('DescribeScalableTargets', { ServiceNamespace: NS, MaxResults: 2, NextToken: first.NextToken });
    assert.equal(second.NextToken, undefined);
    const ids = [...first.ScalableTargets, ...second.ScalableTargets].map((t: { ResourceId: string }) => t.ResourceId);
    assert.deepEqual(ids, ['endpoint/birds/variant/AllTraffic', 'endpoint/cats/variant/AllTraffic', 'endpoint/dogs/variant/AllTraffic']);
    await refused('DescribeScalableTargets', { ServiceNamespace: NS, MaxResults: 51 }, 'ValidationException', /MaxResults must be between 1 and 50/);
    await refused('DescribeScalableTargets', { ServiceNamespace: NS, NextToken: 'not-a-token' }, 'ValidationException', /Invalid pagination token/);

    for (const PolicyName of ['p1', 'p2', 'p3']) {
      await ok('PutScalingPolicy', { ...target(), PolicyName, PolicyType: 'TargetTrackingScaling', TargetTrackingScalingPolicyConfiguration: invocations() });
    }
    const policies = await ok('DescribeScalingPolicies', { ServiceNamespace: NS, MaxResults: 2 });
    const rest = await ok('DescribeScalingPolicies', { ServiceNamespace: NS, MaxResults: 2, NextToken: policies.NextToken });
    assert.deepEqual([...policies.ScalingPolicies, ...rest.ScalingPolicies].map((p: { PolicyName: string }) => p.PolicyName).sort(), ['p1', 'p2', 'p3']);

    const id = platform.autoscaling.describeScalableTargets({ serviceNamespace: NS, resourceIds: [target().ResourceId] })[0]!.id;
    for (const [index, startTimeMs] of [3_000, 1_000, 2_000].entries()) {
      platform.deps.store.scalingActivities.create({
        activityId: `activity-${index}`,
        targetId: id,
        serviceNamespace: NS,
        resourceId: target().ResourceId,
        scalableDimension: DIMENSION,
        description: `Setting desired instance count to ${index + 1}.`,
        cause: 'test',
        desiredCount: index + 1,
        startTimeMs,
        statusCode: 'Successful',
        endTimeMs: startTimeMs + 500,
      });
    }
    const page = await ok('DescribeScalingActivities', { ServiceNamespace: NS, ResourceId: target().ResourceId, ScalableDimension: DIMENSION, MaxResults: 2 });
    const last = await ok('DescribeScalingActivities', { ServiceNamespace: NS, ResourceId: target().ResourceId, ScalableDimension: DIMENSION, MaxResults: 2, NextToken: page.NextToken });
    const activities = [...page.ScalingActivities, ...last.ScalingActivities];
    assert.deepEqual(activities.map((a: { ActivityId: string }) => a.ActivityId), ['activity-0', 'activity-2', 'activity-1']);
    assert.deepEqual([activities[0].StartTime, activities[0].EndTime, activities[0].StatusCode], [3, 3.5, 'Successful']);
  });

  it('refuses every mutation the service model forbids, naming the member', async () => {
    const valid: Record<string, Record<string, unknown>> = {
      RegisterScalableTarget: { ...target(), MinCapacity: 1, MaxCapacity: 2 },
      DeregisterScalableTarget: target(),
      DescribeScalableTargets: { ServiceNamespace: NS, ScalableDimension: DIMENSION },
      PutScalingPolicy: { ...target(), PolicyName: 'p', PolicyType: 'TargetTrackingScaling', TargetTrackingScalingPolicyConfiguration: invocations() },
      DescribeScalingPolicies: { ServiceNamespace: NS, ResourceId: target().ResourceId },
      DeleteScalingPolicy: { ...target(), PolicyName: 'p' },
      DescribeScalingActivities: { ServiceNamespace: NS, ResourceId: target().ResourceId, ScalableDimension: DIMENSION },
    };
    assert.deepEqual(Object.keys(valid).sort(), Object.keys(model.operations).sort());
    for (const [operation, input] of Object.entries(valid)) {
      const cases = mutationCases(model, operation, input);
      assert.ok(cases.length > 0, operation);
      for (const mutation of cases) {
        const answer = await call(operation, mutation.input);
        const mismatch = expectationMismatch(mutation.expect, { type: answer.type, message: String(answer.body.message) });
        assert.equal(mismatch, undefined, `${mutation.description}: ${mismatch}`);
      }
    }
  });

  it('answers only requests signed for application-autoscaling', async () => {
    const wrong = await send('AnyScaleFrontendService.DescribeScalableTargets', { ServiceNamespace: NS }, 'sagemaker');
    assert.equal(wrong.status, 403, JSON.stringify(wrong.body));
    assert.equal(wrong.type, 'InvalidSignatureException');
    assert.match(String(wrong.body.message), /application-autoscaling/);
    const crossed = await send('SageMaker.ListEndpoints', {}, 'application-autoscaling');
    assert.equal(crossed.status, 403);
    const unknown = await send('AnyScaleFrontendService.PutScheduledAction', {});
    assert.equal(unknown.type, 'UnknownOperationException');
  });
});
