import type { Command } from 'commander';
import { readPackage } from '../runtime/functions/function-package.ts';
import type { KennelClient } from './client.ts';
import { connect, print, table, watchOptions } from './context.ts';
import { watchFunction } from './function-watch.ts';

interface FunctionConfiguration {
  FunctionName: string;
  Runtime?: string;
  Handler?: string;
  MemorySize?: number;
  Timeout?: number;
  State?: string;
  StateReason?: string;
  LastUpdateStatus?: string;
  Version?: string;
  LastModified?: string;
  Role?: string;
  CodeSize?: number;
}

const functionPath = (name: string) => `/2015-03-31/functions/${encodeURIComponent(name)}`;

async function packageOf(path: string): Promise<Uint8Array> {
  const zip = await readPackage(path);
  if (!zip) throw new Error(`--code ${path} does not exist: give a folder or a .zip file`);
  return zip;
}

function environmentOf(pairs: string[]): Record<string, string> {
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new Error(`--env takes KEY=VALUE (got ${JSON.stringify(pair)})`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

function positiveInteger(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new Error(`${flag} must be a whole number (got ${value})`);
  return number;
}

function renderConfiguration(fn: FunctionConfiguration): string {
  const lines = [
    `${fn.FunctionName}  ${fn.Runtime ?? ''}  ${fn.Handler ?? ''}`,
    `  state: ${fn.State ?? '?'}${fn.StateReason ? ` (${fn.StateReason})` : ''}, last update: ${fn.LastUpdateStatus ?? '?'}`,
    `  memory: ${fn.MemorySize ?? '?'} MB, timeout: ${fn.Timeout ?? '?'} s, code: ${fn.CodeSize ?? '?'} bytes, version: ${fn.Version ?? '$LATEST'}`,
    `  role: ${fn.Role ?? ''}`,
  ];
  return lines.join('\n');
}

/** Polls GetFunctionConfiguration until the function is Active with its last update done, as the SDK waiters do. */
async function waitUntilActive(client: KennelClient, name: string): Promise<FunctionConfiguration> {
  for (;;) {
    const fn = await client.lambda<FunctionConfiguration>('GET', `${functionPath(name)}/configuration`);
    if (fn.State === 'Failed' || fn.LastUpdateStatus === 'Failed' || (fn.State === 'Active' && fn.LastUpdateStatus !== 'InProgress')) return fn;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export function registerFunctions(program: Command): void {
  const group = program.command('functions').description('Lambda functions: create, invoke, watch, and the async events that failed');

  group
    .command('create')
    .description('Create a function from a folder or a .zip (CreateFunction)')
    .requiredOption('--name <name>', 'function name')
    .requiredOption('--runtime <runtime>', 'nodejs20.x, nodejs22.x, python3.11, …')
    .requiredOption('--handler <handler>', 'file.export for Node.js, module.function for Python')
    .requiredOption('--role <arn>', 'execution role ARN (it must trust lambda.amazonaws.com)')
    .requiredOption('--code <path>', 'folder or .zip with the code')
    .option('--env <KEY=VALUE...>', 'environment variables', [])
    .option('--memory <MB>', 'MemorySize in MB')
    .option('--timeout <seconds>', 'Timeout in seconds')
    .option('--reserved <n>', 'reserved concurrency')
    .option('--wait', 'wait until the function is Active')
    .action(async (options: { name: string; runtime: string; handler: string; role: string; code: string; env: string[]; memory?: string; timeout?: string; reserved?: string; wait?: boolean }, command: Command) => {
      const client = await connect(command);
      const zip = await packageOf(options.code);
      const memory = positiveInteger('--memory', options.memory);
      const timeout = positiveInteger('--timeout', options.timeout);
      const reserved = positiveInteger('--reserved', options.reserved);
      let fn = await client.lambda<FunctionConfiguration>('POST', '/2015-03-31/functions', {
        FunctionName: options.name,
        Runtime: options.runtime,
        Handler: options.handler,
        Role: options.role,
        Code: { ZipFile: Buffer.from(zip).toString('base64') },
        ...(options.env.length > 0 ? { Environment: { Variables: environmentOf(options.env) } } : {}),
        ...(memory !== undefined ? { MemorySize: memory } : {}),
        ...(timeout !== undefined ? { Timeout: timeout } : {}),
      });
      if (reserved !== undefined) await client.lambda('PUT', `/2017-10-31/functions/${encodeURIComponent(options.name)}/concurrency`, { ReservedConcurrentExecutions: reserved });
      if (options.wait) fn = await waitUntilActive(client, options.name);
      print(command, fn, renderConfiguration);
      if (options.wait && fn.State !== 'Active') process.exitCode = 1;
    });

  group
    .command('list')
    .description('List functions (ListFunctions)')
    .action(async (_options: unknown, command: Command) => {
      const client = await connect(command);
      const functions: FunctionConfiguration[] = [];
      let marker: string | undefined;
      do {
        const page = await client.lambda<{ Functions: FunctionConfiguration[]; NextMarker?: string }>('GET', `/2015-03-31/functions/${marker ? `?Marker=${encodeURIComponent(marker)}` : ''}`);
        functions.push(...page.Functions);
        marker = page.NextMarker;
      } while (marker);
      print(command, functions, (list) => table(['NAME', 'RUNTIME', 'STATE', 'MEMORY', 'MODIFIED'], list.map((fn) => [fn.FunctionName, fn.Runtime ?? '', fn.State ?? '', `${fn.MemorySize ?? ''} MB`, fn.LastModified ?? ''])));
    });

  group
    .command('describe <name>')
    .description('A function’s configuration (GetFunctionConfiguration)')
    .option('--qualifier <q>', 'version or alias')
    .action(async (name: string, options: { qualifier?: string }, command: Command) => {
      const client = await connect(command);
      const query = options.qualifier ? `?Qualifier=${encodeURIComponent(options.qualifier)}` : '';
      print(command, await client.lambda<FunctionConfiguration>('GET', `${functionPath(name)}/configuration${query}`), renderConfiguration);
    });

  group
    .command('invoke <name>')
    .description('Invoke a function and print what it answered (Invoke)')
    .option('--payload <json>', 'the event, as JSON', '{}')
    .option('--qualifier <q>', 'version or alias')
    .option('--type <type>', 'RequestResponse, Event or DryRun', 'RequestResponse')
    .option('--log', 'print the tail of the invocation’s log too')
    .action(async (name: string, options: { payload: string; qualifier?: string; type: string; log?: boolean }, command: Command) => {
      if (!['RequestResponse', 'Event', 'DryRun'].includes(options.type)) throw new Error(`--type must be RequestResponse, Event or DryRun (got ${options.type})`);
      const client = await connect(command);
      const result = await client.invokeFunction(name, new TextEncoder().encode(options.payload), {
        ...(options.qualifier !== undefined ? { qualifier: options.qualifier } : {}),
        invocationType: options.type as 'RequestResponse',
        tailLogs: options.log === true,
      });
      if (options.log && result.logResult) process.stderr.write(Buffer.from(result.logResult, 'base64').toString('utf8'));
      const body = new TextDecoder().decode(result.payload);
      print(command, { statusCode: result.status, functionError: result.functionError, executedVersion: result.executedVersion, requestId: result.requestId, payload: body }, (r) =>
        r.statusCode === 202 ? `queued (request id ${r.requestId})` : r.statusCode === 204 ? 'allowed (dry run)' : r.payload,
      );
      if (result.functionError) process.exitCode = 1;
    });

  group
    .command('delete <name>')
    .description('Delete a function, or one version with --qualifier (DeleteFunction)')
    .option('--qualifier <version>', 'delete only this version')
    .action(async (name: string, options: { qualifier?: string }, command: Command) => {
      const client = await connect(command);
      await client.lambda('DELETE', `${functionPath(name)}${options.qualifier ? `?Qualifier=${encodeURIComponent(options.qualifier)}` : ''}`);
      print(command, { deleted: name }, () => `deleted ${name}`);
    });

  group
    .command('concurrency <name>')
    .description('Set (or with --remove, remove) a function’s reserved concurrency (PutFunctionConcurrency)')
    .option('--reserved <n>', 'ReservedConcurrentExecutions; 0 throttles every invocation')
    .option('--remove', 'remove the reservation')
    .action(async (name: string, options: { reserved?: string; remove?: boolean }, command: Command) => {
      const client = await connect(command);
      const path = `/2017-10-31/functions/${encodeURIComponent(name)}/concurrency`;
      if (options.remove) {
        await client.lambda('DELETE', path);
        print(command, { functionName: name, reserved: null }, () => `${name}: no reserved concurrency`);
        return;
      }
      const reserved = positiveInteger('--reserved', options.reserved);
      if (reserved === undefined) throw new Error('give --reserved <n> or --remove');
      const answer = await client.lambda<{ ReservedConcurrentExecutions: number }>('PUT', path, { ReservedConcurrentExecutions: reserved });
      print(command, answer, (a) => `${name}: reserved concurrency ${a.ReservedConcurrentExecutions}`);
    });

  group
    .command('watch <name>')
    .description('Live view of a function: invocations, errors, throttles, concurrency, duration percentiles and cold starts')
    .option('--interval <seconds>', 'seconds between updates', '2')
    .option('--rounds <n>', 'stop after this many updates (default: until Ctrl-C)')
    .action(async (name: string, options: { interval: string; rounds?: string }, command: Command) => {
      await watchFunction(await connect(command), name, { ...watchOptions(options), out: process.stdout });
    });

  group
    .command('dead-letters <name>')
    .description('Async events that failed every attempt and had no on-failure destination, or whose record it could not take')
    .action(async (name: string, _options: unknown, command: Command) => {
      const client = await connect(command);
      const { events } = await client.kennel<{ events: { requestId: string; qualifier: string; attempts: number; condition?: string; failedAtMs?: number; lastError?: { errorType: string; errorMessage: string }; deliveryError?: string }[] }>(
        'GET',
        `/functions/${encodeURIComponent(name)}/dead-letters`,
      );
      print(command, events, (list) =>
        table(
          ['REQUEST ID', 'QUALIFIER', 'ATTEMPTS', 'CONDITION', 'FAILED', 'LAST ERROR', 'NOT SENT TO DESTINATION'],
          list.map((e) => [
            e.requestId,
            e.qualifier,
            e.attempts,
            e.condition ?? '',
            e.failedAtMs ? new Date(e.failedAtMs).toISOString() : '',
            e.lastError ? `${e.lastError.errorType}: ${e.lastError.errorMessage}` : '',
            e.deliveryError ?? '',
          ]),
        ),
      );
    });

  group
    .command('redrive <name>')
    .description('Queue failed async events again (all of the function’s, or those named)')
    .option('--request-id <id...>', 'only these events')
    .action(async (name: string, options: { requestId?: string[] }, command: Command) => {
      const client = await connect(command);
      const answer = await client.kennel<{ redriven: string[] }>('POST', `/functions/${encodeURIComponent(name)}/dead-letters/redrive`, options.requestId ? { requestIds: options.requestId } : {});
      print(command, answer, (a) => `redriven: ${a.redriven.length}`);
    });
}
