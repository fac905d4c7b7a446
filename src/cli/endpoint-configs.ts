import type { Command } from 'commander';
import type { EndpointConfig } from '../domain/serving/endpoint.ts';
import { connect, print, registerResourceVerbs, time } from './context.ts';

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

  registerResourceVerbs<EndpointConfig>(group, {
    noun: 'endpoint config',
    path: '/endpoint-configs',
    listKey: 'endpointConfigs',
    columns: ['NAME', 'VARIANT', 'MODEL', 'CREATED'],
    row: (c) => [c.name, c.productionVariants[0]?.variantName ?? '-', c.productionVariants[0]?.modelName ?? '-', time(c.createdAtMs)],
    deletable: true,
  });
}
