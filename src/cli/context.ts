import type { Command } from 'commander';
import { join } from 'node:path';
import { resolveKennelHome } from '../store/state-dir.ts';
import { DEFAULT_ENDPOINT_URL, KennelClient, resolveCredentials, type ClientCredentials } from './client.ts';

export interface GlobalOptions {
  home?: string;
  endpointUrl?: string;
  output: 'text' | 'json';
}

export function globalOptions(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

export function kennelHome(options: GlobalOptions): string {
  return resolveKennelHome(options.home ? { ...process.env, KENNEL_HOME: options.home } : process.env);
}

/** The running server's URL, and credentials found as the AWS SDKs find them (Kennel's file by default). */
export async function connection(command: Command): Promise<{ url: string; credentials: ClientCredentials }> {
  const options = globalOptions(command);
  // Only reads the credentials file: a client command never creates a state folder.
  const credentials = await resolveCredentials(join(kennelHome(options), 'credentials'));
  const url = options.endpointUrl ?? process.env.KENNEL_ENDPOINT_URL ?? DEFAULT_ENDPOINT_URL;
  return { url, credentials };
}

/** A client for the running server. */
export async function connect(command: Command): Promise<KennelClient> {
  const { url, credentials } = await connection(command);
  return new KennelClient(url, credentials);
}

/** Prints a result as JSON (`--output json`) or through the given text renderer. */
export function print<T>(command: Command, value: T, asText: (value: T) => string): void {
  const options = globalOptions(command);
  process.stdout.write((options.output === 'json' ? JSON.stringify(value, null, 2) : asText(value)) + '\n');
}

/** A plain aligned table. */
export function table(headers: string[], rows: (string | number)[][]): string {
  if (rows.length === 0) return '(none)';
  const cells = [headers, ...rows.map((row) => row.map(String))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => row[column]?.length ?? 0)));
  return cells.map((row) => row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd()).join('\n');
}

/** An epoch-seconds timestamp, as SageMaker's operations answer them, for display. */
export function time(epochSeconds: number | undefined): string {
  return epochSeconds === undefined ? '-' : new Date(epochSeconds * 1000).toISOString().replace('T', ' ').slice(0, 19);
}

export interface ResourceVerbs<Summary, Described> {
  /** Singular, for messages: 'model'. */
  noun: string;
  /** The SageMaker operations, e.g. ListModels / DescribeModel / DeleteModel. */
  list: { operation: string; resultKey: string; columns: string[]; row: (item: Summary) => (string | number)[] };
  describe: {
    operation: string;
    nameMember: string;
    render?: (item: Described) => string;
    /** Fetches more than the Describe operation answers (e.g. a training job's metrics). */
    load?: (client: KennelClient, name: string) => Promise<Described>;
  };
  deleteOperation?: string;
}

/** Every page of a List* operation. */
export async function listAll<T>(client: KennelClient, operation: string, resultKey: string, input: object = {}): Promise<T[]> {
  const items: T[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.sageMaker<Record<string, unknown>>(operation, { ...input, MaxResults: 100, ...(nextToken ? { NextToken: nextToken } : {}) });
    items.push(...((page[resultKey] as T[] | undefined) ?? []));
    nextToken = page.NextToken as string | undefined;
  } while (nextToken);
  return items;
}

/** The verbs every resource group shares: list, describe, and (where it applies) delete. */
export function registerResourceVerbs<Summary, Described>(group: Command, verbs: ResourceVerbs<Summary, Described>): void {
  group
    .command('list')
    .description(`List ${verbs.noun}s, newest first`)
    .action(async (_options: unknown, command: Command) => {
      const items = await listAll<Summary>(await connect(command), verbs.list.operation, verbs.list.resultKey, {
        SortBy: 'CreationTime',
        SortOrder: 'Descending',
      });
      print(command, items, (rows) => table(verbs.list.columns, rows.map(verbs.list.row)));
    });
  group
    .command('describe <name>')
    .description(`Show one ${verbs.noun}`)
    .action(async (name: string, _options: unknown, command: Command) => {
      const client = await connect(command);
      const { operation, nameMember, load, render } = verbs.describe;
      const value = load ? await load(client, name) : await client.sageMaker<Described>(operation, { [nameMember]: name });
      print(command, value, render ?? ((v) => JSON.stringify(v, null, 2)));
    });
  if (verbs.deleteOperation) {
    const operation = verbs.deleteOperation;
    group
      .command('delete <name>')
      .description(`Delete a ${verbs.noun}`)
      .action(async (name: string, _options: unknown, command: Command) => {
        await (await connect(command)).sageMaker(operation, { [verbs.describe.nameMember]: name });
        print(command, { deleted: name }, () => `Deleting ${verbs.noun} ${name}`);
      });
  }
}

/** `--interval` (seconds, at least 0.2) and `--rounds` (a whole number, 1 or more) of the watch commands. */
export function watchOptions(options: { interval: string; rounds?: string }): { intervalMs: number; rounds?: number } {
  const intervalSeconds = Number(options.interval);
  if (!(intervalSeconds >= 0.2)) throw new Error(`--interval must be a number of seconds ≥ 0.2 (got ${options.interval})`);
  const rounds = options.rounds === undefined ? undefined : Number(options.rounds);
  if (rounds !== undefined && !(Number.isInteger(rounds) && rounds >= 1)) throw new Error(`--rounds must be a whole number ≥ 1 (got ${options.rounds})`);
  return { intervalMs: intervalSeconds * 1000, ...(rounds !== undefined ? { rounds } : {}) };
}
