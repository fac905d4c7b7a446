import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SCHEMA_VERSION } from './schema.ts';
import { openSqliteStore } from './sqlite-store.ts';
import type { Store } from '../store.ts';
import { rollBackToSchemaVersion } from '../../testing/schema-rollback.ts';

const BACKBONE = {
  digest: '7'.repeat(64),
  inputName: 'image',
  outputName: 'features',
  featureSize: 234,
  preprocessing: { resizeSize: 64, cropSize: 64, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], layout: 'NCHW' },
};
const ARTIFACTS = { headModel: 'a'.repeat(64), labels: 'b'.repeat(64), metrics: 'c'.repeat(64) };

/** Records as Kennel 0.1 wrote them, before it spoke SageMaker's control plane (schema version 2). */
const OLD = {
  datasets: [{ name: 'pets', path: '/data/pets', classes: ['001.Cat', '002.Dog'], counts: { train: 4, valid: 2, test: 2 }, createdAtMs: 1 }],
  training_jobs: [
    {
      name: 'done',
      algorithm: 'image-classifier',
      datasetName: 'pets',
      backbone: BACKBONE,
      hyperParameters: { learning_rate: 0.003, batch_size: 32, epochs: 2, hidden_units: 128, seed: 0 },
      status: 'Completed',
      phase: 'Completed',
      epochs: [
        { epoch: 1, trainLoss: { $number: 'NaN' }, trainAccuracy: 0.5, validationLoss: 0.9, validationAccuracy: 0.5, seconds: 0.1 },
        { epoch: 2, trainLoss: 0.4, trainAccuracy: 1, validationLoss: 0.5, validationAccuracy: 1, seconds: 0.1 },
      ],
      finalMetrics: { testLoss: 0.2, testAccuracy: 1 },
      artifacts: ARTIFACTS,
      createdAtMs: 10,
      startedAtMs: 11,
      endedAtMs: 20,
    },
    {
      name: 'running',
      algorithm: 'image-classifier',
      datasetName: 'pets',
      backbone: BACKBONE,
      hyperParameters: { learning_rate: 0.001, batch_size: 64, epochs: 10, hidden_units: 128, seed: 7 },
      status: 'InProgress',
      phase: 'Embedding',
      epochs: [],
      createdAtMs: 30,
      startedAtMs: 31,
    },
  ],
  models: [{ name: 'pets', trainingJobName: 'done', backbone: BACKBONE, artifacts: ARTIFACTS, classCount: 2, createdAtMs: 40 }],
  endpoint_configs: [
    { name: 'pets', productionVariants: [{ variantName: 'AllTraffic', modelName: 'pets', initialInstanceCount: 1, instanceType: 'local.cpu' }], createdAtMs: 50 },
  ],
  endpoints: [
    {
      name: 'pets',
      endpointConfigName: 'pets',
      productionVariants: [{ variantName: 'AllTraffic', modelName: 'pets', backbone: BACKBONE, artifacts: ARTIFACTS }],
      status: 'InService',
      createdAtMs: 60,
      lastModifiedAtMs: 61,
    },
  ],
};

describe('opening a state database of Kennel 0.1', () => {
  let dir: string;
  let store: Store;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kennel-migration-'));
    const file = join(dir, 'kennel.db');
    openSqliteStore(file).close();
    const db = new Database(file);
    for (const [table, records] of Object.entries(OLD)) {
      const insert =
        table === 'training_jobs'
          ? db.prepare(`INSERT INTO ${table} (name, status, record) VALUES (?, ?, ?)`)
          : db.prepare(`INSERT INTO ${table} (name, record) VALUES (?, ?)`);
      for (const record of records) {
        const values = table === 'training_jobs' ? [record.name, (record as { status: string }).status] : [record.name];
        insert.run(...values, JSON.stringify(record));
      }
    }
    // What schema version 2 had: no tables of later migrations.
    rollBackToSchemaVersion(db, 2);
    db.close();
    store = openSqliteStore(file);
  });
  after(() => {
    store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is brought to the current schema version', () => {
    const db = new Database(join(dir, 'kennel.db'), { readonly: true });
    try {
      assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    } finally {
      db.close();
    }
  });

  it('gives training jobs the SageMaker members, with what Kennel 0.1 used implicitly', () => {
    const job = store.trainingJobs.get('done')!;
    assert.deepEqual(job.spec, {
      algorithm: 'image-classifier',
      trainingImage: 'kennel/image-classifier:latest',
      trainingInputMode: 'File',
      roleArn: 'arn:aws:iam::000000000000:role/KennelExecutionRole',
      hyperParameters: { learning_rate: '0.003', batch_size: '32', epochs: '2', hidden_units: '128', seed: '0' },
      channels: [{ channelName: 'training', uri: 'file:///data/pets', s3DataType: 'S3Prefix' }],
      outputPath: 's3://sagemaker-us-east-1-000000000000/',
      instanceType: 'ml.m5.large',
      instanceCount: 1,
      volumeSizeInGB: 30,
      maxRuntimeSeconds: 86400,
      metricDefinitions: [],
      backbone: BACKBONE,
      head: { learning_rate: 0.003, batch_size: 32, epochs: 2, hidden_units: 128, seed: 0 },
    });
    assert.deepEqual([job.status, job.secondaryStatus, job.lastModifiedAtMs], ['Completed', 'Completed', 20]);
    assert.deepEqual(job.tags, []);
    assert.deepEqual(job.secondaryStatusTransitions, []);
    assert.deepEqual(job.artifacts, ARTIFACTS);
    assert.equal(job.modelArtifactsUri, undefined, 'Kennel 0.1 wrote no model.tar.gz');
    for (const gone of ['algorithm', 'datasetName', 'backbone', 'hyperParameters', 'phase']) assert.equal(gone in job, false, gone);
    assert.ok(Number.isNaN(job.epochs[0].trainLoss), 'a NaN loss stays NaN');
    assert.deepEqual(job.finalMetrics, { testLoss: 0.2, testAccuracy: 1 });

    const running = store.trainingJobs.get('running')!;
    assert.deepEqual([running.status, running.secondaryStatus], ['InProgress', 'Training']);
    assert.deepEqual(store.trainingJobs.listByStatus(['InProgress']).map((j) => j.name), ['running'], 'the status index still works');
  });

  it('gives models, endpoint configs and endpoints the members they now have', () => {
    const model = store.models.get('pets')!;
    assert.deepEqual([model.image, model.executionRoleArn, model.environment, model.tags], [
      'kennel/image-classifier:latest',
      'arn:aws:iam::000000000000:role/KennelExecutionRole',
      {},
      [],
    ]);
    assert.equal(model.modelDataUrl, undefined);
    assert.deepEqual(store.endpointConfigs.get('pets')!.productionVariants, [
      { variantName: 'AllTraffic', modelName: 'pets', initialInstanceCount: 1, instanceType: 'ml.m5.large', initialVariantWeight: 1 },
    ]);
    const endpoint = store.endpoints.get('pets')!;
    assert.deepEqual(endpoint.productionVariants, [
      { variantName: 'AllTraffic', modelName: 'pets', backbone: BACKBONE, artifacts: ARTIFACTS, image: 'kennel/image-classifier:latest', instanceType: 'ml.m5.large', instanceCount: 1, weight: 1 },
    ]);
    assert.deepEqual(endpoint.tags, []);
    assert.equal(endpoint.status, 'InService');
  });
});
