import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { InvokeCommand, type LambdaClient, type Runtime } from '@aws-sdk/client-lambda';
import { zipFolder } from '../../runtime/functions/function-package.ts';
import { sampleJpeg } from '../../runtime/samples/sample-images.ts';
import { closeKennelWithClients, createActiveFunction, createFunctionRole, startKennelWithClients, type AwsClientPool } from '../../testing/aws-clients.ts';
import { deploySmallClassifier, type TestKennel } from '../../testing/test-kennel.ts';

const examples = fileURLToPath(new URL('../../../examples/dog-breeds/functions/', import.meta.url));
const DEBIAN_PYTHON = '/usr/bin/python3';

/**
 * The reference function against a real endpoint: the Node version through the
 * SDK v3 SageMaker Runtime client, the Python one through boto3, both pointed
 * at Kennel only by the variables Kennel injects, both running as a role that
 * may invoke that endpoint and nothing else.
 */
describe('the classify functions of examples/dog-breeds', () => {
  let test: TestKennel;
  let pool: AwsClientPool;
  let lambda: LambdaClient;
  let image: Buffer;
  const previousPython = process.env.KENNEL_PYTHON;

  before(async () => {
    assert.ok(existsSync(DEBIAN_PYTHON), `${DEBIAN_PYTHON} (Debian's python3 with python3-boto3) is needed; .ci/run installs it`);
    // The Python function imports boto3, which Debian's Python has.
    process.env.KENNEL_PYTHON = DEBIAN_PYTHON;
    ({ test, pool } = await startKennelWithClients());
    const clients = pool.for(test.credentials);
    lambda = clients.lambda;
    await deploySmallClassifier(test, 'dog-breeds');
    await deploySmallClassifier(test, 'other-endpoint');
    const roleArn = await createFunctionRole(clients.iam, 'dog-breeds-classify', {
      Effect: 'Allow',
      Action: 'sagemaker:InvokeEndpoint',
      Resource: 'arn:aws:sagemaker:us-east-1:000000000000:endpoint/dog-breeds',
    });
    // The -elsewhere copies run as the same role but are configured for an endpoint the role may not invoke.
    const functions: [string, Runtime, string, string, string][] = [
      ['classify', 'nodejs20.x', 'index.handler', 'classify-node', 'dog-breeds'],
      ['classify-python', 'python3.11', 'classify.handler', 'classify-python', 'dog-breeds'],
      ['classify-elsewhere', 'nodejs20.x', 'index.handler', 'classify-node', 'other-endpoint'],
      ['classify-python-elsewhere', 'python3.11', 'classify.handler', 'classify-python', 'other-endpoint'],
    ];
    for (const [name, runtime, handler, folder, endpoint] of functions) {
      await createActiveFunction(
        lambda,
        {
          FunctionName: name,
          Runtime: runtime,
          Handler: handler,
          Role: roleArn,
          Timeout: 30,
          MemorySize: 256,
          Code: { ZipFile: await zipFolder(join(examples, folder)) },
          Environment: { Variables: { ENDPOINT_NAME: endpoint } },
        },
        60,
      );
    }
    image = await sampleJpeg({ classIndex: 0, seed: 5 });
  });

  after(async () => {
    await closeKennelWithClients(test, pool);
    if (previousPython === undefined) delete process.env.KENNEL_PYTHON;
    else process.env.KENNEL_PYTHON = previousPython;
  });

  const invoke = async (name: string, event: unknown) => {
    const result = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: new TextEncoder().encode(JSON.stringify(event)) }));
    return { result, answer: JSON.parse(new TextDecoder().decode(result.Payload)) };
  };

  for (const name of ['classify', 'classify-python']) {
    it(`${name}: an image in, the top five labels with probabilities out`, async () => {
      const { result, answer } = await invoke(name, { image_base64: image.toString('base64') });
      assert.equal(result.FunctionError, undefined, JSON.stringify(answer));
      assert.equal(answer.statusCode, 200);
      assert.ok(Array.isArray(answer.body) && answer.body.length >= 1 && answer.body.length <= 5, JSON.stringify(answer.body));
      for (const prediction of answer.body) {
        assert.equal(typeof prediction.label, 'string');
        assert.ok(prediction.probability >= 0 && prediction.probability <= 1);
      }
    });

    it(`${name}: an event with neither url nor image_base64 gets a 400 answer`, async () => {
      const { answer } = await invoke(name, { picture: 'rex' });
      assert.equal(answer.statusCode, 400);
    });

    it(`${name}: its role may invoke only its own endpoint`, async () => {
      const { result, answer } = await invoke(`${name}-elsewhere`, { image_base64: image.toString('base64') });
      assert.equal(result.FunctionError, 'Unhandled');
      assert.match(JSON.stringify(answer), /AccessDenied/);
      assert.match(JSON.stringify(answer), /sagemaker:InvokeEndpoint/);
    });
  }
});
