import type { Command } from 'commander';
import { join } from 'node:path';
import { resolveKennelHome } from '../store/state-dir.ts';
import { DEFAULT_ENDPOINT_URL, KennelClient, resolveCredentials } from './client.ts';

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

/** A client for the running server, signed with the admin keys Kennel wrote (or AWS_* variables). */
export async function connect(command: Command): Promise<KennelClient> {
  const options = globalOptions(command);
  // Only reads the credentials file: a client command never creates a state folder.
  const credentials = await resolveCredentials(process.env, join(kennelHome(options), 'credentials'));
  return new KennelClient(options.endpointUrl ?? process.env.KENNEL_ENDPOINT_URL ?? DEFAULT_ENDPOINT_URL, credentials);
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

export function time(epochMs: number | undefined): string {
  return epochMs === undefined ? '-' : new Date(epochMs).toISOString().replace('T', ' ').slice(0, 19);
}

export interface ResourceVerbs<T> {
  /** Singular, for messages: 'model'. */
  noun: string;
  /** REST collection path: '/models'. */
  path: string;
  /** Key of the list in the list response: 'models'. */
  listKey: string;
  columns: string[];
  row: (item: T) => (string | number)[];
  /** Text for `describe`; JSON when omitted. */
  render?: (item: T) => string;
  /** Whether the resource has a `delete` verb. */
  deletable?: boolean;
}

/** The verbs every resource group shares: list, describe, and (where it applies) delete. */
export function registerResourceVerbs<T>(group: Command, verbs: ResourceVerbs<T>): void {
  const item = (name: string) => `${verbs.path}/${encodeURIComponent(name)}`;
  group
    .command('list')
    .description(`List ${verbs.noun}s`)
    .action(async (_options: unknown, command: Command) => {
      const response = await (await connect(command)).call<Record<string, T[]>>('GET', verbs.path);
      print(command, response[verbs.listKey], (rows) => table(verbs.columns, rows.map(verbs.row)));
    });
  group
    .command('describe <name>')
    .description(`Show one ${verbs.noun}`)
    .action(async (name: string, _options: unknown, command: Command) => {
      const value = await (await connect(command)).call<T>('GET', item(name));
      print(command, value, verbs.render ?? ((v) => JSON.stringify(v, null, 2)));
    });
  if (verbs.deletable) {
    group
      .command('delete <name>')
      .description(`Delete a ${verbs.noun}`)
      .action(async (name: string, _options: unknown, command: Command) => {
        await (await connect(command)).call('DELETE', item(name));
        print(command, { deleted: name }, () => `Deleting ${verbs.noun} ${name}`);
      });
  }
}
