import { DomainError } from '../../core/errors.ts';
import type { Tag } from '../../domain/tags.ts';
import type { TrainingChannel } from '../../domain/training/training-job.ts';

/** Shapes every SageMaker operation shares on the wire. */

export interface WireTag {
  Key: string;
  Value: string;
}

/** Timestamps in the JSON protocols are epoch seconds, with the milliseconds as a fraction. */
export function epochSeconds(ms: number): number;
export function epochSeconds(ms: number | undefined): number | undefined;
export function epochSeconds(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms / 1000;
}

export function tagsFromWire(tags: readonly WireTag[] | undefined): Tag[] {
  return (tags ?? []).map((tag) => ({ key: tag.Key, value: tag.Value }));
}

export function tagsToWire(tags: readonly Tag[]): WireTag[] {
  return tags.map((tag) => ({ Key: tag.key, Value: tag.value }));
}

/** Drops members whose value is undefined, so optional members are absent rather than null. */
export function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined)) as T;
}

/** One element of InputDataConfig (CreateTrainingJob, and a tuning job's TrainingJobDefinition). */
export interface WireChannel {
  ChannelName: string;
  DataSource: { S3DataSource?: { S3DataType: string; S3Uri: string }; FileSystemDataSource?: unknown };
  ContentType?: string;
  CompressionType?: string;
  InputMode?: string;
}

/** InputDataConfig as Kennel's channels; `field` is where the list sits in the request, for errors. */
export function channelsFromWire(channels: readonly WireChannel[] | undefined, field: string): TrainingChannel[] {
  return (channels ?? []).map((channel, index) => {
    const at = `${field}[${index}]`;
    const s3 = channel.DataSource.S3DataSource;
    if (!s3) {
      throw new DomainError('ValidationError', `${at}.DataSource: only S3DataSource is supported (an s3:// or file:// URI); FileSystemDataSource needs EFS or FSx`, {
        field: `${at}.DataSource`,
      });
    }
    if (channel.CompressionType !== undefined && channel.CompressionType !== 'None') {
      throw new DomainError('ValidationError', `${at}.CompressionType ${channel.CompressionType} is not supported by the image classifier; use None`, {
        field: `${at}.CompressionType`,
      });
    }
    return defined({ channelName: channel.ChannelName, uri: s3.S3Uri, s3DataType: s3.S3DataType, contentType: channel.ContentType, inputMode: channel.InputMode });
  });
}

export function channelsToWire(channels: readonly TrainingChannel[]): Record<string, unknown>[] {
  return channels.map((channel) =>
    defined({
      ChannelName: channel.channelName,
      DataSource: { S3DataSource: { S3DataType: channel.s3DataType, S3Uri: channel.uri, S3DataDistributionType: 'FullyReplicated' } },
      ContentType: channel.contentType,
      CompressionType: 'None',
      InputMode: channel.inputMode,
    }),
  );
}
