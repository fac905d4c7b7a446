import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  AddTagsCommand,
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  CreateTrainingJobCommand,
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DeleteTagsCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeModelCommand,
  DescribeTrainingJobCommand,
  ListEndpointConfigsCommand,
  ListEndpointsCommand,
  ListModelsCommand,
  ListTagsCommand,
  ListTrainingJobsCommand,
  paginateListModels,
  SageMakerClient,
  StopTrainingJobCommand,
  waitUntilEndpointDeleted,
  waitUntilEndpointInService,
  waitUntilTrainingJobCompletedOrStopped,
  type CreateTrainingJobCommandInput,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { signedFetch } from '../../testing/signed-fetch.ts';
import { makeSmallDataset, startTestKennel, type TestKennel } from '../../testing/test-kennel.ts';
import { sdkFailure } from '../../testing/aws-tools.ts';

const ROLE = 'arn:aws:iam::000000000000:role/SageMakerRole';
const IMAGE = 'kennel/image-classifier:latest';
const BUCKET = 'sagemaker-us-east-1-000000000000';
/** Waiters poll every second here; SageMaker's defaults (30-120 s) are for real instances. */
const FAST = { minDelay: 1, maxDelay: 1, maxWaitTime: 120 };

/** Rejects with an SDK error: its name (the error type on the wire), HTTP status and message. */

describe('the SageMaker control plane through @aws-sdk/client-sagemaker', () => {
  let test: TestKennel;
  let client: SageMakerClient;
  let images: string;

  const trainingJob = (name: string, patch: Partial<CreateTrainingJobCommandInput> = {}): CreateTrainingJobCommandInput => ({
    TrainingJobName: name,
    AlgorithmSpecification: { TrainingImage: IMAGE, TrainingInputMode: 'File' },
    RoleArn: ROLE,
    HyperParameters: { epochs: '6', learning_rate: '0.003', batch_size: '16', hidden_units: '32' },
    InputDataConfig: [{ ChannelName: 'training', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: pathToFileURL(images).href } } }],
    OutputDataConfig: { S3OutputPath: `s3://${BUCKET}/jobs` },
    ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 10 },
    StoppingCondition: { MaxRuntimeInSeconds: 3600 },
    ...patch,
  });

  before(async () => {
    test = await startTestKennel();
    images = join(test.home, 'images');
    await makeSmallDataset(images);
    client = new SageMakerClient({ endpoint: test.url, region: 'us-east-1', credentials: test.credentials, maxAttempts: 1 });
  });
  after(async () => {
    client?.destroy();
    await test?.close();
  });

  it('trains, deploys, classifies and deletes, with the waiters', async () => {
    const created = await client.send(new CreateTrainingJobCommand(trainingJob('sdk-job', { Tags: [{ Key: 'team', Value: 'vision' }] })));
    assert.equal(created.TrainingJobArn, 'arn:aws:sagemaker:us-east-1:000000000000:training-job/sdk-job');
    const waited = await waitUntilTrainingJobCompletedOrStopped({ client, ...FAST }, { TrainingJobName: 'sdk-job' });
    assert.equal(waited.state, 'SUCCESS');

    const job = await client.send(new DescribeTrainingJobCommand({ TrainingJobName: 'sdk-job' }));
    assert.equal(job.TrainingJobStatus, 'Completed');
    assert.equal(job.SecondaryStatus, 'Completed');
    assert.equal(job.ModelArtifacts?.S3ModelArtifacts, `s3://${BUCKET}/jobs/sdk-job/output/model.tar.gz`);
    assert.deepEqual(job.HyperParameters, trainingJob('x').HyperParameters);
    assert.equal(job.RoleArn, ROLE);
    assert.equal(job.ResourceConfig?.InstanceType, 'ml.m5.large');
    assert.ok(job.CreationTime instanceof Date && job.TrainingStartTime instanceof Date && job.TrainingEndTime instanceof Date);
    assert.ok(job.TrainingStartTime! <= job.TrainingEndTime!);
    assert.ok((job.BillableTimeInSeconds ?? 0) >= 1 && job.BillableTimeInSeconds === job.TrainingTimeInSeconds);
    assert.deepEqual(job.SecondaryStatusTransitions?.map((t) => t.Status), ['Starting', 'Downloading', 'Training', 'Training', 'Uploading', 'Completed']);
    const metrics = Object.fromEntries((job.FinalMetricDataList ?? []).map((m) => [m.MetricName, m.Value]));
    assert.deepEqual(Object.keys(metrics).sort(), ['test:accuracy', 'test:loss', 'train:accuracy', 'train:loss', 'validation:accuracy', 'validation:loss']);
    assert.ok(metrics['test:accuracy']! >= 0.75, `test accuracy ${metrics['test:accuracy']}`);

    await client.send(
      new CreateModelCommand({
        ModelName: 'sdk-model',
        PrimaryContainer: { Image: IMAGE, ModelDataUrl: job.ModelArtifacts!.S3ModelArtifacts },
        ExecutionRoleArn: ROLE,
      }),
    );
    const model = await client.send(new DescribeModelCommand({ ModelName: 'sdk-model' }));
    assert.equal(model.ModelArn, 'arn:aws:sagemaker:us-east-1:000000000000:model/sdk-model');
    assert.equal(model.PrimaryContainer?.ModelDataUrl, job.ModelArtifacts!.S3ModelArtifacts);

    await client.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: 'sdk-config',
        ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'sdk-model', InitialInstanceCount: 1, InstanceType: 'ml.c5.xlarge' }],
      }),
    );
    const config = await client.send(new DescribeEndpointConfigCommand({ EndpointConfigName: 'sdk-config' }));
    assert.equal(config.ProductionVariants?.[0].InstanceType, 'ml.c5.xlarge');

    await client.send(new CreateEndpointCommand({ EndpointName: 'sdk-endpoint', EndpointConfigName: 'sdk-config' }));
    const inService = await waitUntilEndpointInService({ client, ...FAST }, { EndpointName: 'sdk-endpoint' });
    assert.equal(inService.state, 'SUCCESS');
    const endpoint = await client.send(new DescribeEndpointCommand({ EndpointName: 'sdk-endpoint' }));
    assert.equal(endpoint.EndpointStatus, 'InService');
    assert.deepEqual(
      endpoint.ProductionVariants?.map((v) => [v.VariantName, v.CurrentInstanceCount, v.DesiredInstanceCount, v.CurrentWeight]),
      [['AllTraffic', 1, 1, 1]],
    );

    const classDir = join(images, 'test', (await readdir(join(images, 'test'))).sort()[2]);
    const jpeg = await readFile(join(classDir, (await readdir(classDir)).sort()[0]));
    const runtime = new SageMakerRuntimeClient({ endpoint: test.url, region: 'us-east-1', credentials: test.credentials });
    const answer = await runtime.send(new InvokeEndpointCommand({ EndpointName: 'sdk-endpoint', ContentType: 'image/jpeg', Body: jpeg }));
    const { predictions } = JSON.parse(new TextDecoder().decode(answer.Body)) as { predictions: { label: string }[] };
    assert.equal(predictions[0].label, classDir.split('/').at(-1)!.replace(/^\d+\./, '').replace(/_/g, ' '));
    runtime.destroy();

    await client.send(new DeleteEndpointCommand({ EndpointName: 'sdk-endpoint' }));
    const deleted = await waitUntilEndpointDeleted({ client, ...FAST }, { EndpointName: 'sdk-endpoint' });
    assert.equal(deleted.state, 'SUCCESS');
    await client.send(new DeleteEndpointConfigCommand({ EndpointConfigName: 'sdk-config' }));
    await client.send(new DeleteModelCommand({ ModelName: 'sdk-model' }));
    assert.equal((await sdkFailure(client.send(new DescribeModelCommand({ ModelName: 'sdk-model' })))).name, 'ValidationException');
  });

  it('lists with filters, sort orders and paging, and the paginators walk every page', async () => {
    const modelData = `s3://${BUCKET}/jobs/sdk-job/output/model.tar.gz`;
    const names = ['list-c', 'list-a', 'list-e', 'list-b', 'list-d'];
    const created = new Map<string, number>();
    for (const name of names) {
      await client.send(new CreateModelCommand({ ModelName: name, PrimaryContainer: { Image: IMAGE, ModelDataUrl: modelData }, ExecutionRoleArn: ROLE }));
      created.set(name, (await client.send(new DescribeModelCommand({ ModelName: name }))).CreationTime!.getTime());
    }
    // Two creates in one millisecond tie on CreationTime; the name then decides, in the same direction.
    const byTime = [...created].sort(([a, at], [b, bt]) => at - bt || (a < b ? -1 : 1)).map(([name]) => name);
    const newestFirst = await client.send(new ListModelsCommand({ NameContains: 'list-' }));
    assert.deepEqual(newestFirst.Models?.map((m) => m.ModelName), [...byTime].reverse());
    const byName = await client.send(new ListModelsCommand({ NameContains: 'list-', SortBy: 'Name', SortOrder: 'Ascending' }));
    assert.deepEqual(byName.Models?.map((m) => m.ModelName), ['list-a', 'list-b', 'list-c', 'list-d', 'list-e']);
    const pivot = created.get(byTime[2])!;
    const after = await client.send(new ListModelsCommand({ NameContains: 'list-', CreationTimeAfter: new Date(pivot), SortOrder: 'Ascending' }));
    assert.deepEqual(after.Models?.map((m) => m.ModelName), byTime.filter((name) => created.get(name)! > pivot));

    const firstPage = await client.send(new ListModelsCommand({ NameContains: 'list-', MaxResults: 2, SortBy: 'Name', SortOrder: 'Ascending' }));
    assert.deepEqual(firstPage.Models?.map((m) => m.ModelName), ['list-a', 'list-b']);
    assert.ok(firstPage.NextToken);
    const pages: string[][] = [];
    for await (const page of paginateListModels({ client, pageSize: 2 }, { NameContains: 'list-', SortBy: 'Name', SortOrder: 'Ascending' })) {
      pages.push(page.Models!.map((m) => m.ModelName!));
    }
    assert.deepEqual(pages, [['list-a', 'list-b'], ['list-c', 'list-d'], ['list-e']]);
    const badToken = await sdkFailure(client.send(new ListModelsCommand({ NameContains: 'list-', NextToken: 'not-a-token' })));
    assert.equal(badToken.name, 'ValidationException');
    assert.match(badToken.message, /NextToken/);

    const completed = await client.send(new ListTrainingJobsCommand({ StatusEquals: 'Completed', NameContains: 'sdk' }));
    assert.deepEqual(completed.TrainingJobSummaries?.map((j) => [j.TrainingJobName, j.TrainingJobStatus]), [['sdk-job', 'Completed']]);
    assert.ok(completed.TrainingJobSummaries?.[0].TrainingEndTime instanceof Date);
    assert.deepEqual((await client.send(new ListTrainingJobsCommand({ StatusEquals: 'InProgress', NameContains: 'sdk' }))).TrainingJobSummaries, []);
    assert.deepEqual((await client.send(new ListEndpointsCommand({ NameContains: 'sdk' }))).Endpoints, []);
    assert.deepEqual((await client.send(new ListEndpointConfigsCommand({ NameContains: 'nothing-like-this' }))).EndpointConfigs, []);
  });

  it('tags resources at creation and with AddTags, ListTags and DeleteTags', async () => {
    const arn = 'arn:aws:sagemaker:us-east-1:000000000000:training-job/sdk-job';
    assert.deepEqual((await client.send(new ListTagsCommand({ ResourceArn: arn }))).Tags, [{ Key: 'team', Value: 'vision' }]);
    await client.send(new AddTagsCommand({ ResourceArn: arn, Tags: [{ Key: 'stage', Value: 'test' }, { Key: 'team', Value: 'platform' }] }));
    assert.deepEqual((await client.send(new ListTagsCommand({ ResourceArn: arn }))).Tags, [
      { Key: 'team', Value: 'platform' },
      { Key: 'stage', Value: 'test' },
    ]);
    await client.send(new DeleteTagsCommand({ ResourceArn: arn, TagKeys: ['team'] }));
    assert.deepEqual((await client.send(new ListTagsCommand({ ResourceArn: arn }))).Tags, [{ Key: 'stage', Value: 'test' }]);
    const missing = await sdkFailure(client.send(new ListTagsCommand({ ResourceArn: 'arn:aws:sagemaker:us-east-1:000000000000:model/nope' })));
    assert.equal(missing.name, 'ValidationException');
    assert.match(missing.message, /Could not find model/);
    const reserved = await sdkFailure(client.send(new AddTagsCommand({ ResourceArn: arn, Tags: [{ Key: 'aws:owner', Value: 'x' }] })));
    assert.equal(reserved.name, 'ValidationException');
  });

  it('answers with the error types SageMaker declares', async () => {
    const inUse = await sdkFailure(client.send(new CreateTrainingJobCommand(trainingJob('sdk-job'))));
    assert.deepEqual([inUse.name, inUse.status], ['ResourceInUse', 400]);
    assert.match(inUse.message, /training job with this name already exists/);

    const noData = await sdkFailure(
      client.send(
        new CreateTrainingJobCommand(
          trainingJob('no-data', {
            InputDataConfig: [{ ChannelName: 'training', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${BUCKET}/nothing/here` } } }],
          }),
        ),
      ),
    );
    assert.deepEqual([noData.name, noData.status], ['ResourceNotFound', 400]);
    assert.match(noData.message, /nothing\/here/);

    await client.send(
      new CreateModelCommand({
        ModelName: 'big',
        PrimaryContainer: { Image: IMAGE, ModelDataUrl: `s3://${BUCKET}/jobs/sdk-job/output/model.tar.gz` },
        ExecutionRoleArn: ROLE,
      }),
    );
    await client.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: 'big',
        ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'big', InitialInstanceCount: 9, InstanceType: 'ml.m5.large' }],
      }),
    );
    const limit = await sdkFailure(client.send(new CreateEndpointCommand({ EndpointName: 'big', EndpointConfigName: 'big' })));
    assert.deepEqual([limit.name, limit.status], ['ResourceLimitExceeded', 400]);

    const cases: [string, Promise<unknown>, RegExp][] = [
      ['a missing model', client.send(new DescribeModelCommand({ ModelName: 'nope' })), /Could not find model "arn:aws:sagemaker:us-east-1:000000000000:model\/nope"/],
      ['a missing endpoint', client.send(new DescribeEndpointCommand({ EndpointName: 'nope' })), /Could not find endpoint/],
      ['a missing training job', client.send(new DescribeTrainingJobCommand({ TrainingJobName: 'nope' })), /Requested resource not found/],
      ['a duplicate model', client.send(new CreateModelCommand({ ModelName: 'big', PrimaryContainer: { Image: IMAGE }, ExecutionRoleArn: ROLE })), /Cannot create already existing model/],
      ['stopping a finished job', client.send(new StopTrainingJobCommand({ TrainingJobName: 'sdk-job' })), /in status Completed/],
      ['an image Kennel cannot run', client.send(new CreateTrainingJobCommand(trainingJob('other-image', { AlgorithmSpecification: { TrainingImage: 'my/image:1', TrainingInputMode: 'File' } }))), /kennel\/image-classifier/],
      [
        'a missing required member',
        client.send(new CreateTrainingJobCommand({ ...trainingJob('no-role'), RoleArn: undefined } as unknown as CreateTrainingJobCommandInput)),
        /Value null at 'roleArn' failed to satisfy constraint: Member must not be null.*RoleArn/,
      ],
      ['a bad enum value', client.send(new CreateTrainingJobCommand(trainingJob('bad-type', { ResourceConfig: { InstanceType: 'ml.bogus' as never, InstanceCount: 1, VolumeSizeInGB: 1 } }))), /at 'resourceConfig.instanceType' failed to satisfy constraint: Member must satisfy enum value set/],
      ['a name against the pattern', client.send(new DescribeModelCommand({ ModelName: 'under_score' })), /at 'modelName' failed to satisfy constraint: Member must satisfy regular expression pattern/],
    ];
    for (const [what, call, message] of cases) {
      const error = await sdkFailure(call);
      assert.deepEqual([error.name, error.status], ['ValidationException', 400], `${what}: ${error.message}`);
      assert.match(error.message, message, what);
    }
    assert.deepEqual((await client.send(new ListTrainingJobsCommand({ NameContains: 'no-' }))).TrainingJobSummaries, [], 'nothing refused was recorded');
  });

  it('waiters stop at once on a failed job and on a missing endpoint', async () => {
    const broken = join(test.home, 'broken');
    await makeSmallDataset(join(broken, 'x'));
    await client.send(
      new CreateTrainingJobCommand(
        trainingJob('doomed', {
          InputDataConfig: [{ ChannelName: 'training', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: pathToFileURL(broken).href } } }],
        }),
      ),
    );
    await assert.rejects(waitUntilTrainingJobCompletedOrStopped({ client, ...FAST }, { TrainingJobName: 'doomed' }), /FAILURE/);
    const doomed = await client.send(new DescribeTrainingJobCommand({ TrainingJobName: 'doomed' }));
    assert.equal(doomed.TrainingJobStatus, 'Failed');
    assert.match(doomed.FailureReason ?? '', /^ClientError: .*train\/ is missing/);
    await assert.rejects(waitUntilEndpointInService({ client, ...FAST }, { EndpointName: 'never-made' }), /FAILURE/);

    await client.send(new CreateTrainingJobCommand(trainingJob('stopped', { HyperParameters: { epochs: '10000' } })));
    await client.send(new StopTrainingJobCommand({ TrainingJobName: 'stopped' }));
    const stopped = await waitUntilTrainingJobCompletedOrStopped({ client, ...FAST }, { TrainingJobName: 'stopped' });
    assert.equal(stopped.state, 'SUCCESS');
    assert.equal((await client.send(new DescribeTrainingJobCommand({ TrainingJobName: 'stopped' }))).TrainingJobStatus, 'Stopped');
  });

  it('answers an unknown target, a malformed body and a wrong region as AWS does', async () => {
    const post = (headers: Record<string, string>, body: string) =>
      signedFetch(`${test.url}/`, { headers: { 'content-type': 'application/x-amz-json-1.1', ...headers }, body, service: 'sagemaker', credentials: test.credentials });
    const expectError = async (response: Response, status: number, type: string, message: RegExp) => {
      assert.equal(response.status, status);
      assert.equal(response.headers.get('x-amzn-errortype'), type);
      assert.equal(response.headers.get('content-type'), 'application/x-amz-json-1.1');
      const body = (await response.json()) as { __type: string; message: string };
      assert.equal(body.__type, type);
      assert.match(body.message, message);
    };
    await expectError(await post({ 'x-amz-target': 'SageMaker.CreateHyperParameterTuningJobs' }, '{}'), 400, 'UnknownOperationException', /CreateHyperParameterTuningJobs/);
    await expectError(await post({ 'x-amz-target': 'Nobody.ListThings' }, '{}'), 400, 'UnknownOperationException', /Nobody\.ListThings/);
    await expectError(await post({}, '{}'), 400, 'UnknownOperationException', /X-Amz-Target/);
    await expectError(await post({ 'x-amz-target': 'SageMaker.ListModels' }, '{not json'), 400, 'SerializationException', /not valid JSON/);
    await expectError(await post({ 'x-amz-target': 'SageMaker.ListModels' }, '[1, 2]'), 400, 'SerializationException', /JSON object/);
    await expectError(await post({ 'x-amz-target': 'SageMaker.DescribeModel' }, '{"ModelName": 7}'), 400, 'SerializationException', /ModelName/);
    await expectError(await post({ 'x-amz-target': 'SageMaker.ListModels' }, '{"MaxResults": 1000}'), 400, 'ValidationException', /maxResults/);
    const empty = await post({ 'x-amz-target': 'SageMaker.ListEndpoints' }, '');
    assert.equal(empty.status, 200, 'an empty body is an input with nothing set');

    const unsigned = await fetch(`${test.url}/`, { method: 'POST', headers: { 'x-amz-target': 'SageMaker.ListModels' }, body: '{}' });
    await expectError(unsigned, 403, 'MissingAuthenticationTokenException', /Authentication/);
    const elsewhere = new SageMakerClient({ endpoint: test.url, region: 'eu-west-1', credentials: test.credentials, maxAttempts: 1 });
    const wrongRegion = await sdkFailure(elsewhere.send(new ListModelsCommand({})));
    assert.deepEqual([wrongRegion.name, wrongRegion.status], ['InvalidSignatureException', 403]);
    assert.match(wrongRegion.message, /scoped to a valid region, not 'eu-west-1'/);
    elsewhere.destroy();
  });
});
