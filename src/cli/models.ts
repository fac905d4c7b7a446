import type { Command } from 'commander';
import type { Model } from '../domain/serving/endpoint.ts';
import { connect, print, registerResourceVerbs, time } from './context.ts';

export function registerModels(program: Command): void {
  const group = program.command('models').description('Deployable models made from completed training jobs');

  group
    .command('create')
    .description('Create a model from a Completed training job')
    .requiredOption('--name <name>', 'model name')
    .requiredOption('--training-job <name>', 'the completed training job')
    .action(async (options: { name: string; trainingJob: string }, command: Command) => {
      const model = await (await connect(command)).call<Model>('POST', '/models', {
        name: options.name,
        trainingJobName: options.trainingJob,
      });
      print(command, model, (m) => `Created model ${m.name} from training job ${m.trainingJobName}`);
    });

  registerResourceVerbs<Model>(group, {
    noun: 'model',
    path: '/models',
    listKey: 'models',
    columns: ['NAME', 'TRAINING JOB', 'CLASSES', 'CREATED'],
    row: (m) => [m.name, m.trainingJobName, m.classCount, time(m.createdAtMs)],
    deletable: true,
  });
}
