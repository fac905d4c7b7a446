import { onnxServed } from '../testing/serving.ts';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { DomainError } from '../core/errors.ts';
import { DEFAULT_BUCKET } from '../domain/data/object-uri.ts';
import { KENNEL_EXECUTION_ROLE_ARN } from '../domain/iam/arn.ts';
import { IMAGE_CLASSIFIER_IMAGE } from '../domain/training/algorithms.ts';
import type { ImageClassifierJob, TrainingJob } from '../domain/training/training-job.ts';
import { packModelArchive } from '../runtime/models/model-archive.ts';
import { createMemoryStore } from '../store/memory/memory-store.ts';
import { testControlDeps } from '../testing/control-deps.ts';
import { imageClassifierJob, makeSmallDataset } from '../testing/test-kennel.ts';
import { createPlatform, type Platform } from './platform.ts';
import { waitForTrainingJob } from './wait.ts';

/** CreateModel reads model.tar.gz as hostile input: whatever the URL points at, the answer is a clear refusal. */
describe('creating models from model data URLs', () => {
  let dir: string;
  let platform: Platform;
  let job: TrainingJob;
  let fileJob: TrainingJob;
  const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  const create = (name: string, modelDataUrl: string) =>
    platform.models.create({ name, executionRoleArn: KENNEL_EXECUTION_ROLE_ARN, image: IMAGE_CLASSIFIER_IMAGE, modelDataUrl });
  const refused = async (modelDataUrl: string, message: RegExp) => {
    await assert.rejects(create('refused', modelDataUrl), (error: unknown) => {
      assert.ok(error instanceof DomainError, String(error));
      assert.equal(error.code, 'ValidationError', error.message);
      assert.match(error.message, message);
      return true;
    });
    assert.equal(platform.deps.store.models.get('refused'), undefined);
  };
  const archiveAt = async (file: string, files: Record<string, Uint8Array>) => {
    await writeFile(join(dir, file), await packModelArchive(files));
    return pathToFileURL(join(dir, file)).href;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kennel-models-'));
    platform = createPlatform(testControlDeps(dir, createMemoryStore()));
    await makeSmallDataset(join(dir, 'images'));
    await platform.trainingJobs.create(imageClassifierJob('job', join(dir, 'images'), { hyperParameters: { epochs: 1 } }));
    await platform.trainingJobs.create(
      imageClassifierJob('file-job', join(dir, 'images'), { hyperParameters: { epochs: 1 }, outputPath: pathToFileURL(join(dir, 'out')).href }),
    );
    job = await waitForTrainingJob(platform, 'job');
    fileJob = await waitForTrainingJob(platform, 'file-job');
    assert.equal(job.status, 'Completed', job.failureReason);
    assert.equal(fileJob.status, 'Completed', fileJob.failureReason);
  });
  after(async () => {
    await platform.controller.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a model from what a training job wrote, s3:// or file://', async () => {
    const fromS3 = await create('from-s3', job.modelArtifactsUri!);
    assert.equal(fromS3.trainingJobName, 'job');
    assert.equal(fromS3.classCount, 4);
    assert.equal(onnxServed(fromS3).artifacts.modelArchive, job.artifacts!.modelArchive);
    const viaLocalhost = fileJob.modelArtifactsUri!.replace('file:///', 'file://localhost/');
    assert.equal(onnxServed(await create('from-file', viaLocalhost)).artifacts.headModel, fileJob.artifacts!.headModel);
  });

  it('refuses what is not a regular file of sensible size, without reading it', async () => {
    await refused('file:///dev/zero', /under \/dev, a system folder/);
    await refused('file:///proc/self/environ', /under \/proc/);
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    await refused(pathToFileURL(join(dir, 'fifo')).href, /is not a regular file/);
    await writeFile(join(dir, 'huge.tar.gz'), '');
    await truncate(join(dir, 'huge.tar.gz'), 1100 * 1024 * 1024);
    await refused(pathToFileURL(join(dir, 'huge.tar.gz')).href, /is 1153433600 bytes; the most Kennel reads here is/);
    await refused(pathToFileURL(join(dir, 'nothing.tar.gz')).href, /Could not find model data at file:/);
    await refused(`s3://${DEFAULT_BUCKET}/nothing.tar.gz`, /Could not find model data at s3:/);
  });

  it('refuses archives that are not Kennel models, whatever they hold', async () => {
    const { headModel } = job.artifacts!;
    const head = await platform.deps.artifacts.get(headModel);
    const labels = { classes: [{ index: 0, folder: '001.A', label: 'A' }] };
    const manifest = { format: 'kennel.image-classifier', version: 1, backbone: (job as ImageClassifierJob).spec.backbone, classCount: 1 };
    const cases: [Record<string, Uint8Array>, RegExp][] = [
      [{ 'model.pth': new Uint8Array(8 * 1024 * 1024) }, /holds no model\.onnx \(or backbone\.onnx with head\.onnx\); found none of the files Kennel reads/],
      [{ 'kennel-model.json': json(null), 'head.onnx': head, 'labels.json': json(labels) }, /kennel-model\.json is not a manifest of kennel\.onnx-classifier version 1/],
      [{ 'kennel-model.json': new TextEncoder().encode('{not json'), 'head.onnx': head, 'labels.json': json(labels) }, /kennel-model\.json is not valid JSON/],
      [{ 'kennel-model.json': json({ ...manifest, version: 9 }), 'head.onnx': head, 'labels.json': json(labels) }, /version/],
      [{ 'kennel-model.json': json({ ...manifest, backbone: { ...manifest.backbone, preprocessing: 'x' } }), 'head.onnx': head, 'labels.json': json(labels) }, /backbone\.preprocessing/],
      [{ 'kennel-model.json': json(manifest), 'head.onnx': head, 'labels.json': json(null) }, /labels\.json is not what this Kennel reads/],
      [{ 'kennel-model.json': json({ ...manifest, classCount: 2 }), 'head.onnx': head, 'labels.json': json(labels) }, /lists 1 classes where kennel-model\.json says 2/],
      [{ 'kennel-model.json': json(manifest), 'labels.json': json(labels) }, /lacks head\.onnx/],
      [{ 'kennel-model.json': json({ ...manifest, backbone: { ...manifest.backbone, digest: 'f'.repeat(64) } }), 'head.onnx': head, 'labels.json': json(labels) }, /needs backbone sha256:f{64}, which is not in this Kennel's artifact store/],
    ];
    for (const [i, [files, message]] of cases.entries()) await refused(await archiveAt(`case-${i}.tar.gz`, files), message);
    await writeFile(join(dir, 'garbage.tar.gz'), 'not a gzip file');
    await refused(pathToFileURL(join(dir, 'garbage.tar.gz')).href, /not a valid gzip-compressed tar archive/);
  });

  it("refuses an inference script's source that is, holds or lies in Kennel's state folder, which holds its keys", async () => {
    // testControlDeps keeps the state in `dir` itself.
    const url = await archiveAt('script.tar.gz', { 'code/inference.py': json('') });
    const inside = join(dir, 'code');
    await writeFile(join(dir, 'inference.py'), '');
    for (const source of [dir, inside, join(dir, '..'), '/']) {
      await assert.rejects(
        platform.models.create({
          name: 'nosy',
          executionRoleArn: KENNEL_EXECUTION_ROLE_ARN,
          image: 'kennel/python:3',
          modelDataUrl: url,
          environment: { SAGEMAKER_SUBMIT_DIRECTORY: pathToFileURL(source).href },
        }),
        /SAGEMAKER_SUBMIT_DIRECTORY file:.* is or holds Kennel's state folder/,
        source,
      );
    }
    assert.equal(platform.deps.store.models.get('nosy'), undefined);
  });

  it("refuses a job's output that was replaced after the job wrote it", async () => {
    const other = await packModelArchive({ 'kennel-model.json': json({}) });
    await platform.deps.objects.putBytes(DEFAULT_BUCKET, 'job/output/model.tar.gz', other);
    await refused(job.modelArtifactsUri!, /is not what training job job wrote there .*damaged or replaced/);
  });

  it('refuses a training job whose output path or data is in a system folder', async () => {
    for (const patch of [{ outputPath: 'file:///proc/self/' }, { channels: [{ channelName: 'training', uri: 'file:///sys/kernel', s3DataType: 'S3Prefix' }] }]) {
      await assert.rejects(
        platform.trainingJobs.create(imageClassifierJob('system', join(dir, 'images'), patch)),
        (error: unknown) => error instanceof DomainError && error.code === 'ValidationError' && /a system folder/.test(error.message),
      );
    }
  });
});
