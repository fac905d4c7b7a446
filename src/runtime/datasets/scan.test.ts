import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { isDomainError } from '../../core/errors.ts';
import { scanDataset } from './scan.ts';

async function jpeg(colour: string): Promise<Buffer> {
  return sharp({ create: { width: 24, height: 16, channels: 3, background: colour } }).jpeg().toBuffer();
}

/** Writes files given as relative path → content; a path ending in '/' is an empty folder. */
async function buildFolder(files: Record<string, Uint8Array | string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'kennel-scan-'));
  for (const [relative, content] of Object.entries(files)) {
    const path = join(root, relative);
    if (relative.endsWith('/')) await mkdir(path, { recursive: true });
    else {
      await mkdir(join(path, '..'), { recursive: true });
      await writeFile(path, content);
    }
  }
  return root;
}

test('a folder with typical mistakes: usable images listed, every problem explained', async (t) => {
  const red = await jpeg('#d02020');
  const blue = await jpeg('#2040d0');
  const truncated = red.subarray(0, red.length >> 1);
  const root = await buildFolder({
    'train/001.Red/r1.jpg': red,
    'train/001.Red/r2.jpg': red,
    'train/001.Red/broken.jpg': truncated,
    'train/001.Red/notes.txt': 'labelled by hand',
    'train/002.Blue/b1.jpg': blue,
    'train/003.Only_in_train/o1.jpg': red,
    'train/004.Empty/': '',
    'valid/001.Red/r3.jpg': red,
    'valid/002.Blue/b2.jpg': blue,
    'valid/004.Empty/e1.jpg': blue,
    'test/001.Red/r4.jpg': red,
    'test/002.Blue/text-named-jpg.jpg': 'this is not a JPEG',
    'test/004.Empty/e2.jpg': blue,
    'README.md': '# my dogs',
  });
  t.after(() => rm(root, { recursive: true, force: true }));

  const scan = await scanDataset(root);
  assert.equal(scan.path, root);
  assert.equal(scan.report.ok, false);
  assert.deepEqual(
    scan.report.classes.map((c) => [c.folder, c.label, c.counts]),
    [
      ['001.Red', 'Red', { train: 2, valid: 1, test: 1 }],
      ['002.Blue', 'Blue', { train: 1, valid: 1, test: 0 }],
      ['003.Only_in_train', 'Only in train', { train: 1, valid: 0, test: 0 }],
      ['004.Empty', 'Empty', { train: 0, valid: 1, test: 1 }],
    ],
  );
  assert.deepEqual(
    scan.report.problems.map((p) => `${p.severity} ${p.code} ${p.path}`),
    [
      'error empty-class train/004.Empty',
      'warning stray-file README.md',
      'warning unreadable-image train/001.Red/broken.jpg',
      'warning non-image-file train/001.Red/notes.txt',
      'warning unreadable-image test/002.Blue/text-named-jpg.jpg',
      'warning class-missing valid/003.Only_in_train',
      'warning empty-class test/002.Blue',
      'warning class-missing test/003.Only_in_train',
    ],
  );
  const broken = scan.report.problems.find((p) => p.path === 'train/001.Red/broken.jpg');
  // libvips adds its own detail ("Premature end of JPEG file") from an error buffer that concurrent
  // decodes share, so only sharp's part of the message is certain.
  assert.match(broken?.message ?? '', /could not decode image: Input (buffer|file) (has corrupt header|contains unsupported image format)/);
  const textNamedJpg = scan.report.problems.find((p) => p.path === 'test/002.Blue/text-named-jpg.jpg');
  assert.match(textNamedJpg?.message ?? '', /unsupported format/);

  assert.deepEqual(
    scan.images.filter((image) => image.split === 'train'),
    [
      { path: join(root, 'train/001.Red/r1.jpg'), name: join(root, 'train/001.Red/r1.jpg'), classIndex: 0, split: 'train' },
      { path: join(root, 'train/001.Red/r2.jpg'), name: join(root, 'train/001.Red/r2.jpg'), classIndex: 0, split: 'train' },
      { path: join(root, 'train/002.Blue/b1.jpg'), name: join(root, 'train/002.Blue/b1.jpg'), classIndex: 1, split: 'train' },
      { path: join(root, 'train/003.Only_in_train/o1.jpg'), name: join(root, 'train/003.Only_in_train/o1.jpg'), classIndex: 2, split: 'train' },
    ],
  );
  assert.deepEqual(scan.report.totals, { train: 4, valid: 3, test: 2 });
  assert.equal(scan.images.length, 9);
});

test('PNG, WebP and symlinked images count; a dangling link is skipped', async (t) => {
  const png = await sharp({ create: { width: 8, height: 8, channels: 4, background: '#00ff0080' } }).png().toBuffer();
  const webp = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#ff0' } }).webp().toBuffer();
  const root = await buildFolder({
    'train/a/1.png': png,
    'train/b/2.webp': webp,
    'valid/a/3.png': png,
    'valid/b/4.webp': webp,
    'test/a/5.png': png,
    'test/b/': '',
    'elsewhere/6.png': png,
  });
  t.after(() => rm(root, { recursive: true, force: true }));
  await symlink(join(root, 'elsewhere/6.png'), join(root, 'test/b/6.png'));
  await symlink(join(root, 'elsewhere/gone.png'), join(root, 'test/b/dangling.png'));

  const scan = await scanDataset(root);
  assert.deepEqual(
    scan.report.problems.map((p) => `${p.severity} ${p.code} ${p.path}`),
    ['warning stray-folder elsewhere', 'warning unreadable-image test/b/dangling.png'],
  );
  assert.match(scan.report.problems[1].message, /cannot be read \(ENOENT/);
  assert.equal(scan.report.ok, true);
  assert.deepEqual(scan.report.totals, { train: 2, valid: 2, test: 2 });
});

test('a path that does not exist or is not a folder is a ValidationError', async (t) => {
  const root = await buildFolder({ 'file.jpg': await jpeg('#000') });
  t.after(() => rm(root, { recursive: true, force: true }));
  const isValidationError = (pattern: RegExp) => (error: unknown) =>
    isDomainError(error) && error.code === 'ValidationError' && pattern.test(error.message);

  await assert.rejects(scanDataset(join(root, 'missing')), isValidationError(/does not exist/));
  await assert.rejects(scanDataset(join(root, 'file.jpg')), isValidationError(/is not a folder/));
});
