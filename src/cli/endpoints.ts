import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Command } from 'commander';
import type { Endpoint } from '../domain/serving/endpoint.ts';
import type { Prediction } from '../domain/serving/predictions.ts';
import type { KennelClient } from './client.ts';
import { connect, print, registerResourceVerbs, table, time } from './context.ts';

export function registerEndpoints(program: Command): void {
  const group = program.command('endpoints').description('Deployed models answering InvokeEndpoint');

  group
    .command('create')
    .description('Deploy an endpoint from an endpoint config')
    .requiredOption('--name <name>', 'endpoint name')
    .requiredOption('--config <name>', 'endpoint config to deploy')
    .option('--wait', 'wait until the endpoint is InService')
    .action(async (options: { name: string; config: string; wait?: boolean }, command: Command) => {
      const client = await connect(command);
      let endpoint = await client.call<Endpoint>('POST', '/endpoints', { name: options.name, endpointConfigName: options.config });
      if (options.wait) endpoint = await waitForEndpoint(client, endpoint.name);
      print(command, endpoint, (e) => `Endpoint ${e.name}: ${e.status}${e.failureReason ? ` — ${e.failureReason}` : ''}`);
      if (options.wait && endpoint.status !== 'InService') process.exitCode = 1;
    });

  registerResourceVerbs<Endpoint>(group, {
    noun: 'endpoint',
    path: '/endpoints',
    listKey: 'endpoints',
    columns: ['NAME', 'STATUS', 'CONFIG', 'MODIFIED'],
    row: (e) => [e.name, e.status, e.endpointConfigName, time(e.lastModifiedAtMs)],
    deletable: true,
  });

  group
    .command('invoke <name>')
    .description('Classify an image file or URL with InvokeEndpoint')
    .option('--file <image>', 'JPEG or PNG file to send')
    .option('--url <url>', 'image URL for the endpoint to fetch (public hosts only unless the server allows more)')
    .option('--top-k <n>', 'how many classes to return, or "all"')
    .action(async (name: string, options: { file?: string; url?: string; topK?: string }, command: Command) => {
      if (Boolean(options.file) === Boolean(options.url)) throw new Error('give exactly one of --file or --url');
      const client = await connect(command);
      const customAttributes = options.topK ? `top_k=${options.topK}` : undefined;
      const result = options.file
        ? await client.invokeEndpoint(name, await readFile(options.file), imageContentType(options.file), customAttributes)
        : await client.invokeEndpoint(name, new TextEncoder().encode(JSON.stringify({ url: options.url })), 'application/json', customAttributes);
      print(command, result as { predictions: Prediction[] }, (r) =>
        table(['LABEL', 'INDEX', 'PROBABILITY'], r.predictions.map((p) => [p.label, p.index, p.probability.toFixed(4)])),
      );
    });
}

function imageContentType(path: string): string {
  return extname(path).toLowerCase() === '.png' ? 'image/png' : 'image/jpeg';
}

export async function waitForEndpoint(client: KennelClient, name: string): Promise<Endpoint> {
  for (;;) {
    const endpoint = await client.call<Endpoint>('GET', `/endpoints/${encodeURIComponent(name)}`);
    if (endpoint.status === 'InService' || endpoint.status === 'Failed') return endpoint;
    await new Promise((done) => setTimeout(done, 200));
  }
}
