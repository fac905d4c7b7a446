import type { Command } from 'commander';
import { DomainError } from '../core/errors.ts';
import { KENNEL_EXECUTION_ROLE_ARN } from '../domain/iam/arn.ts';
import { IMAGE_CLASSIFIER_IMAGE } from '../domain/training/algorithms.ts';
import type { KennelClient } from './client.ts';
import { connect, print, registerResourceVerbs, time } from './context.ts';
import type { ModelDescription, NamedSummary, TrainingJobDescription } from './sagemaker-shapes.ts';
import { toUri } from './training-request.ts';

export function registerModels(program: Command): void {
  const group = program.command('models').description('Deployable models: a model.tar.gz written by a training job');

  group
    .command('create')
    .description("Create a model from a training job's model.tar.gz (or any Kennel model.tar.gz)")
    .requiredOption('--name <name>', 'model name')
    .option('--training-job <name>', 'the training job whose model artifacts to serve')
    .option('--model-data <uri>', 'or: model.tar.gz as an s3:// or file:// URI')
    .option('--role-arn <arn>', 'ExecutionRoleArn to record', KENNEL_EXECUTION_ROLE_ARN)
    .action(async (options: { name: string; trainingJob?: string; modelData?: string; roleArn: string }, command: Command) => {
      const client = await connect(command);
      const container = await containerFor(client, options);
      await client.sageMaker('CreateModel', { ModelName: options.name, PrimaryContainer: container, ExecutionRoleArn: options.roleArn });
      const model = await client.sageMaker<ModelDescription>('DescribeModel', { ModelName: options.name });
      print(command, model, (m) => `Created model ${m.ModelName} from ${m.PrimaryContainer?.ModelDataUrl}`);
    });

  registerResourceVerbs<NamedSummary, ModelDescription>(group, {
    noun: 'model',
    list: { operation: 'ListModels', resultKey: 'Models', columns: ['NAME', 'CREATED'], row: (m) => [String(m.ModelName), time(m.CreationTime)] },
    describe: { operation: 'DescribeModel', nameMember: 'ModelName' },
    deleteOperation: 'DeleteModel',
  });
}

async function containerFor(client: KennelClient, options: { trainingJob?: string; modelData?: string }): Promise<object> {
  if (Boolean(options.trainingJob) === Boolean(options.modelData)) throw new DomainError('ValidationError', 'give exactly one of --training-job or --model-data');
  if (options.modelData) return { Image: IMAGE_CLASSIFIER_IMAGE, ModelDataUrl: toUri(options.modelData) };
  const job = await client.sageMaker<TrainingJobDescription>('DescribeTrainingJob', { TrainingJobName: options.trainingJob });
  return { Image: job.AlgorithmSpecification.TrainingImage ?? IMAGE_CLASSIFIER_IMAGE, ModelDataUrl: job.ModelArtifacts.S3ModelArtifacts };
}
