import { buffer } from 'node:stream/consumers';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Command } from 'commander';
import type { Prediction } from '../domain/serving/predictions.ts';
import type { KennelClient } from './client.ts';
import { connect, print, registerResourceVerbs, table, time, watchOptions } from './context.ts';
import { followLogAt, printLogEvent } from './training-jobs.ts';
import { watchEndpoint } from './endpoint-watch.ts';
import type { EndpointDescription, NamedSummary } from './sagemaker-shapes.ts';

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
      await client.sageMaker('CreateEndpoint', { EndpointName: options.name, EndpointConfigName: options.config });
      const endpoint = options.wait ? await waitForEndpoint(client, options.name) : await describeEndpoint(client, options.name);
      print(command, endpoint, renderEndpoint);
      if (options.wait && endpoint.EndpointStatus !== 'InService') process.exitCode = 1;
    });

  registerResourceVerbs<NamedSummary, EndpointDescription>(group, {
    noun: 'endpoint',
    list: {
      operation: 'ListEndpoints',
      resultKey: 'Endpoints',
      columns: ['NAME', 'STATUS', 'MODIFIED'],
      row: (e) => [String(e.EndpointName), String(e.EndpointStatus), time(e.LastModifiedTime as number)],
    },
    describe: { operation: 'DescribeEndpoint', nameMember: 'EndpointName', render: renderEndpoint },
    deleteOperation: 'DeleteEndpoint',
  });

  group
    .command('watch <name>')
    .description('Live view of an endpoint: throughput, p50/p99 model latency, instances, queue, errors and scaling events')
    .option('--interval <seconds>', 'seconds between updates', '2')
    .option('--rounds <n>', 'stop after this many updates (default: until Ctrl-C)')
    .action(async (name: string, options: { interval: string; rounds?: string }, command: Command) => {
      const watch = watchOptions(options);
      const client = await connect(command);
      await watchEndpoint(client, name, { ...watch, out: process.stdout });
    });

  group
    .command('logs <name>')
    .description("An endpoint's log: what its inference scripts print, their tracebacks among it")
    .option('-f, --follow', 'keep printing new lines until Ctrl-C')
    .action(async (name: string, options: { follow?: boolean }, command: Command) => {
      await followLogAt(await connect(command), `/endpoints/${encodeURIComponent(name)}/logs`, () => !options.follow, printLogEvent(command));
    });

  group
    .command('invoke <name>')
    .description('Classify an image file or URL with InvokeEndpoint, or send any body to an inference script')
    .option('--file <image>', 'JPEG or PNG file to send')
    .option('--url <url>', 'image URL for the endpoint to fetch (public hosts only unless the server allows more)')
    .option('--body <file>', "or: send this file as it is (an inference script's input), '-' for stdin")
    .option('--content-type <type>', 'Content-Type of --body', 'application/json')
    .option('--accept <type>', 'Accept of --body', 'application/json')
    .option('--top-k <n>', 'how many classes to return, or "all"')
    .action(async (name: string, options: { file?: string; url?: string; body?: string; contentType: string; accept: string; topK?: string }, command: Command) => {
      if ([options.file, options.url, options.body].filter(Boolean).length !== 1) throw new Error('give exactly one of --file, --url or --body');
      const client = await connect(command);
      const customAttributes = options.topK ? `top_k=${options.topK}` : undefined;
      if (options.body) {
        const body = options.body === '-' ? await buffer(process.stdin) : await readFile(options.body);
        const answer = await client.invokeEndpointRaw(name, body, options.contentType, options.accept, customAttributes);
        // The answer as the script gave it: JSON pretty-printed (or as JSON with -o json), anything else written out byte for byte.
        const parsed = /^application\/(.+\+)?json\b/i.test(answer.contentType) ? parseJsonOrUndefined(new TextDecoder().decode(answer.body)) : undefined;
        if (parsed !== undefined) print(command, parsed, (value) => JSON.stringify(value, null, 2));
        // Not JSON after all (Python's json.dumps writes NaN, which JSON.parse refuses), or another type: the bytes as they came.
        else process.stdout.write(answer.body);
        return;
      }
      const result = options.file
        ? await client.invokeEndpoint(name, await readFile(options.file), imageContentType(options.file), customAttributes)
        : await client.invokeEndpoint(name, new TextEncoder().encode(JSON.stringify({ url: options.url })), 'application/json', customAttributes);
      print(command, result as { predictions: Prediction[] }, (r) =>
        table(['LABEL', 'INDEX', 'PROBABILITY'], r.predictions.map((p) => [p.label, p.index, p.probability.toFixed(4)])),
      );
    });
}

function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function imageContentType(path: string): string {
  return extname(path).toLowerCase() === '.png' ? 'image/png' : 'image/jpeg';
}

function describeEndpoint(client: KennelClient, name: string): Promise<EndpointDescription> {
  return client.sageMaker<EndpointDescription>('DescribeEndpoint', { EndpointName: name });
}

function renderEndpoint(e: EndpointDescription): string {
  return `Endpoint ${e.EndpointName}: ${e.EndpointStatus}${e.FailureReason ? ` — ${e.FailureReason}` : ''} (config ${e.EndpointConfigName})`;
}

/** Polls DescribeEndpoint until the endpoint is InService or Failed. */
export async function waitForEndpoint(client: KennelClient, name: string): Promise<EndpointDescription> {
  for (;;) {
    const endpoint = await describeEndpoint(client, name);
    if (endpoint.EndpointStatus === 'InService' || endpoint.EndpointStatus === 'Failed') return endpoint;
    await new Promise((done) => setTimeout(done, 200));
  }
}
