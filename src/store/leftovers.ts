import { readdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { StateDir } from './state-dir.ts';

/**
 * Removes the temporary files and folders a killed server leaves in the state
 * folder, and returns their paths:
 *
 * - everything in `<artifacts>/tmp/`: artifact writes in progress (artifacts.ts);
 * - `<samples>/.images.partial-<uuid>` folders, and their `.old` siblings: a sample
 *   set being generated, or an outdated one moved aside (sample-images.ts). The
 *   set is deterministic and regenerated when missing;
 * - `<credentials>.<pid>.tmp`: a credentials file being written (credentials-file.ts);
 * - `<secrets.key>.<pid>.tmp`: the key file being created (secret-box.ts);
 * - `<checkpoints>/<job>.ckpt.<hex>.tmp`: a checkpoint being written (checkpoint-files.ts);
 * - everything in `<sandboxes>/`: execution environments' temporary folders (function-sandboxes.ts),
 *   which live only as long as their environment;
 * - `<function code>/<digest>.unpacking-XXXXXX`: a deployment package being unpacked (function-package.ts);
 * - `<serving>/instances/`: inference-script instances' private folders, and `<serving>/.unpacking-<key>-XXXXXX`:
 *   a model folder being unpacked (model-folders.ts).
 *
 * Nothing else is touched. Call it only while holding the state lock
 * (state-lock.ts): a running server's temp files look exactly like these.
 */
export async function removeLeftovers(dirs: StateDir): Promise<{ removed: string[] }> {
  const removed: string[] = [];
  const remove = async (path: string) => {
    await rm(path, { recursive: true, force: true });
    removed.push(path);
  };

  const artifactTemp = join(dirs.artifactsDir, 'tmp');
  for (const entry of await entries(artifactTemp)) await remove(join(artifactTemp, entry.name));

  // The sample workflow generates into `<samples>/images`.
  const partialSamples = /^\.images\.partial-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(\.old)?$/;
  for (const entry of await entries(dirs.samplesDir)) {
    if (entry.isDirectory() && partialSamples.test(entry.name)) await remove(join(dirs.samplesDir, entry.name));
  }

  for (const entry of await entries(dirs.checkpointsDir)) {
    if (entry.isFile() && /\.ckpt\.[0-9a-f]{12}\.tmp$/.test(entry.name)) await remove(join(dirs.checkpointsDir, entry.name));
  }

  for (const entry of await entries(dirs.tracesDir)) {
    if (entry.isFile() && /\.jsonl\.[0-9a-f]{12}\.tmp$/.test(entry.name)) await remove(join(dirs.tracesDir, entry.name));
  }

  for (const entry of await entries(dirs.sandboxesDir)) await remove(join(dirs.sandboxesDir, entry.name));
  for (const entry of await entries(dirs.functionCodeDir)) {
    if (entry.isDirectory() && /^[0-9a-f]{64}\.unpacking-[A-Za-z0-9]{6}$/.test(entry.name)) await remove(join(dirs.functionCodeDir, entry.name));
  }

  for (const entry of await entries(dirs.servingDir)) {
    if (entry.isDirectory() && (entry.name === 'instances' || /^\.unpacking-[0-9a-f-]+-[A-Za-z0-9]{6}$/.test(entry.name))) await remove(join(dirs.servingDir, entry.name));
  }

  for (const file of [dirs.credentialsFile, dirs.secretKeyFile]) {
    const dir = dirname(file);
    const temp = new RegExp(`^${escapeRegExp(basename(file))}\\.\\d+\\.tmp$`);
    for (const entry of await entries(dir)) {
      if (entry.isFile() && temp.test(entry.name)) await remove(join(dir, entry.name));
    }
  }
  return { removed };
}

async function entries(dir: string) {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
