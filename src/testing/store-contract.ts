import { onnxServed } from './serving.ts';
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Dataset } from '../domain/data/dataset.ts';
import type { Endpoint, EndpointConfig, Model } from '../domain/serving/endpoint.ts';
import type { BackboneRef, EpochMetrics, ImageClassifierJob, TrainingJob, TrainingJobStatus } from '../domain/training/training-job.ts';
import type { TuningJob, TuningJobStatus } from '../domain/tuning/tuning-job.ts';
import type { RegisteredScalableTarget, ScalingActivity, ScalingPolicy } from '../domain/serving/scaling.ts';
import type { KeyedTable, Store } from '../store/store.ts';
import { assertDomainError } from './assert-domain-error.ts';
import { AWKWARD_BITS, assertSameBits, describeEmbeddingCache, vectorFromBits } from './embedding-cache-contract.ts';
import { accessKey, describeIamTables } from './iam-table-contract.ts';
import { asyncEvent, describeFunctionTables, functionAlias, functionVersion, lambdaFunction } from './function-table-contract.ts';
import { describeResourceTable } from './resource-table-contract.ts';
import { describeObjectTable, storedObject } from './object-table-contract.ts';

/**
 * The one behaviour every Store implementation must have, run against each of
 * them (as optuna runs tests/storages_tests against every storage backend).
 */
export interface StoreUnderTest {
  store: Store;
  /** Opens the same data again after `store` was closed; given by durable implementations. */
  reopen?: () => Store;
  /** Removes whatever the store left behind (files); the stores themselves are closed by the suite. */
  cleanup: () => void;
}

const BACKBONE: BackboneRef = {
  digest: 'a'.repeat(64),
  inputName: 'input',
  outputName: 'features',
  featureSize: 2048,
  preprocessing: { resizeSize: 256, cropSize: 224, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], layout: 'NCHW' },
};

const ARTIFACTS = { headModel: 'b'.repeat(64), labels: 'c'.repeat(64), modelArchive: 'd'.repeat(64) };

function sampleDataset(name: string): Dataset {
  return {
    name,
    path: `/data/${name}`,
    classes: ['001.Affenpinscher', '002.Afghan_hound'],
    counts: { train: 10, valid: 2, test: 3 },
    createdAtMs: 1_700_000_000_000,
  };
}

function sampleTrainingJob(name: string, status: TrainingJobStatus = 'InProgress'): TrainingJob {
  return {
    name,
    spec: {
      algorithm: 'image-classifier',
      trainingImage: 'kennel/image-classifier:latest',
      trainingInputMode: 'File',
      roleArn: 'arn:aws:iam::000000000000:role/Trainer',
      hyperParameters: { learning_rate: '0.01' },
      channels: [{ channelName: 'training', uri: 's3://data/dogs/', s3DataType: 'S3Prefix' }],
      outputPath: 's3://sagemaker-us-east-1-000000000000/',
      instanceType: 'ml.m5.large',
      instanceCount: 1,
      volumeSizeInGB: 30,
      maxRuntimeSeconds: 86_400,
      metricDefinitions: [],
      backbone: structuredClone(BACKBONE),
      head: { learning_rate: 0.01, batch_size: 64, epochs: 3, hidden_units: 128, seed: 7 },
    },
    tags: [{ key: 'team', value: 'vision' }],
    status,
    secondaryStatus: status === 'InProgress' ? 'Training' : 'Completed',
    secondaryStatusTransitions: [{ status: 'Starting', startMs: 1_700_000_000_000, message: 'Preparing' }],
    epochs: [],
    createdAtMs: 1_700_000_000_000,
    lastModifiedAtMs: 1_700_000_000_000,
  };
}

function sampleTuningJob(name: string, status: TuningJobStatus = 'InProgress'): TuningJob {
  return {
    name,
    spec: {
      strategy: 'Bayesian',
      objective: { type: 'Minimize', metricName: 'validation:loss' },
      ranges: [
        { kind: 'Continuous', name: 'learning_rate', min: 0.001, max: 0.1, scaling: 'Logarithmic' },
        { kind: 'Categorical', name: 'batch_size', values: ['32', '64'] },
      ],
      maxNumberOfTrainingJobs: 20,
      maxParallelTrainingJobs: 2,
      earlyStopping: 'Auto',
      randomSeed: 7,
      template: {
        trainingImage: 'kennel/image-classifier:latest',
        trainingInputMode: 'File',
        roleArn: 'arn:aws:iam::000000000000:role/Tuner',
        staticHyperParameters: { epochs: '10' },
        channels: [{ channelName: 'training', uri: 's3://data/dogs/', s3DataType: 'S3Prefix' }],
        outputPath: 's3://sagemaker-us-east-1-000000000000/',
        instanceType: 'ml.m5.large',
        instanceCount: 1,
        volumeSizeInGB: 30,
        metricDefinitions: [],
        backbone: structuredClone(BACKBONE),
      },
    },
    tags: [],
    status,
    trials: [{ number: 0, trainingJobName: `${name}-001-0a1b2c3d`, hyperParameters: { learning_rate: '0.01', batch_size: '64' }, createdAtMs: 5 }],
    createdAtMs: 1,
    lastModifiedAtMs: 1,
  };
}

function sampleModel(name: string): Model {
  return {
    name,
    executionRoleArn: 'arn:aws:iam::000000000000:role/Server',
    image: 'kennel/image-classifier:latest',
    modelDataUrl: 's3://sagemaker-us-east-1-000000000000/job-1/output/model.tar.gz',
    environment: {},
    backbone: structuredClone(BACKBONE),
    artifacts: { ...ARTIFACTS },
    classCount: 133,
    trainingJobName: 'job-1',
    tags: [],
    createdAtMs: 1,
  };
}

function sampleEndpointConfig(name: string): EndpointConfig {
  return {
    name,
    productionVariants: [{ variantName: 'AllTraffic', modelName: 'model-1', initialInstanceCount: 1, instanceType: 'ml.m5.large', initialVariantWeight: 1 }],
    tags: [],
    createdAtMs: 2,
  };
}

function sampleEndpoint(name: string): Endpoint {
  return { name, endpointConfigName: 'config-1', productionVariants: [], status: 'Creating', tags: [], createdAtMs: 3, lastModifiedAtMs: 3 };
}

function epoch(n: number, overrides: Partial<EpochMetrics> = {}): EpochMetrics {
  return { epoch: n, trainLoss: 1 / n, trainAccuracy: 0.5, validationLoss: 1.5 / n, validationAccuracy: 0.4, seconds: 0.25, ...overrides };
}

function sampleScalableTarget(id: string): RegisteredScalableTarget {
  return {
    id,
    serviceNamespace: 'sagemaker',
    resourceId: 'endpoint/dogs/variant/AllTraffic',
    scalableDimension: 'sagemaker:variant:DesiredInstanceCount',
    endpointName: 'dogs',
    variantName: 'AllTraffic',
    minCapacity: 1,
    maxCapacity: 5,
    roleArn: 'arn:aws:iam::000000000000:role/Scaler',
    suspendedState: { dynamicScalingInSuspended: false, dynamicScalingOutSuspended: false, scheduledScalingSuspended: false },
    createdAtMs: 4,
    lastScaleOut: { atMs: 5, desired: 3 },
  };
}

function sampleScalingPolicy(policyArn: string, targetId = 'target-1'): ScalingPolicy {
  return {
    policyArn,
    policyName: 'invocations',
    targetId,
    serviceNamespace: 'sagemaker',
    resourceId: 'endpoint/dogs/variant/AllTraffic',
    scalableDimension: 'sagemaker:variant:DesiredInstanceCount',
    policyType: 'TargetTrackingScaling',
    targetTracking: {
      targetValue: 100,
      metric: { kind: 'predefined', predefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
      scaleOutCooldownSeconds: 30,
      scaleInCooldownSeconds: 30,
      disableScaleIn: false,
    },
    alarms: [{ alarmName: 'high', alarmArn: 'arn:aws:cloudwatch:us-east-1:000000000000:alarm:high' }],
    createdAtMs: 6,
  };
}

function sampleScalingActivity(activityId: string, targetId = 'target-1', startTimeMs = 7): ScalingActivity {
  return {
    activityId,
    targetId,
    serviceNamespace: 'sagemaker',
    resourceId: 'endpoint/dogs/variant/AllTraffic',
    scalableDimension: 'sagemaker:variant:DesiredInstanceCount',
    description: 'Setting desired instance count to 3.',
    cause: 'the metric was above the target',
    desiredCount: 3,
    startTimeMs,
    statusCode: 'InProgress',
  };
}

export function runStoreContract(name: string, open: () => StoreUnderTest): void {
  describe(`Store contract: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: Store;
    const current = () => store;

    beforeEach(() => {
      subject = open();
      store = subject.store;
    });

    afterEach(() => {
      store.close();
      subject.cleanup();
    });

    describeResourceTable<Dataset>(current, {
      label: 'datasets',
      table: (s) => s.datasets,
      make: sampleDataset,
      patch: { path: '/elsewhere' },
      mutate: (d) => {
        d.classes.push('003.Airedale_terrier');
        d.counts.train = 0;
      },
    });
    describeResourceTable<TrainingJob>(current, {
      label: 'trainingJobs',
      table: (s) => s.trainingJobs,
      make: (n) => sampleTrainingJob(n),
      patch: { status: 'Completed', secondaryStatus: 'Completed', endedAtMs: 99 },
      mutate: (j) => {
        j.epochs.push(epoch(1));
        (j as ImageClassifierJob).spec.head.learning_rate = 1;
        j.tags[0].value = 'changed';
      },
    });
    describeResourceTable<TuningJob>(current, {
      label: 'tuningJobs',
      table: (s) => s.tuningJobs,
      make: (n) => sampleTuningJob(n),
      patch: { status: 'Completed', endedAtMs: 9 },
      mutate: (j) => {
        j.trials[0].hyperParameters.learning_rate = '1';
        j.spec.template.channels.push({ channelName: 'x', uri: 's3://x/', s3DataType: 'S3Prefix' });
      },
    });
    describeResourceTable<Model>(current, {
      label: 'models',
      table: (s) => s.models,
      make: sampleModel,
      patch: { classCount: 7 },
      mutate: (m) => {
        onnxServed(m).backbone.preprocessing.mean[0] = 0;
      },
    });
    describeResourceTable<EndpointConfig>(current, {
      label: 'endpointConfigs',
      table: (s) => s.endpointConfigs,
      make: sampleEndpointConfig,
      patch: { createdAtMs: 42 },
      mutate: (e) => {
        e.productionVariants[0].initialInstanceCount = 99;
      },
    });
    describeResourceTable<Endpoint>(current, {
      label: 'endpoints',
      table: (s) => s.endpoints,
      make: sampleEndpoint,
      patch: { status: 'InService', lastModifiedAtMs: 10 },
      mutate: (e) => {
        e.endpointConfigName = 'changed';
      },
    });

    describeResourceTable<RegisteredScalableTarget>(current, {
      label: 'scalableTargets',
      table: (s) => s.scalableTargets,
      keyField: 'id',
      make: sampleScalableTarget,
      patch: { minCapacity: 2, maxCapacity: 4, lastScaleIn: { atMs: 9 } },
      mutate: (t) => {
        t.suspendedState.dynamicScalingInSuspended = true;
        t.lastScaleOut!.desired = 99;
      },
    });
    describeResourceTable<ScalingPolicy>(current, {
      label: 'scalingPolicies',
      table: (s) => s.scalingPolicies,
      keyField: 'policyArn',
      make: (arn) => sampleScalingPolicy(arn),
      patch: { createdAtMs: 8 },
      mutate: (p) => {
        p.targetTracking.targetValue = 1;
        p.alarms[0].alarmName = 'changed';
      },
    });
    describeResourceTable<ScalingActivity>(current, {
      label: 'scalingActivities',
      table: (s) => s.scalingActivities,
      keyField: 'activityId',
      make: (id) => sampleScalingActivity(id),
      patch: { statusCode: 'Successful', endTimeMs: 12, statusMessage: 'done' },
      mutate: (a) => {
        a.cause = 'changed';
      },
    });

    describeFunctionTables(current);

    describe('scaling specifics', () => {
      it('listForTarget finds a target’s policies, ordered by ARN, and follows deletes', () => {
        store.scalingPolicies.create(sampleScalingPolicy('arn-b', 'target-1'));
        store.scalingPolicies.create(sampleScalingPolicy('arn-a', 'target-1'));
        store.scalingPolicies.create(sampleScalingPolicy('arn-c', 'target-2'));
        const arns = (targetId: string) => store.scalingPolicies.listForTarget(targetId).map((p) => p.policyArn);
        assert.deepEqual(arns('target-1'), ['arn-a', 'arn-b']);
        assert.deepEqual(arns('target-2'), ['arn-c']);
        assert.deepEqual(arns('target-3'), []);
        store.scalingPolicies.delete('arn-a');
        assert.deepEqual(arns('target-1'), ['arn-b']);
      });

      it('listForTarget lists a target’s activities newest first, whatever their ids', () => {
        store.scalingActivities.create(sampleScalingActivity('b-old', 'target-1', 10));
        store.scalingActivities.create(sampleScalingActivity('a-new', 'target-1', 30));
        store.scalingActivities.create(sampleScalingActivity('c-mid', 'target-1', 20));
        store.scalingActivities.create(sampleScalingActivity('d-other', 'target-2', 40));
        const ids = (targetId: string) => store.scalingActivities.listForTarget(targetId).map((a) => a.activityId);
        assert.deepEqual(ids('target-1'), ['a-new', 'c-mid', 'b-old']);
        assert.deepEqual(ids('target-2'), ['d-other']);
        store.scalingActivities.update('c-mid', { statusCode: 'Successful', endTimeMs: 25 });
        assert.equal(store.scalingActivities.listForTarget('target-1')[1]!.statusCode, 'Successful');
      });
    });

    describe('trainingJobs specifics', () => {
      it('appendEpochs adds epochs in call order, records the time, and keeps the rest of the record', () => {
        store.trainingJobs.create(sampleTrainingJob('job'));
        store.trainingJobs.update('job', { startedAtMs: 5 });
        const afterFirst = store.trainingJobs.appendEpochs('job', [epoch(1)], 7);
        assert.deepEqual([afterFirst.epochs, afterFirst.lastModifiedAtMs], [[epoch(1)], 7]);
        const afterThird = store.trainingJobs.appendEpochs('job', [epoch(2), epoch(3)], 9);
        assert.deepEqual(afterThird.epochs, [epoch(1), epoch(2), epoch(3)]);
        assert.deepEqual(store.trainingJobs.get('job'), {
          ...sampleTrainingJob('job'),
          startedAtMs: 5,
          epochs: [epoch(1), epoch(2), epoch(3)],
          lastModifiedAtMs: 9,
        });
      });

      it('appendEpochs on a missing job throws NotFound', () => {
        assertDomainError(() => store.trainingJobs.appendEpochs('ghost', [epoch(1)], 7), 'NotFound');
      });

      it('keeps NaN, infinities and -0 in records (a diverging run reports a NaN loss)', () => {
        store.trainingJobs.create(sampleTrainingJob('diverged'));
        const wild = epoch(1, { trainLoss: NaN, validationLoss: Infinity, trainAccuracy: -0, seconds: -Infinity });
        store.trainingJobs.appendEpochs('diverged', [wild], 7);
        const [stored] = store.trainingJobs.get('diverged')!.epochs;
        assert.ok(Number.isNaN(stored.trainLoss));
        assert.equal(stored.validationLoss, Infinity);
        assert.equal(stored.seconds, -Infinity);
        assert.ok(Object.is(stored.trainAccuracy, -0));
      });

      it('update with a field set to undefined removes the field', () => {
        store.trainingJobs.create({ ...sampleTrainingJob('retried', 'Failed'), failureReason: 'out of memory' });
        const updated = store.trainingJobs.update('retried', { status: 'InProgress', failureReason: undefined });
        assert.equal('failureReason' in updated, false);
        assert.equal('failureReason' in store.trainingJobs.get('retried')!, false);
      });

      it('listByStatus follows status changes made by update', () => {
        store.trainingJobs.create(sampleTrainingJob('c-running'));
        store.trainingJobs.create(sampleTrainingJob('a-done', 'Completed'));
        store.trainingJobs.create(sampleTrainingJob('b-running'));
        store.trainingJobs.create(sampleTrainingJob('d-stopping', 'Stopping'));
        const names = (statuses: TrainingJobStatus[]) => store.trainingJobs.listByStatus(statuses).map((j) => j.name);
        assert.deepEqual(names(['InProgress']), ['b-running', 'c-running']);
        assert.deepEqual(names(['InProgress', 'Stopping']), ['b-running', 'c-running', 'd-stopping']);
        store.trainingJobs.update('c-running', { status: 'Failed' });
        assert.deepEqual(names(['InProgress']), ['b-running']);
        assert.deepEqual(names(['Failed']), ['c-running']);
        assert.deepEqual(names([]), []);
        store.trainingJobs.delete('b-running');
        assert.deepEqual(names(['InProgress']), []);
      });
    });

    describe('tuningJobs specifics', () => {
      it('listByStatus follows status changes', () => {
        store.tuningJobs.create(sampleTuningJob('b-running'));
        store.tuningJobs.create(sampleTuningJob('a-done', 'Completed'));
        store.tuningJobs.create(sampleTuningJob('c-stopping', 'Stopping'));
        const names = (statuses: TuningJobStatus[]) => store.tuningJobs.listByStatus(statuses).map((j) => j.name);
        assert.deepEqual(names(['InProgress', 'Stopping']), ['b-running', 'c-stopping']);
        store.tuningJobs.modify('b-running', (job) => ({ ...job, status: 'Completed' }));
        assert.deepEqual(names(['InProgress', 'Stopping']), ['c-stopping']);
        assert.deepEqual(names(['Completed']), ['a-done', 'b-running']);
      });
    });

    describeEmbeddingCache(() => store);
    describeObjectTable(() => store);
    describeIamTables(() => store);

    it('refuses every call once closed', () => {
      store.close();
      assert.throws(() => store.datasets.list());
      assert.throws(() => store.embeddings.count('k'));
      assert.throws(() => store.objects.put(storedObject('bucket-a', 'k')));
      assert.throws(() => store.objects.get('bucket-a', 'k'));
      assert.throws(() => store.objects.list('bucket-a', ''));
      assert.throws(() => store.objects.delete('bucket-a', 'k'));
    });

    it('keeps everything across close and reopen', (t) => {
      if (subject.reopen === undefined) {
        t.skip(`${name} is not durable`);
        return;
      }
      store.datasets.create(sampleDataset('dogs'));
      store.trainingJobs.create(sampleTrainingJob('job'));
      store.trainingJobs.appendEpochs('job', [epoch(1, { trainLoss: NaN })], 7);
      store.trainingJobs.appendEpochs('job', [epoch(2)], 7);
      store.models.create(sampleModel('model'));
      store.endpointConfigs.create(sampleEndpointConfig('config'));
      store.endpoints.create(sampleEndpoint('endpoint'));
      store.endpoints.update('endpoint', { status: 'InService' });
      store.accessKeys.create(accessKey('KEY1', 'admin'));
      const vector = vectorFromBits(AWKWARD_BITS);
      store.embeddings.putMany('k', new Map([['img', vector]]));
      store.objects.put(storedObject('bucket-a', 'train/a.jpg', { contentType: 'image/jpeg' }));
      store.objects.put(storedObject('bucket-a', 'train/b.jpg'));
      store.scalableTargets.create(sampleScalableTarget('target-1'));
      store.scalingPolicies.create(sampleScalingPolicy('arn-1'));
      store.scalingActivities.create(sampleScalingActivity('activity-1'));
      store.lambdaFunctions.create(lambdaFunction('classify'));
      store.functionVersions.create(functionVersion('classify:1'));
      store.functionAliases.create(functionAlias('classify:live'));
      store.asyncEvents.create(asyncEvent('event-1'));
      const before = {
        datasets: store.datasets.list(),
        trainingJobs: store.trainingJobs.list(),
        models: store.models.list(),
        endpointConfigs: store.endpointConfigs.list(),
        endpoints: store.endpoints.list(),
        objects: store.objects.list('bucket-a', ''),
        scalableTargets: store.scalableTargets.list(),
        scalingPolicies: store.scalingPolicies.list(),
        scalingActivities: store.scalingActivities.list(),
        lambdaFunctions: store.lambdaFunctions.list(),
        functionVersions: store.functionVersions.list(),
        functionAliases: store.functionAliases.list(),
        asyncEvents: store.asyncEvents.list(),
      };
      store.close();

      store = subject.reopen();
      assert.deepEqual(
        {
          datasets: store.datasets.list(),
          trainingJobs: store.trainingJobs.list(),
          models: store.models.list(),
          endpointConfigs: store.endpointConfigs.list(),
          endpoints: store.endpoints.list(),
          objects: store.objects.list('bucket-a', ''),
          scalableTargets: store.scalableTargets.list(),
          scalingPolicies: store.scalingPolicies.list(),
          scalingActivities: store.scalingActivities.list(),
          lambdaFunctions: store.lambdaFunctions.list(),
          functionVersions: store.functionVersions.list(),
          functionAliases: store.functionAliases.list(),
          asyncEvents: store.asyncEvents.list(),
        },
        before,
      );
      assert.ok(Number.isNaN(store.trainingJobs.get('job')!.epochs[0].trainLoss));
      assert.deepEqual(store.trainingJobs.listByStatus(['InProgress']).map((j) => j.name), ['job']);
      assert.deepEqual(store.accessKeys.listForUser('admin'), [accessKey('KEY1', 'admin')]);
      assertSameBits(store.embeddings.getMany('k', ['img']).get('img'), vector);
      store.trainingJobs.appendEpochs('job', [epoch(3)], 7);
      assert.equal(store.trainingJobs.get('job')!.epochs.length, 3);
    });
  });
}
