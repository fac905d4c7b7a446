import { DomainError } from '../../core/errors.ts';
import type { Split } from '../data/dataset.ts';
import type { TrainingChannel } from './training-job.ts';

/** The channel that carries an ONNX backbone instead of images. */
export const BACKBONE_CHANNEL = 'backbone';

/** Channel names that stand for one split, as SageMaker users name them. */
const SPLIT_CHANNELS: Readonly<Record<string, Split>> = {
  train: 'train',
  training: 'train',
  validation: 'valid',
  valid: 'valid',
  test: 'test',
  testing: 'test',
};

export interface ChannelSource {
  channelName: string;
  uri: string;
}

/**
 * Where the image classifier finds its images: one channel holding the dogImages
 * layout (`train/`, `valid/`, `test/` inside), or one channel per split, each
 * holding class folders.
 */
export type TrainingData =
  | { layout: 'one-channel'; source: ChannelSource }
  | { layout: 'channel-per-split'; splits: Record<Split, ChannelSource> };

export interface ChannelPlan {
  data: TrainingData;
  /** An ONNX file (or a prefix holding exactly one) to use as the frozen backbone; the sample backbone when absent. */
  backbone?: ChannelSource;
}

/** Reads the image classifier's InputDataConfig, refusing combinations it cannot train on. */
export function planChannels(channels: readonly TrainingChannel[]): ChannelPlan {
  const seen = new Set<string>();
  for (const channel of channels) {
    if (seen.has(channel.channelName)) {
      throw invalid(`Channel names must be unique; ${JSON.stringify(channel.channelName)} appears more than once`);
    }
    seen.add(channel.channelName);
    if (channel.s3DataType !== 'S3Prefix') {
      throw invalid(
        `Channel ${channel.channelName}: S3DataType ${channel.s3DataType} is not supported by the image classifier; use S3Prefix (a folder or key prefix of images)`,
      );
    }
    if (channel.inputMode === 'Pipe') {
      throw invalid(`Channel ${channel.channelName}: Pipe input mode is not supported by the image classifier; use File or FastFile`);
    }
  }
  const backboneChannel = channels.find((channel) => channel.channelName === BACKBONE_CHANNEL);
  const backbone = backboneChannel && source(backboneChannel);
  const dataChannels = channels.filter((channel) => channel.channelName !== BACKBONE_CHANNEL);
  if (dataChannels.length === 0) {
    throw invalid(
      'InputDataConfig has no image channel: give one channel (e.g. "training") whose folder holds train/, valid/ and test/, or channels train, validation and test that each hold class folders',
    );
  }
  if (dataChannels.length === 1 && SPLIT_CHANNELS[dataChannels[0].channelName] !== 'valid' && SPLIT_CHANNELS[dataChannels[0].channelName] !== 'test') {
    return { data: { layout: 'one-channel', source: source(dataChannels[0]) }, ...(backbone ? { backbone } : {}) };
  }
  const splits: Partial<Record<Split, ChannelSource>> = {};
  for (const channel of dataChannels) {
    const split = SPLIT_CHANNELS[channel.channelName];
    if (!split) {
      throw invalid(
        `Channel ${JSON.stringify(channel.channelName)} is not one the image classifier reads: with several image channels, name them train, validation and test`,
      );
    }
    if (splits[split]) throw invalid(`Channels ${splits[split]!.channelName} and ${channel.channelName} both hold the ${split} split`);
    splits[split] = source(channel);
  }
  const missing = (['train', 'valid', 'test'] as const).filter((split) => !splits[split]);
  if (missing.length > 0) {
    throw invalid(`InputDataConfig has no ${missing.map((split) => (split === 'valid' ? 'validation' : split)).join(' or ')} channel; the image classifier needs train, validation and test`);
  }
  return { data: { layout: 'channel-per-split', splits: splits as Record<Split, ChannelSource> }, ...(backbone ? { backbone } : {}) };
}

function source(channel: TrainingChannel): ChannelSource {
  return { channelName: channel.channelName, uri: channel.uri };
}

function invalid(message: string): DomainError {
  return new DomainError('ValidationError', message, { field: 'InputDataConfig' });
}
