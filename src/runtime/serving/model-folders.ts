import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { unpackArchiveInto } from '../script-mode/source-code.ts';

/** The folder name of a model archive (and source archive): their digests, so the same content shares one folder. */
export function modelFolderKey(script: { modelArchive: string; sourceArchive?: string }): string {
  return script.sourceArchive ? `${script.modelArchive}-${script.sourceArchive}` : script.modelArchive;
}

const KEY_SHAPE = /^[0-9a-f]{64}(-[0-9a-f]{64})?$/;

export interface ModelFolder {
  /** model_fn's model_dir: the unpacked model.tar.gz. */
  modelDir: string;
  /** The script's folder: `code/` of the model folder, as SageMaker's containers lay it out. */
  codeDir: string;
}

const GIB = 1024 ** 3;
/** What an instance unpacks of a model archive, and of a source archive; CreateModel checks archives against the same. */
export const MODEL_FOLDER_LIMITS = { maxFiles: 100_000, maxBytes: 4 * GIB, label: 'model.tar.gz' } as const;
export const SOURCE_FOLDER_LIMITS = { maxFiles: 100_000, maxBytes: GIB, label: 'the source (SAGEMAKER_SUBMIT_DIRECTORY)' } as const;

/**
 * The model folders of inference scripts, unpacked once per content and shared by every
 * instance that serves it: `<root>/<key>/` holds the model archive, with the source
 * archive (when there is one) in its `code/` in place of the archive's own. A folder is
 * unpacked beside its place and renamed into it, so a crash halfway leaves no folder
 * that looks complete (store/leftovers.ts removes what one leaves).
 */
export class ModelFolders {
  constructor(private readonly root: string) {}

  async prepare(key: string, load: () => Promise<{ model: Uint8Array; source?: Uint8Array }>): Promise<ModelFolder> {
    const dir = join(this.root, key);
    const folder = { modelDir: dir, codeDir: join(dir, 'code') };
    if (await isFolder(dir)) return folder;
    await mkdir(this.root, { recursive: true });
    const temp = await mkdtemp(join(this.root, `.unpacking-${key}-`));
    try {
      const { model, source } = await load();
      await unpackArchiveInto(model, temp, MODEL_FOLDER_LIMITS.label, MODEL_FOLDER_LIMITS);
      if (source) {
        await rm(join(temp, 'code'), { recursive: true, force: true });
        await mkdir(join(temp, 'code'));
        await unpackArchiveInto(source, join(temp, 'code'), SOURCE_FOLDER_LIMITS.label, SOURCE_FOLDER_LIMITS);
      }
      await mkdir(join(temp, 'code'), { recursive: true });
      await rename(temp, dir).catch(async (error: NodeJS.ErrnoException) => {
        // Another instance unpacked the same content first: use that one.
        if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
      });
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
    return folder;
  }

  /**
   * Removes the model folders not in `keep` (those of no deployment any more), and returns their keys.
   * Only while no instance runs: at start, before endpoints are brought up. Nothing but model folders is touched.
   */
  async removeExcept(keep: ReadonlySet<string>): Promise<string[]> {
    const entries = await readdir(this.root, { withFileTypes: true }).catch(() => []);
    const unused = entries.filter((entry) => entry.isDirectory() && KEY_SHAPE.test(entry.name) && !keep.has(entry.name)).map((entry) => entry.name);
    await Promise.all(unused.map((key) => rm(join(this.root, key), { recursive: true, force: true })));
    return unused;
  }

  /** A fresh private folder for one instance (its HOME and TMPDIR); the caller removes it when the instance ends. */
  async instanceDir(): Promise<string> {
    const dir = join(this.root, 'instances', randomUUID());
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return dir;
  }
}

async function isFolder(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isDirectory(),
    () => false,
  );
}
