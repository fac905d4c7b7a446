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

/** A model folder held by one instance: `release` once the instance is gone. */
export interface ModelFolderLease extends ModelFolder {
  release(): void;
}

/**
 * The model folders of inference scripts, unpacked once per content and shared by every
 * instance that serves it: `<root>/<key>/` holds the model archive, with the source
 * archive (when there is one) in its `code/` in place of the archive's own. A folder is
 * unpacked beside its place and renamed into it, so a crash halfway leaves no folder
 * that looks complete (store/leftovers.ts removes what one leaves).
 *
 * A folder goes once no instance holds it and it is not among the keys `wanted` returns
 * (those a deployment would start an instance of): when its last instance is gone, and at
 * every `prune`.
 */
export class ModelFolders {
  private readonly holders = new Map<string, number>();
  private readonly removing = new Map<string, Promise<void>>();

  constructor(
    private readonly root: string,
    private readonly wanted: () => ReadonlySet<string>,
  ) {}

  async prepare(key: string, load: () => Promise<{ model: Uint8Array; source?: Uint8Array }>): Promise<ModelFolderLease> {
    if (!KEY_SHAPE.test(key)) throw new Error(`not a model folder key: ${key}`);
    // Held from here on, so no prune removes it while it is unpacked or checked; one under way is waited for.
    this.holders.set(key, (this.holders.get(key) ?? 0) + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = this.holders.get(key)! - 1;
      if (left > 0) this.holders.set(key, left);
      else {
        this.holders.delete(key);
        // What cannot be removed now goes at the next prune: the next instance's end, or Kennel's next start.
        void this.prune().catch(() => {});
      }
    };
    try {
      await this.removing.get(key);
      const dir = join(this.root, key);
      if (!(await isFolder(dir))) await this.unpack(key, dir, load);
      return { modelDir: dir, codeDir: join(dir, 'code'), release };
    } catch (error) {
      release();
      throw error;
    }
  }

  /** Removes every model folder no instance holds and no deployment wants, and returns their keys. Nothing but model folders is touched. */
  async prune(): Promise<string[]> {
    const entries = await readdir(this.root, { withFileTypes: true }).catch(() => []);
    const wanted = this.wanted();
    const unused = entries
      .filter((entry) => entry.isDirectory() && KEY_SHAPE.test(entry.name))
      .map((entry) => entry.name)
      .filter((key) => !this.holders.has(key) && !this.removing.has(key) && !wanted.has(key));
    await Promise.all(unused.map((key) => this.remove(key)));
    return unused;
  }

  private remove(key: string): Promise<void> {
    const removal = rm(join(this.root, key), { recursive: true, force: true }).finally(() => this.removing.delete(key));
    this.removing.set(key, removal);
    return removal;
  }

  private async unpack(key: string, dir: string, load: () => Promise<{ model: Uint8Array; source?: Uint8Array }>): Promise<void> {
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
