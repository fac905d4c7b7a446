import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import { mapWithConcurrency } from '../core/concurrency.ts';
import { DomainError } from '../core/errors.ts';
import { joinS3Key, parseObjectUri } from '../domain/data/object-uri.ts';
import type { KennelClient } from './client.ts';
import { connect, print, table } from './context.ts';
import { ProgressDisplay } from './progress.ts';

interface ListedObject {
  key: string;
  sizeBytes: number;
  lastModifiedMs: number;
}

/** Uploads in flight at once: enough to hide request latency without holding many files in memory. */
const UPLOAD_CONCURRENCY = 4;

export function registerObjects(program: Command): void {
  const group = program.command('objects').description("Kennel's object store, where s3:// URIs point: put training data and backbones there");

  group
    .command('cp <source> <destination>')
    .description('Copy a file (or a folder, with --recursive) to s3://bucket/prefix, or an object to a local file')
    .option('-r, --recursive', 'copy every file under a local folder, keeping its layout under the prefix')
    .action(async (source: string, destination: string, options: { recursive?: boolean }, command: Command) => {
      const client = await connect(command);
      if (source.startsWith('s3://')) {
        const uri = s3(source);
        const target = resolve(destination);
        const file = (await stat(target).catch(() => undefined))?.isDirectory() ? join(target, basename(uri.key)) : target;
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, await client.getObject(uri.bucket, uri.key));
        print(command, { downloaded: source, to: file }, () => `${source} → ${file}`);
        return;
      }
      const uploaded = await upload(client, resolve(source), s3(destination), options.recursive ?? false);
      print(command, { uploaded: uploaded.length, to: destination }, () => `${uploaded.length} file${uploaded.length === 1 ? '' : 's'} → ${destination}`);
    });

  group
    .command('ls <uri>')
    .description('List the objects under s3://bucket/prefix')
    .action(async (uri: string, _options: unknown, command: Command) => {
      const { bucket, key } = s3(uri);
      const client = await connect(command);
      const objects: ListedObject[] = [];
      let startAfter: string | undefined;
      do {
        const query = new URLSearchParams({ prefix: key, ...(startAfter ? { startAfter } : {}) });
        const page = await client.kennel<{ objects: ListedObject[]; nextStartAfter?: string }>('GET', `/objects/${encodeURIComponent(bucket)}?${query}`);
        objects.push(...page.objects);
        startAfter = page.nextStartAfter;
      } while (startAfter);
      print(command, objects, (rows) =>
        table(['KEY', 'BYTES', 'MODIFIED'], rows.map((o) => [o.key, o.sizeBytes, new Date(o.lastModifiedMs).toISOString().slice(0, 19).replace('T', ' ')])),
      );
    });

  group
    .command('rm <uri>')
    .description('Delete one object')
    .action(async (uri: string, _options: unknown, command: Command) => {
      const { bucket, key } = s3(uri);
      await (await connect(command)).kennel('DELETE', `/objects/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`);
      print(command, { deleted: uri }, () => `Deleted ${uri}`);
    });
}

function s3(uri: string): { bucket: string; key: string } {
  const parsed = parseObjectUri(uri);
  if (parsed.scheme !== 's3') throw new DomainError('ValidationError', `${uri} is not an s3:// URI`);
  return parsed;
}

/** Uploads a file, or every file under a folder, and returns the keys written. */
async function upload(client: KennelClient, source: string, destination: { bucket: string; key: string }, recursive: boolean): Promise<string[]> {
  const info = await stat(source).catch(() => undefined);
  if (!info) throw new DomainError('NotFound', `${source} does not exist`);
  if (info.isFile()) {
    const key = destination.key === '' || destination.key.endsWith('/') ? joinS3Key(destination.key, basename(source)) : destination.key;
    await client.putObject(destination.bucket, key, await readFile(source), contentType(source));
    return [key];
  }
  if (!recursive) throw new DomainError('ValidationError', `${source} is a folder: add --recursive to copy everything under it`);
  const files = (await readdir(source, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
  const progress = new ProgressDisplay(process.stderr);
  let done = 0;
  try {
    return await mapWithConcurrency(files, UPLOAD_CONCURRENCY, async (file) => {
      const key = joinS3Key(destination.key, ...relative(source, file).split(sep));
      await client.putObject(destination.bucket, key, await readFile(file), contentType(file));
      progress.update('upload', 'Uploading files', ++done, files.length);
      return key;
    });
  } finally {
    progress.stop();
  }
}

function contentType(file: string): string {
  const lower = file.toLowerCase();
  if (lower.endsWith('.jpg') || lower.endsWith('.jpeg')) return 'image/jpeg';
  if (lower.endsWith('.png')) return 'image/png';
  return 'application/octet-stream';
}
