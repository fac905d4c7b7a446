import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  DescribeModelCommand,
  waitUntilEndpointInService,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import sharp from 'sharp';
import { KENNEL_EXECUTION_ROLE_ARN } from '../../domain/iam/arn.ts';
import { ONNX_SERVING_IMAGE } from '../../domain/serving/model-serving.ts';
import { packModelArchive } from '../../runtime/models/model-archive.ts';
import { GraphBuilder } from '../../runtime/onnx/graph-builder.ts';
import { AwsClientPool } from '../../testing/aws-clients.ts';
import { sdkFailure } from '../../testing/aws-tools.ts';
import { startTestKennel, type TestKennel } from '../../testing/test-kennel.ts';

/**
 * A classifier made outside Kennel's trainer, as a user exports one from PyTorch: an ONNX graph
 * from image to class scores, in a model.tar.gz with labels, served by Kennel's ONNX image
 * through the AWS SDK. The graph averages each colour channel and scales it, so a red image
 * scores highest for "red": what it answers is known without training anything.
 */
const COLOURS = ['red', 'green', 'blue'];

/** Image [N,3,16,16] → per-channel means [N,3] (the "features"). */
function addBackbone(graph: GraphBuilder): string {
  const image = graph.input('image', 'float', ['batch', 3, 16, 16]);
  const pooled = graph.op('GlobalAveragePool', [image]);
  return graph.op('Flatten', [pooled], { axis: 1 });
}

/** Features [N,3] → logits [N,3]: ten times the channel means. */
function addHead(graph: GraphBuilder, features: string, outputName: string): void {
  const weights = graph.constant(Float32Array.from([10, 0, 0, 0, 10, 0, 0, 0, 10]), [3, 3]);
  graph.op('MatMul', [features, weights], {}, outputName);
  graph.output(outputName, 'float', ['batch', 3]);
}

function wholeClassifier(metadata?: Record<string, string>): Uint8Array {
  const graph = new GraphBuilder('colour-classifier');
  addHead(graph, addBackbone(graph), 'logits');
  return graph.build(metadata ? { metadata } : {});
}

function backboneOnly(): Uint8Array {
  const graph = new GraphBuilder('colour-backbone');
  const features = addBackbone(graph);
  const out = graph.op('Identity', [features], {}, 'features');
  graph.output(out, 'float', ['batch', 3]);
  return graph.build();
}

function headOnly(): Uint8Array {
  const graph = new GraphBuilder('colour-head');
  const features = graph.input('embedding', 'float', ['batch', 3]);
  addHead(graph, features, 'scores');
  return graph.build();
}

const encode = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
/** Pixels taken as they are (0–1), no normalisation: what the graph above expects. */
const PLAIN = { resizeSize: 16, cropSize: 16, mean: [0, 0, 0], std: [1, 1, 1] };

describe('ONNX classifiers from a model.tar.gz made outside Kennel, through the AWS SDK', { timeout: 120_000 }, () => {
  let test: TestKennel;
  let dir: string;
  let sagemaker: SageMakerClient;
  let runtime: SageMakerRuntimeClient;
  let pool: AwsClientPool;

  before(async () => {
    test = await startTestKennel();
    dir = await mkdtemp(join(tmpdir(), 'kennel-onnx-models-'));
    pool = new AwsClientPool(test.url);
    ({ sagemaker, runtime } = pool.for(test.credentials));
  });
  after(async () => {
    pool.destroy();
    await test?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function archive(name: string, files: Record<string, Uint8Array>): Promise<string> {
    const path = join(dir, `${name}.tar.gz`);
    await writeFile(path, await packModelArchive(files));
    return pathToFileURL(path).href;
  }

  async function deploy(name: string, modelDataUrl: string): Promise<void> {
    await sagemaker.send(new CreateModelCommand({ ModelName: name, ExecutionRoleArn: KENNEL_EXECUTION_ROLE_ARN, PrimaryContainer: { Image: ONNX_SERVING_IMAGE, ModelDataUrl: modelDataUrl } }));
    await sagemaker.send(
      new CreateEndpointConfigCommand({ EndpointConfigName: name, ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: name, InitialInstanceCount: 1, InstanceType: 'ml.m5.large' }] }),
    );
    await sagemaker.send(new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: name }));
    await waitUntilEndpointInService({ client: sagemaker, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { EndpointName: name });
  }

  async function classify(endpoint: string, rgb: [number, number, number]): Promise<{ label: string; probability: number }[]> {
    const png = await sharp({ create: { width: 24, height: 24, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toBuffer();
    const answer = await runtime.send(new InvokeEndpointCommand({ EndpointName: endpoint, ContentType: 'image/png', Body: png, CustomAttributes: 'top_k=all' }));
    return (JSON.parse(new TextDecoder().decode(answer.Body)) as { predictions: { label: string; probability: number }[] }).predictions;
  }

  it('serves a whole classifier with labels.txt and a manifest, softmaxing its logits', async () => {
    const url = await archive('whole', {
      'model.onnx': wholeClassifier(),
      'labels.txt': encode(`${COLOURS.join('\n')}\n`),
      'kennel-model.json': encode({ format: 'kennel.onnx-classifier', version: 1, scores: 'logits', preprocessing: PLAIN }),
    });
    await deploy('whole', url);
    for (const [i, colour] of COLOURS.entries()) {
      const rgb: [number, number, number] = [0, 0, 0];
      rgb[i] = 255;
      const predictions = await classify('whole', rgb);
      assert.equal(predictions[0].label, colour);
      const sum = predictions.reduce((total, p) => total + p.probability, 0);
      assert.ok(Math.abs(sum - 1) < 1e-4, `probabilities sum to 1 (${sum})`);
      // softmax([10, 0, 0])
      assert.ok(Math.abs(predictions[0].probability - Math.exp(10) / (Math.exp(10) + 2)) < 1e-4, JSON.stringify(predictions));
    }
    const described = await sagemaker.send(new DescribeModelCommand({ ModelName: 'whole' }));
    assert.equal(described.PrimaryContainer?.ModelDataUrl, url);
  });

  it('serves a backbone with a head, the preprocessing and labels taken from the model metadata', async () => {
    const graph = new GraphBuilder('colour-backbone');
    const features = addBackbone(graph);
    graph.output(graph.op('Identity', [features], {}, 'features'), 'float', ['batch', 3]);
    const backbone = graph.build({ metadata: { 'kennel.preprocessing': JSON.stringify(PLAIN), 'kennel.labels': JSON.stringify(COLOURS) } });
    await deploy('split', await archive('split', { 'backbone.onnx': backbone, 'head.onnx': headOnly() }));
    assert.equal((await classify('split', [10, 200, 30]))[0].label, 'green');
    assert.equal((await classify('split', [20, 10, 250]))[0].label, 'blue');
  });

  it('refuses at CreateModel what it could not serve, saying what to change', async () => {
    const labels = encode(COLOURS.join('\n'));
    const cases: [string, Record<string, Uint8Array>, RegExp][] = [
      ['no-labels', { 'model.onnx': wholeClassifier() }, /it has no labels: add labels\.txt/],
      ['too-few-labels', { 'model.onnx': wholeClassifier(), 'labels.txt': encode('red\ngreen') }, /the model gives 3 class scores, and its labels name 2 classes/],
      ['both', { 'model.onnx': wholeClassifier(), 'backbone.onnx': backboneOnly(), 'head.onnx': headOnly(), 'labels.txt': labels }, /not both/],
      ['no-head', { 'backbone.onnx': backboneOnly(), 'labels.txt': labels }, /holds no model\.onnx \(or backbone\.onnx with head\.onnx\)/],
      ['not-onnx', { 'model.onnx': encode('not a model'), 'labels.txt': labels }, /cannot be served by ONNX Runtime: (its ONNX file is not a valid ONNX model|the model is not a loadable ONNX model)/],
      ['bad-manifest', { 'model.onnx': wholeClassifier(), 'labels.txt': labels, 'kennel-model.json': encode({ format: 'kennel.onnx-classifier', version: 1, scores: 'odds' }) }, /kennel-model\.json is not a manifest .*scores/],
      ['bad-metadata', { 'model.onnx': wholeClassifier({ 'kennel.preprocessing': '{"cropSize": -1}' }), 'labels.txt': labels }, /metadata kennel\.preprocessing is not what Kennel reads/],
      ['wrong-head', { 'backbone.onnx': backboneOnly(), 'head.onnx': backboneOnly(), 'labels.txt': labels }, /head\.onnx does not take the backbone's 3 features/],
    ];
    for (const [name, files, message] of cases) {
      const failure = await sdkFailure(
        sagemaker.send(new CreateModelCommand({ ModelName: name, ExecutionRoleArn: KENNEL_EXECUTION_ROLE_ARN, PrimaryContainer: { Image: ONNX_SERVING_IMAGE, ModelDataUrl: await archive(name, files) } })),
      );
      assert.equal(failure.name, 'ValidationException', `${name}: ${failure.message}`);
      assert.match(failure.message, message, name);
    }
    const unknownImage = await sdkFailure(
      sagemaker.send(new CreateModelCommand({ ModelName: 'unknown', ExecutionRoleArn: KENNEL_EXECUTION_ROLE_ARN, PrimaryContainer: { Image: 'tensorflow-serving:2', ModelDataUrl: await archive('unknown', {}) } })),
    );
    assert.match(unknownImage.message, /is not an inference image Kennel can run\. Kennel serves kennel\/onnx-classifier:latest/);
  });
});
