import type { Command } from 'commander';
import { DomainError } from '../core/errors.ts';
import { KENNEL_EXECUTION_ROLE_ARN } from '../domain/iam/arn.ts';
import { ONNX_SERVING_IMAGE } from '../domain/serving/model-serving.ts';
import { IMAGE_CLASSIFIER_IMAGE } from '../domain/training/algorithms.ts';
import type { KennelClient } from './client.ts';
import { connect, print, registerResourceVerbs, time } from './context.ts';
import type { ModelDescription, NamedSummary, TrainingJobDescription } from './sagemaker-shapes.ts';
import { toUri } from './training-request.ts';

export function registerModels(program: Command): void {
  const group = program.command('models').description('Deployable models: a model.tar.gz written by a training job');

  group
    .command('create')
    .description("Create a model from a training job's model.tar.gz, any ONNX classifier's, or one served by an inference script")
    .requiredOption('--name <name>', 'model name')
    .option('--training-job <name>', 'the training job whose model artifacts to serve')
    .option('--model-data <uri>', 'or: model.tar.gz as an s3:// or file:// URI (or a local path)')
    .option('--image <image>', `PrimaryContainer.Image: ${ONNX_SERVING_IMAGE} for ONNX, a framework inference image (pytorch-inference, kennel/python, kennel/node) for a script`)
    .option('--entry-point <file>', 'the inference script (SAGEMAKER_PROGRAM), with a framework image; default inference.py')
    .option('--source-dir <folder>', 'the folder holding the inference script (SAGEMAKER_SUBMIT_DIRECTORY); default: code/ in model.tar.gz')
    .option('--env <name=value>', 'an Environment variable for the container (repeatable)', collect, [] as string[])
    .option('--role-arn <arn>', 'ExecutionRoleArn to record', KENNEL_EXECUTION_ROLE_ARN)
    .action(async (options: CreateModelOptions, command: Command) => {
      const client = await connect(command);
      const container = await containerFor(client, options);
      await client.sageMaker('CreateModel', { ModelName: options.name, PrimaryContainer: container, ExecutionRoleArn: options.roleArn });
      const model = await client.sageMaker<ModelDescription>('DescribeModel', { ModelName: options.name });
      print(command, model, (m) => `Created model ${m.ModelName} from ${m.PrimaryContainer?.ModelDataUrl ?? m.PrimaryContainer?.Environment?.SAGEMAKER_SUBMIT_DIRECTORY}`);
    });

  registerResourceVerbs<NamedSummary, ModelDescription>(group, {
    noun: 'model',
    list: { operation: 'ListModels', resultKey: 'Models', columns: ['NAME', 'CREATED'], row: (m) => [String(m.ModelName), time(m.CreationTime)] },
    describe: { operation: 'DescribeModel', nameMember: 'ModelName' },
    deleteOperation: 'DeleteModel',
  });
}

interface CreateModelOptions {
  name: string;
  trainingJob?: string;
  modelData?: string;
  image?: string;
  entryPoint?: string;
  sourceDir?: string;
  env: string[];
  roleArn: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** PrimaryContainer as the SageMaker SDK's Model would send it: the script's variables set as PyTorchModel(entry_point, source_dir) sets them. */
async function containerFor(client: KennelClient, options: CreateModelOptions): Promise<Record<string, unknown>> {
  if (options.trainingJob && options.modelData) throw new DomainError('ValidationError', 'give one of --training-job or --model-data, not both');
  const environment: Record<string, string> = {};
  for (const pair of options.env) {
    const equals = pair.indexOf('=');
    if (equals < 1) throw new DomainError('ValidationError', `--env ${JSON.stringify(pair)} is not NAME=value`);
    environment[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  if (options.entryPoint) environment.SAGEMAKER_PROGRAM = options.entryPoint;
  if (options.sourceDir) environment.SAGEMAKER_SUBMIT_DIRECTORY = toUri(options.sourceDir);
  let modelDataUrl = options.modelData ? toUri(options.modelData) : undefined;
  const scripted = options.entryPoint !== undefined || options.sourceDir !== undefined;
  let image = options.image;
  if (options.trainingJob) {
    const job = await client.sageMaker<TrainingJobDescription>('DescribeTrainingJob', { TrainingJobName: options.trainingJob });
    modelDataUrl = job.ModelArtifacts.S3ModelArtifacts;
    const trainedBy = job.AlgorithmSpecification.TrainingImage ?? IMAGE_CLASSIFIER_IMAGE;
    if (!image && !scripted && !trainedBy.includes('kennel/image-classifier')) {
      throw new DomainError(
        'ValidationError',
        `training job ${options.trainingJob} ran a script (${trainedBy}): serve its model with an inference script, e.g. --image pytorch-inference:1.13 --source-dir <folder with inference.py>`,
      );
    }
  }
  // A Node.js script names its interpreter by its extension, as the kennel/node image runs it.
  image ??= scripted ? (/\.(mjs|cjs|js)$/.test(options.entryPoint ?? '') ? 'kennel/node:20' : 'kennel/python:3') : IMAGE_CLASSIFIER_IMAGE;
  if (!modelDataUrl && !scripted) throw new DomainError('ValidationError', 'give --training-job or --model-data (or, for an inference script, --source-dir)');
  return { Image: image, ...(modelDataUrl ? { ModelDataUrl: modelDataUrl } : {}), ...(Object.keys(environment).length > 0 ? { Environment: environment } : {}) };
}
