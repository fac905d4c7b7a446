import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DomainError, isDomainError } from '../../core/errors.ts';
import type { EpochMetrics } from '../../domain/training/training-job.ts';
import { TRAINING_STATE_NAMES, type TrainingStateName } from '../onnx/head-model.ts';
import type { TrainerCheckpoint } from './head-trainer.ts';
import { decodeBundle, encodeBundle } from './tensor-bundle.ts';

/** A checkpoint and what it was trained on: resuming is safe only when the fingerprint matches. */
export interface SavedCheckpoint {
  checkpoint: TrainerCheckpoint;
  /** Identifies the data, backbone and hyperparameters the checkpoint belongs to. */
  fingerprint: string;
}

interface Header {
  version: 1;
  fingerprint: string;
  epoch: number;
  step: number;
  epochs: EpochMetrics[];
}

export function encodeCheckpoint(saved: SavedCheckpoint): Uint8Array {
  const { checkpoint, fingerprint } = saved;
  const header: Header = { version: 1, fingerprint, epoch: checkpoint.epoch, step: checkpoint.step, epochs: checkpoint.epochs };
  return encodeBundle(header, checkpoint.state);
}

export function decodeCheckpoint(bytes: Uint8Array, what: string): SavedCheckpoint {
  const { header, arrays } = decodeBundle<Header>(bytes, what);
  if (header.version !== 1 || TRAINING_STATE_NAMES.some((name) => !(arrays[name] instanceof Float32Array))) {
    throw new DomainError('ValidationError', `${what} is not a checkpoint of this Kennel's image classifier`);
  }
  const state = Object.fromEntries(TRAINING_STATE_NAMES.map((name) => [name, arrays[name]])) as Record<TrainingStateName, Float32Array>;
  return { fingerprint: header.fingerprint, checkpoint: { epoch: header.epoch, step: header.step, epochs: header.epochs, state } };
}

/**
 * The latest checkpoint of each training job, one file per job under the state
 * folder. A save replaces the file atomically (temp file, then rename) but is
 * not fsynced: it must survive the server being killed, which the page cache
 * does, and losing the last epochs to a power cut costs only their time.
 */
export class CheckpointFiles {
  constructor(readonly dir: string) {}

  path(jobName: string): string {
    return join(this.dir, `${jobName}.ckpt`);
  }

  async save(jobName: string, saved: SavedCheckpoint): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const temp = join(this.dir, `${jobName}.ckpt.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await writeFile(temp, encodeCheckpoint(saved));
      await rename(temp, this.path(jobName));
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  /** The job's checkpoint; undefined when there is none; `damaged` says why one could not be read. */
  async load(jobName: string): Promise<SavedCheckpoint | { damaged: string } | undefined> {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(this.path(jobName));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      return decodeCheckpoint(bytes, `The checkpoint of training job ${jobName}`);
    } catch (error) {
      if (isDomainError(error)) return { damaged: error.message };
      throw error;
    }
  }

  async remove(jobName: string): Promise<void> {
    await rm(this.path(jobName), { force: true });
  }
}
