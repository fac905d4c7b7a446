import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { isDomainError, type ErrorCode } from '../../core/errors.ts';
import { prepareScriptJobFolder, type ScriptJobChannel } from './job-folder.ts';

let scratch: string;
beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), 'kennel-job-folder-'));
});
afterEach(() => rmSync(scratch, { recursive: true, force: true }));

function write(path: string, text: string): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

/** Every file under `dir`, relative, with its text. */
function tree(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) files[join(entry.parentPath, entry.name).slice(dir.length + 1)] = readFileSync(join(entry.parentPath, entry.name), 'utf8');
  }
  return files;
}

async function assertRefused(action: () => Promise<unknown>, code: ErrorCode, pattern: RegExp): Promise<void> {
  await assert.rejects(action, (error: unknown) => {
    assert.ok(isDomainError(error), `expected a DomainError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, pattern);
    return true;
  });
}

describe('prepareScriptJobFolder', () => {
  it('lays out SageMaker’s /opt/ml tree with the config files and the channel data', async () => {
    const objects = join(scratch, 'objects');
    const folder = join(scratch, 'dogImages');
    write(join(folder, 'train/001.Affenpinscher/a.jpg'), 'A');
    write(join(folder, 'test/001.Affenpinscher/b.jpg'), 'B');
    const channels: ScriptJobChannel[] = [
      {
        name: 'training',
        source: {
          kind: 'files',
          files: [
            { path: write(join(objects, '1'), 'one'), relativePath: 'numbers.txt' },
            { path: write(join(objects, '2'), 'two'), relativePath: 'nested/deeper/two.txt' },
            { path: write(join(objects, '3'), ''), relativePath: 'empty-folder/' },
          ],
        },
      },
      { name: 'images', contentType: 'application/x-image', source: { kind: 'folder', path: folder } },
    ];
    const hyperParameters = { epochs: '3', sagemaker_program: '"train.py"' };
    const root = join(scratch, 'job');
    const { paths, channels: placed } = await prepareScriptJobFolder(root, { hyperParameters, instanceType: 'ml.m5.large', channels });

    assert.deepEqual(paths, {
      inputDir: join(root, 'input'),
      inputConfigDir: join(root, 'input/config'),
      inputDataDir: join(root, 'input/data'),
      modelDir: join(root, 'model'),
      outputDir: join(root, 'output'),
      outputDataDir: join(root, 'output/data'),
      outputIntermediateDir: join(root, 'output/intermediate'),
      failureFile: join(root, 'output/failure'),
      codeDir: join(root, 'code'),
    });
    assert.deepEqual(placed, {
      training: { path: join(root, 'input/data/training') },
      images: { path: join(root, 'input/data/images'), contentType: 'application/x-image' },
    });
    for (const dir of [paths.modelDir, paths.outputDataDir, paths.outputIntermediateDir, paths.codeDir, join(placed.training.path, 'empty-folder')]) {
      assert.deepEqual(readdirSync(dir), []);
    }
    assert.equal(existsIn(paths.outputDir, 'failure'), false);

    assert.deepEqual(tree(placed.training.path), { 'numbers.txt': 'one', 'nested/deeper/two.txt': 'two' });
    assert.deepEqual(tree(placed.images.path), { 'train/001.Affenpinscher/a.jpg': 'A', 'test/001.Affenpinscher/b.jpg': 'B' });
    assert.deepEqual(JSON.parse(readFileSync(join(paths.inputConfigDir, 'hyperparameters.json'), 'utf8')), hyperParameters);
    assert.equal(JSON.parse(readFileSync(join(paths.inputConfigDir, 'resourceconfig.json'), 'utf8')).current_host, 'algo-1');
    assert.deepEqual(JSON.parse(readFileSync(join(paths.inputConfigDir, 'inputdataconfig.json'), 'utf8')), {
      training: { TrainingInputMode: 'File', S3DistributionType: 'FullyReplicated', RecordWrapperType: 'None' },
      images: { ContentType: 'application/x-image', TrainingInputMode: 'File', S3DistributionType: 'FullyReplicated', RecordWrapperType: 'None' },
    });
  });

  it('copies: the job’s files are its own, and a script writing to them leaves the user’s alone', async () => {
    const folder = join(scratch, 'data');
    const original = write(join(folder, 'x.txt'), 'original');
    const object = write(join(scratch, 'object'), 'object');
    const { channels } = await prepareScriptJobFolder(join(scratch, 'job'), {
      hyperParameters: {},
      instanceType: 'ml.m5.large',
      channels: [
        { name: 'folder', source: { kind: 'folder', path: folder } },
        { name: 'files', source: { kind: 'files', files: [{ path: object, relativePath: 'o.txt' }] } },
      ],
    });
    for (const copy of [join(channels.folder.path, 'x.txt'), join(channels.files.path, 'o.txt')]) {
      assert.equal(statSync(copy).nlink, 1, 'not a hard link');
      writeFileSync(copy, 'changed by the script');
    }
    assert.equal(readFileSync(original, 'utf8'), 'original');
    assert.equal(readFileSync(object, 'utf8'), 'object');
  });

  it('follows symbolic links in a folder channel, as Kennel reads data folders', async () => {
    const folder = join(scratch, 'data');
    write(join(scratch, 'elsewhere/real.txt'), 'real');
    mkdirSync(folder);
    symlinkSync(join(scratch, 'elsewhere/real.txt'), join(folder, 'linked.txt'));
    symlinkSync(join(scratch, 'elsewhere'), join(folder, 'linked-folder'));
    const { channels } = await prepareScriptJobFolder(join(scratch, 'job'), {
      hyperParameters: {},
      instanceType: 'ml.m5.large',
      channels: [{ name: 'training', source: { kind: 'folder', path: folder } }],
    });
    assert.deepEqual(tree(channels.training.path), { 'linked.txt': 'real', 'linked-folder/real.txt': 'real' });
  });

  it('refuses a job folder holding an earlier run', async () => {
    write(join(scratch, 'job/model/old.pth'), 'old');
    await assertRefused(
      () => prepareScriptJobFolder(join(scratch, 'job'), { hyperParameters: {}, instanceType: 'ml.m5.large', channels: [] }),
      'Conflict',
      /already holds model from an earlier run: remove it/,
    );
  });

  const folderProblems: [string, (folder: string) => void, RegExp][] = [
    ['a dangling link', (folder) => symlinkSync(join(folder, 'gone'), join(folder, 'dangling.jpg')), /dangling\.jpg cannot be read .*dangling symbolic link/],
    ['a link loop', (folder) => symlinkSync(folder, join(folder, 'loop')), /loop links back to a folder that contains it/],
    ['a FIFO', (folder) => execFileSync('mkfifo', [join(folder, 'pipe')]), /pipe is neither a file nor a folder/],
  ];
  for (const [what, make, pattern] of folderProblems) {
    it(`refuses a folder channel with ${what}, naming it`, async () => {
      const folder = join(scratch, 'data');
      write(join(folder, 'ok.txt'), 'ok');
      make(folder);
      await assertRefused(
        () => prepareScriptJobFolder(join(scratch, 'job'), { hyperParameters: {}, instanceType: 'ml.m5.large', channels: [{ name: 'training', source: { kind: 'folder', path: folder } }] }),
        'ValidationError',
        new RegExp(`^Channel training: .*${pattern.source}`),
      );
    });
  }

  it('refuses a folder channel that is not a folder', async () => {
    await assertRefused(
      () => prepareScriptJobFolder(join(scratch, 'job'), { hyperParameters: {}, instanceType: 'ml.m5.large', channels: [{ name: 'training', source: { kind: 'folder', path: join(scratch, 'none') } }] }),
      'ValidationError',
      /Channel training: .*none is not a folder that can be read/,
    );
  });

  const badChannels: [string, ScriptJobChannel[], RegExp][] = [
    ['a channel named ..', [{ name: '..', source: { kind: 'files', files: [] } }], /Channel name "\.\." cannot name a folder/],
    ['a channel named with a slash', [{ name: 'a/b', source: { kind: 'files', files: [] } }], /Channel name "a\/b" cannot name a folder/],
    ['a channel twice', [{ name: 'x', source: { kind: 'files', files: [] } }, { name: 'x', source: { kind: 'files', files: [] } }], /Channel x appears more than once/],
    ['an object path with ..', [{ name: 'x', source: { kind: 'files', files: [{ path: '/etc/hostname', relativePath: '../escape' }] } }], /object path "\.\.\/escape" has an empty, "\." or "\.\." segment/],
    ['an absolute object path', [{ name: 'x', source: { kind: 'files', files: [{ path: '/etc/hostname', relativePath: '/etc/x' }] } }], /is empty or absolute/],
    ['an object that is not there', [{ name: 'x', source: { kind: 'files', files: [{ path: '/nonexistent/1', relativePath: 'a.txt' }] } }], /Channel x: a\.txt could not be copied from \/nonexistent\/1/],
  ];
  for (const [what, channels, pattern] of badChannels) {
    it(`refuses ${what}`, async () => {
      await assertRefused(() => prepareScriptJobFolder(join(scratch, 'job'), { hyperParameters: {}, instanceType: 'ml.m5.large', channels }), 'ValidationError', pattern);
    });
  }
});

function existsIn(dir: string, name: string): boolean {
  return readdirSync(dir).includes(name);
}
