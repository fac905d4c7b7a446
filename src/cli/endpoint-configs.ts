import type { Command } from 'commander';
import type { EndpointConfig } from '../domain/serving/endpoint.ts';
import { connect, print, table, time } from './context.ts';

export function registerEndpointConfigs(program: Command): void {
  const group = program.command('endpoint-configs').description('Which model an endpoint serves, and how');

  group
    .command('create')
    .description('Create an endpoint config with one production variant')
    .requiredOption('--name <name>', 'endpoint config name')
    .requiredOption('--model <name>', 'model to serve')
    .option('--variant <name>', 'variant name', 'AllTraffic')
    .action(async (options: { name: string; model: string; variant: string }, command: Command) => {
      const config = await (await connect(command)).call<EndpointConfig>('POST', '/endpoint-configs', {
        name: options.name,
        productionVariants: [{ variantName: options.variant, modelName: options.model, initialInstanceCount: 1 }],
      });
      print(command, config, (c) => `Created endpoint config ${c.name} (model ${c.productionVariants[0].modelName})`);
    });

  group
    .command('list')
    .description('List endpoint configs')
    .action(async (_options: unknown, command: Command) => {
      const { endpointConfigs } = await (await connect(command)).call<{ endpointConfigs: EndpointConfig[] }>('GET', '/endpoint-configs');
      print(command, endpointConfigs, (rows) =>
        table(
          ['NAME', 'VARIANT', 'MODEL', 'CREATED'],
          rows.map((c) => [c.name, c.productionVariants[0]?.variantName ?? '-', c.productionVariants[0]?.modelName ?? '-', time(c.createdAtMs)]),
        ),
      );
    });

  group
    .command('describe <name>')
    .description('Show one endpoint config')
    .action(async (name: string, _options: unknown, command: Command) => {
      const config = await (await connect(command)).call<EndpointConfig>('GET', `/endpoint-configs/${encodeURIComponent(name)}`);
      print(command, config, (c) => JSON.stringify(c, null, 2));
    });

  group
    .command('delete <name>')
    .description('Delete an endpoint config')
    .action(async (name: string, _options: unknown, command: Command) => {
      await (await connect(command)).call('DELETE', `/endpoint-configs/${encodeURIComponent(name)}`);
      print(command, { deleted: name }, () => `Deleted endpoint config ${name}`);
    });
}
