import type { Tag } from '../../domain/tags.ts';
import type { PermissionCheck } from '../../control/authorizer.ts';
import type { Caller } from '../../control/credentials.ts';
import type { Platform } from '../../control/platform.ts';

/** The shape of the permissions table's rules, and the helpers every service's rules share. */

// Members of a request as the handlers receive them: the decoded body, or a REST route's params and query.
type Input = Record<string, any>;

export interface PermissionContext {
  platform: Platform;
  caller: Caller;
}

export interface PermissionRule {
  checks(input: Input, context: PermissionContext): PermissionCheck[];
  /** aws:RequestTag/* and aws:TagKeys. */
  requestTags?(input: Input): Tag[];
  /** Allowed for every signed caller, whatever their policies say: STS GetCallerIdentity and GetSessionToken. */
  public?: true;
}

/** The REST routes' input: the route's parameters, its query string, its path as sent, and a JSON body when it has one. */
export interface RouteInput {
  params: Record<string, string>;
  query: Record<string, string>;
  path: string;
  body?: unknown;
}

/** Tags as SageMaker, IAM and STS send them: a list of `{Key, Value}`. */
export function awsTags(input: Input): Tag[] {
  const tags = (input.Tags ?? []) as { Key: string; Value?: string }[];
  return tags.map((tag) => ({ key: tag.Key, value: tag.Value ?? '' }));
}

/** Tags as Lambda sends them: a map. */
export function awsTagMap(tags: Record<string, string> | undefined): Tag[] {
  return Object.entries(tags ?? {}).map(([key, value]) => ({ key, value }));
}

export function anyResource(action: string): PermissionRule {
  return { checks: () => [{ action, resource: '*' }] };
}

/** iam:PassRole for each role a request hands to a service, as AWS checks it: with iam:PassedToService. */
export function passRoles(platform: Platform, roleArns: readonly (string | undefined)[], service: string): PermissionCheck[] {
  return [...new Set(roleArns.filter((arn): arn is string => typeof arn === 'string'))].map((resource) => ({
    action: 'iam:PassRole',
    resource,
    resourceTags: () => platform.iam.findRoleByArn(resource)?.tags ?? [],
    context: { 'iam:PassedToService': service },
  }));
}
