import { DomainError } from '../../core/errors.ts';
import type { Platform } from '../../control/platform.ts';
import type { JsonOperation } from '../aws/json-protocol.ts';
import { tagsFromWire, tagsToWire, type WireTag } from './wire.ts';

/** AddTags, ListTags and DeleteTags, on the ARN of any resource Kennel serves. */
export function tagOperations(platform: Platform): Record<string, JsonOperation> {
  return {
    AddTags: {
      handler: (input: { ResourceArn: string; Tags: WireTag[] }) => {
        platform.tags.add(input.ResourceArn, tagsFromWire(input.Tags));
        return { Tags: input.Tags };
      },
    },
    ListTags: {
      // A resource has at most 50 tags and MaxResults is at least 50, so one page always holds them all.
      handler: (input: { ResourceArn: string; NextToken?: string }) => {
        if (input.NextToken !== undefined) {
          throw new DomainError('ValidationError', 'Invalid pagination token: ListTags returns every tag on the first page', { field: 'NextToken' });
        }
        return { Tags: tagsToWire(platform.tags.list(input.ResourceArn)) };
      },
    },
    DeleteTags: {
      handler: (input: { ResourceArn: string; TagKeys: string[] }) => {
        platform.tags.delete(input.ResourceArn, input.TagKeys);
        return {};
      },
    },
  };
}
