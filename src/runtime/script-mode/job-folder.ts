import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { mapWithConcurrency } from '../../core/concurrency.ts';
import { describeError, DomainError } from '../../core/errors.ts';
import { inputDataConfig, resourceConfig, type ScriptChannel, type ScriptPaths } from '../../domain/training/script-mode.ts';
import { copyFolder, copyRegularFile } from './copy-folder.ts';

/**
 * Where a channel's files come from: files on disk with the path each takes
 * inside the channel (the objects under an s3:// prefix, from the object
 * store), or a folder on this machine (a file:// channel).
 */
export type ChannelSource =
  | { kind: 'files'; files: readonly { path: string; relativePath: string }[] }
  | { kind: 'folder'; path: string };

export interface ScriptJobChannel {
  name: string;
  contentType?: string;
  source: ChannelSource;
}

export interface ScriptJobFolderInput {
  /** As CreateTrainingJob has them: hyperparameters.json holds them unchanged. */
  hyperParameters: Readonly<Record<string, string>>;
  instanceType: string;
  channels: readonly ScriptJobChannel[];
}

export interface ScriptJobFolder {
  paths: ScriptPaths;
  channels: Record<string, ScriptChannel>;
}

const COPY_CONCURRENCY = 8;
/** ChannelName's pattern in SageMaker's service model, without the two names that are not folders. */
const CHANNEL_NAME = /^[A-Za-z0-9._-]+$/;

/** Why `relativePath` cannot place a file inside its channel, or undefined when it can. */
function relativePathProblem(relativePath: string): string | undefined {
  if (relativePath === '' || relativePath.startsWith('/')) return 'is empty or absolute';
  if (relativePath.includes('\0')) return 'contains a NUL character';
  const segments = relativePath.replace(/\/$/, '').split('/');
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) return 'has an empty, "." or ".." segment';
  return undefined;
}

/**
 * Lays out SageMaker's /opt/ml tree under `root` for one run of a script-mode
 * job: input/config/{hyperparameters,resourceconfig,inputdataconfig}.json,
 * input/data/<channel>/ with the channel's files, and empty model/,
 * output/data/, output/intermediate/ and code/. output/failure is left for
 * whoever reports a failure. `root` must be new or empty, so files of an
 * earlier run can never be mistaken for this one's.
 *
 * Channel data is copied, as SageMaker's File mode copies it, for folder
 * channels too: a script may write into its channel folder (unpacking an
 * archive, deleting what it has read), and a copy keeps that away from the
 * user's own files, and keeps the job's input fixed if they change while it
 * runs. Copies are reflinks where the filesystem can make them, so on btrfs
 * or XFS they cost no space or time; never hard links.
 */
export async function prepareScriptJobFolder(root: string, input: ScriptJobFolderInput): Promise<ScriptJobFolder> {
  const base = resolve(root);
  await mkdir(base, { recursive: true });
  const existing = await readdir(base);
  if (existing.length > 0) {
    throw new DomainError('Conflict', `The job folder ${base} already holds ${existing.slice(0, 3).join(', ')}${existing.length > 3 ? ', ...' : ''} from an earlier run: remove it before running the job again`, { root: base });
  }
  const paths: ScriptPaths = {
    inputDir: join(base, 'input'),
    inputConfigDir: join(base, 'input', 'config'),
    inputDataDir: join(base, 'input', 'data'),
    modelDir: join(base, 'model'),
    outputDir: join(base, 'output'),
    outputDataDir: join(base, 'output', 'data'),
    outputIntermediateDir: join(base, 'output', 'intermediate'),
    failureFile: join(base, 'output', 'failure'),
    codeDir: join(base, 'code'),
  };
  for (const dir of [paths.inputConfigDir, paths.inputDataDir, paths.modelDir, paths.outputDataDir, paths.outputIntermediateDir, paths.codeDir]) {
    await mkdir(dir, { recursive: true });
  }

  const channels: Record<string, ScriptChannel> = {};
  for (const channel of input.channels) {
    if (!CHANNEL_NAME.test(channel.name) || channel.name === '.' || channel.name === '..') {
      throw new DomainError('ValidationError', `Channel name ${JSON.stringify(channel.name)} cannot name a folder: use letters, digits, ".", "-" and "_"`, { field: 'InputDataConfig' });
    }
    if (Object.hasOwn(channels, channel.name)) {
      throw new DomainError('ValidationError', `Channel ${channel.name} appears more than once in InputDataConfig`, { field: 'InputDataConfig' });
    }
    const dir = join(paths.inputDataDir, channel.name);
    await placeChannel(channel, dir);
    channels[channel.name] = { path: dir, ...(channel.contentType === undefined ? {} : { contentType: channel.contentType }) };
  }

  await writeFile(join(paths.inputConfigDir, 'hyperparameters.json'), JSON.stringify(input.hyperParameters));
  await writeFile(join(paths.inputConfigDir, 'resourceconfig.json'), JSON.stringify(resourceConfig(input.instanceType)));
  await writeFile(join(paths.inputConfigDir, 'inputdataconfig.json'), JSON.stringify(inputDataConfig(channels)));
  return { paths, channels };
}

async function placeChannel(channel: ScriptJobChannel, dir: string): Promise<void> {
  const what = `Channel ${channel.name}`;
  if (channel.source.kind === 'folder') {
    await copyFolder(channel.source.path, dir, what);
    return;
  }
  await mkdir(dir);
  const files = channel.source.files;
  for (const { relativePath } of files) {
    const problem = relativePathProblem(relativePath);
    if (problem !== undefined) throw new DomainError('ValidationError', `${what}: the object path ${JSON.stringify(relativePath)} ${problem}, so it cannot be placed in the channel folder`, { field: 'InputDataConfig' });
  }
  // S3 keys ending in "/" are the folder markers consoles create: a folder, not a file.
  for (const { relativePath } of files) await mkdir(join(dir, relativePath.endsWith('/') ? relativePath : dirname(relativePath)), { recursive: true });
  await mapWithConcurrency(
    files.filter(({ relativePath }) => !relativePath.endsWith('/')),
    COPY_CONCURRENCY,
    async ({ path, relativePath }) => {
      try {
        await copyRegularFile(path, join(dir, relativePath));
      } catch (error) {
        throw new DomainError('ValidationError', `${what}: ${relativePath} could not be copied from ${path} (${describeError(error)})`, { field: 'InputDataConfig' });
      }
    },
  );
}
