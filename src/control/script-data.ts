import { stat } from 'node:fs/promises';
import { DomainError } from '../core/errors.ts';
import type { TrainingChannel } from '../domain/training/training-job.ts';
import type { ChannelSource } from '../runtime/script-mode/job-folder.ts';
import type { SourceCode } from '../runtime/script-mode/source-code.ts';
import type { ControlDeps } from './deps.ts';
import { parseLocation, readObject } from './object-locations.ts';

/** A sourcedir.tar.gz is read into memory to be unpacked; more than this is not source code. */
const MAX_SOURCE_ARCHIVE_BYTES = 512 * 1024 * 1024;

/**
 * The files a script-mode channel gets, as SageMaker's File mode copies them:
 * a `file://` folder's tree or one file; an `s3://` key's object, or the
 * objects under the prefix, each at its key's path below the prefix.
 */
export async function scriptChannelSource(deps: ControlDeps, channel: TrainingChannel): Promise<ChannelSource> {
  const uri = parseLocation(channel.uri);
  if (uri.scheme === 'file') {
    const info = await stat(uri.path).catch(() => undefined);
    if (!info) throw missing(channel, 'does not exist');
    if (info.isDirectory()) return { kind: 'folder', path: uri.path };
    return { kind: 'files', files: [{ path: uri.path, relativePath: uri.path.split('/').at(-1)! }] };
  }
  const exact = uri.key === '' || uri.key.endsWith('/') ? undefined : deps.objects.head(uri.bucket, uri.key);
  if (exact) return { kind: 'files', files: [{ path: deps.objects.blobPath(exact), relativePath: uri.key.split('/').at(-1)! }] };
  const prefix = uri.key === '' || uri.key.endsWith('/') ? uri.key : `${uri.key}/`;
  const objects = deps.objects.list(uri.bucket, prefix).filter((object) => object.key.length > prefix.length && !object.key.endsWith('/'));
  if (objects.length === 0) throw missing(channel, 'has no objects under it');
  return { kind: 'files', files: objects.map((object) => ({ path: deps.objects.blobPath(object), relativePath: object.key.slice(prefix.length) })) };
}

const SOURCE_FIELD = 'HyperParameters.sagemaker_submit_directory';

/** The training code sagemaker_submit_directory names: a folder on this machine, or a (gzipped) tarball there or in the object store. */
export async function scriptSourceCode(deps: ControlDeps, submitDirectory: string): Promise<SourceCode> {
  const uri = parseLocation(submitDirectory);
  if (uri.scheme === 'file') {
    const info = await stat(uri.path).catch(() => undefined);
    if (!info) throw missingSource(submitDirectory);
    if (info.isDirectory()) return { kind: 'folder', path: uri.path };
  } else if (!deps.objects.head(uri.bucket, uri.key)) {
    throw missingSource(submitDirectory);
  }
  return { kind: 'tarball', bytes: await readObject(deps, submitDirectory, MAX_SOURCE_ARCHIVE_BYTES) };
}

/** Checks, before a job is recorded, that its code and every channel are there; nothing is read yet. */
export async function checkScriptInputs(deps: ControlDeps, submitDirectory: string, channels: readonly TrainingChannel[]): Promise<void> {
  const uri = parseLocation(submitDirectory);
  const found = uri.scheme === 'file' ? await stat(uri.path).then(() => true, () => false) : deps.objects.head(uri.bucket, uri.key) !== undefined;
  if (!found) throw missingSource(submitDirectory);
  for (const channel of channels) await scriptChannelSource(deps, channel);
}

function missingSource(submitDirectory: string): DomainError {
  return new DomainError(
    'NotFound',
    `${SOURCE_FIELD}: ${submitDirectory} does not exist; it must name a folder, or a sourcedir.tar.gz as the SageMaker Python SDK uploads it`,
    { field: SOURCE_FIELD },
  );
}

function missing(channel: TrainingChannel, what: string): DomainError {
  return new DomainError('NotFound', `Channel ${channel.channelName}: ${channel.uri} ${what}`, { field: 'InputDataConfig' });
}
