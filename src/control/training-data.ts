import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DomainError } from '../core/errors.ts';
import type { ChannelSource, TrainingData } from '../domain/training/channels.ts';
import { folderTree, objectTree, unionTree, type DataTree } from '../runtime/datasets/data-tree.ts';
import type { ControlDeps } from './deps.ts';
import { parseLocation } from './object-locations.ts';

/**
 * Where a channel's data is. `file://` names a folder or file on this machine
 * (as SageMaker local mode accepts); `s3://bucket/prefix` names the objects under
 * the prefix in Kennel's object store. A prefix is read as a folder: `s3://b/data`
 * means the keys under `data/`.
 */
export async function channelTree(deps: ControlDeps, source: ChannelSource): Promise<DataTree> {
  const uri = parseLocation(source.uri);
  if (uri.scheme === 'file') {
    const info = await stat(uri.path).catch(() => undefined);
    if (!info) throw missing(source, 'does not exist');
    if (!info.isDirectory()) throw missing(source, 'is a file, not a folder of images');
    return folderTree(uri.path);
  }
  const prefix = uri.key === '' || uri.key.endsWith('/') ? uri.key : `${uri.key}/`;
  const objects = deps.objects.list(uri.bucket, prefix);
  if (objects.length === 0) throw missing(source, 'has no objects under it');
  return objectTree(
    source.uri,
    objects.map((object) => ({ relativeKey: object.key.slice(prefix.length), sizeBytes: object.sizeBytes, path: deps.objects.blobPath(object) })),
  );
}

/** The images a training job reads, as one tree in the dogImages layout. */
export async function trainingDataTree(deps: ControlDeps, data: TrainingData): Promise<DataTree> {
  if (data.layout === 'one-channel') return channelTree(deps, data.source);
  const { train, valid, test } = data.splits;
  const [trainTree, validTree, testTree] = await Promise.all([channelTree(deps, train), channelTree(deps, valid), channelTree(deps, test)]);
  return unionTree(`channels ${train.channelName}, ${valid.channelName}, ${test.channelName}`, {
    train: trainTree,
    valid: validTree,
    test: testTree,
  });
}

/** The ONNX file a backbone channel names: the object or file itself, or the one `.onnx` under the prefix or folder. */
export async function backboneFile(deps: ControlDeps, source: ChannelSource): Promise<string> {
  const uri = parseLocation(source.uri);
  if (uri.scheme === 'file') {
    const info = await stat(uri.path).catch(() => undefined);
    if (!info) throw missing(source, 'does not exist');
    if (info.isFile()) return uri.path;
    const models = (await readdir(uri.path)).filter((name) => name.endsWith('.onnx'));
    return join(uri.path, onlyModel(source, models));
  }
  const exact = uri.key === '' ? undefined : deps.objects.head(uri.bucket, uri.key);
  if (exact) return deps.objects.blobPath(exact);
  const prefix = uri.key === '' || uri.key.endsWith('/') ? uri.key : `${uri.key}/`;
  const models = deps.objects.list(uri.bucket, prefix).filter((object) => object.key.endsWith('.onnx'));
  const key = onlyModel(source, models.map((object) => object.key));
  return deps.objects.blobPath(models.find((object) => object.key === key)!);
}

function onlyModel(source: ChannelSource, names: string[]): string {
  if (names.length === 1) return names[0];
  throw new DomainError(
    'ValidationError',
    `Channel ${source.channelName}: ${source.uri} must be an ONNX file or hold exactly one .onnx file (found ${names.length})`,
    { field: 'InputDataConfig' },
  );
}

function missing(source: ChannelSource, what: string): DomainError {
  return new DomainError('NotFound', `Channel ${source.channelName}: ${source.uri} ${what}`, { field: 'InputDataConfig' });
}
