import type { Command } from 'commander';
import { resolveKennelHome, openStateDir } from '../store/state-dir.ts';
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
  const dirs = await openStateDir(kennelHome(options));
  const credentials = await resolveCredentials(process.env, dirs.credentialsFile);
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
