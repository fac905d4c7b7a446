import type { Command } from 'commander';
import { connect, print, registerResourceVerbs, time } from './context.ts';
import type { EndpointConfigDescription, NamedSummary } from './sagemaker-shapes.ts';

export function registerEndpointConfigs(program: Command): void {
  const group = program.command('endpoint-configs').description('Which model an endpoint serves, and on what instance type');

  group
    .command('create')
    .description('Create an endpoint config with one production variant')
    .requiredOption('--name <name>', 'endpoint config name')
    .requiredOption('--model <name>', 'model to serve')
    .option('--variant <name>', 'variant name', 'AllTraffic')
    .option('--instance-type <type>', "SageMaker instance type: its vCPUs are the variant's thread budget", 'ml.m5.large')
    .action(async (options: { name: string; model: string; variant: string; instanceType: string }, command: Command) => {
      const client = await connect(command);
      await client.sageMaker('CreateEndpointConfig', {
        EndpointConfigName: options.name,
        ProductionVariants: [{ VariantName: options.variant, ModelName: options.model, InitialInstanceCount: 1, InstanceType: options.instanceType }],
      });
      const config = await client.sageMaker<EndpointConfigDescription>('DescribeEndpointConfig', { EndpointConfigName: options.name });
      print(command, config, (c) => `Created endpoint config ${c.EndpointConfigName} (model ${c.ProductionVariants[0].ModelName})`);
    });

  registerResourceVerbs<NamedSummary, EndpointConfigDescription>(group, {
    noun: 'endpoint config',
    list: {
      operation: 'ListEndpointConfigs',
      resultKey: 'EndpointConfigs',
      columns: ['NAME', 'CREATED'],
      row: (c) => [String(c.EndpointConfigName), time(c.CreationTime)],
    },
    describe: { operation: 'DescribeEndpointConfig', nameMember: 'EndpointConfigName' },
    deleteOperation: 'DeleteEndpointConfig',
  });
}
