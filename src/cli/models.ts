import type { Command } from 'commander';
import type { Model } from '../domain/serving/endpoint.ts';
import { connect, print, table, time } from './context.ts';

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

  group
    .command('list')
    .description('List models')
    .action(async (_options: unknown, command: Command) => {
      const { models } = await (await connect(command)).call<{ models: Model[] }>('GET', '/models');
      print(command, models, (rows) =>
        table(['NAME', 'TRAINING JOB', 'CLASSES', 'CREATED'], rows.map((m) => [m.name, m.trainingJobName, m.classCount, time(m.createdAtMs)])),
      );
    });

  group
    .command('describe <name>')
    .description('Show one model')
    .action(async (name: string, _options: unknown, command: Command) => {
      const model = await (await connect(command)).call<Model>('GET', `/models/${encodeURIComponent(name)}`);
      print(command, model, (m) => JSON.stringify(m, null, 2));
    });

  group
    .command('delete <name>')
    .description('Delete a model')
    .action(async (name: string, _options: unknown, command: Command) => {
      await (await connect(command)).call('DELETE', `/models/${encodeURIComponent(name)}`);
      print(command, { deleted: name }, () => `Deleted model ${name}`);
    });
}
