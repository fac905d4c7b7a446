import { ACCOUNT_ID, DEFAULT_REGION, iamArn, sageMakerArn, type SageMakerResourceType } from '../../domain/iam/arn.ts';
import { ACTION_CATALOG } from '../../domain/iam/action-catalog.ts';
import type { Tag } from '../../domain/tags.ts';
import type { PermissionCheck } from '../../control/authorizer.ts';
import type { Caller } from '../../control/credentials.ts';
import type { Platform } from '../../control/platform.ts';
import { objectAddress } from '../routes/kennel-objects.ts';
import { functionArn } from '../../domain/functions/function-names.ts';
import { LAMBDA_SCOPE } from '../../control/functions.ts';
import { LAMBDA_PERMISSIONS } from './lambda-permissions.ts';
import { anyResource, awsTags, passRoles, type PermissionRule } from './permission-rules.ts';

export type { PermissionContext, PermissionRule, RouteInput } from './permission-rules.ts';

/**
 * What every route needs from IAM, in one table: the action, the resource
 * ARN, the condition keys and the tags the request sets. Keys are
 * `<X-Amz-Target prefix>.<Operation>` for the JSON services,
 * `<signing name>.<Action>` for the query services (iam, sts), and
 * `<METHOD> <route path>` for the REST routes. A test fails when a route has
 * no entry, or an entry names an action the catalogue does not know.
 */

// Members of a request as the handlers receive them: the decoded body, or a REST route's params and query.
type Input = Record<string, any>;

const REGION = DEFAULT_REGION;

/** A resource of SageMaker: its tags feed aws:ResourceTag. */
function sageMakerResource(action: string, type: SageMakerResourceType, nameOf: (input: Input) => string): PermissionRule {
  return {
    checks: (input, { platform }) => {
      const resource = sageMakerArn(type, nameOf(input), REGION);
      return [{ action: `sagemaker:${action}`, resource, resourceTags: () => platform.tags.find(resource) }];
    },
  };
}

/** A resource created with tags: aws:RequestTag and aws:TagKeys come from the request's Tags. */
function creating(
  action: string,
  type: SageMakerResourceType,
  nameOf: (input: Input) => string,
  extra: (input: Input, platform: Platform) => PermissionCheck[] = () => [],
): PermissionRule {
  return {
    checks: (input, { platform }) => [{ action: `sagemaker:${action}`, resource: sageMakerArn(type, nameOf(input), REGION) }, ...extra(input, platform)],
    requestTags: awsTags,
  };
}

const trainingJob = (input: Input) => input.TrainingJobName as string;
const tuningJob = (input: Input) => input.HyperParameterTuningJobName as string;
const model = (input: Input) => input.ModelName as string;
const endpointConfig = (input: Input) => input.EndpointConfigName as string;
const endpoint = (input: Input) => input.EndpointName as string;

const SAGEMAKER: Record<string, PermissionRule> = {
  'SageMaker.CreateTrainingJob': creating('CreateTrainingJob', 'training-job', trainingJob, (input, platform) => passRoles(platform, [input.RoleArn], 'sagemaker.amazonaws.com')),
  'SageMaker.DescribeTrainingJob': sageMakerResource('DescribeTrainingJob', 'training-job', trainingJob),
  'SageMaker.ListTrainingJobs': anyResource('sagemaker:ListTrainingJobs'),
  'SageMaker.StopTrainingJob': sageMakerResource('StopTrainingJob', 'training-job', trainingJob),
  'SageMaker.CreateHyperParameterTuningJob': creating('CreateHyperParameterTuningJob', 'hyper-parameter-tuning-job', tuningJob, (input, platform) =>
    passRoles(
      platform,
      [input.TrainingJobDefinition?.RoleArn, ...((input.TrainingJobDefinitions ?? []) as Input[]).map((definition) => definition.RoleArn)],
      'sagemaker.amazonaws.com',
    ),
  ),
  'SageMaker.DescribeHyperParameterTuningJob': sageMakerResource('DescribeHyperParameterTuningJob', 'hyper-parameter-tuning-job', tuningJob),
  'SageMaker.ListHyperParameterTuningJobs': anyResource('sagemaker:ListHyperParameterTuningJobs'),
  'SageMaker.ListTrainingJobsForHyperParameterTuningJob': sageMakerResource('ListTrainingJobsForHyperParameterTuningJob', 'hyper-parameter-tuning-job', tuningJob),
  'SageMaker.StopHyperParameterTuningJob': sageMakerResource('StopHyperParameterTuningJob', 'hyper-parameter-tuning-job', tuningJob),
  'SageMaker.CreateModel': creating('CreateModel', 'model', model, (input, platform) => passRoles(platform, [input.ExecutionRoleArn], 'sagemaker.amazonaws.com')),
  'SageMaker.DescribeModel': sageMakerResource('DescribeModel', 'model', model),
  'SageMaker.ListModels': anyResource('sagemaker:ListModels'),
  'SageMaker.DeleteModel': sageMakerResource('DeleteModel', 'model', model),
  'SageMaker.CreateEndpointConfig': creating('CreateEndpointConfig', 'endpoint-config', endpointConfig),
  'SageMaker.DescribeEndpointConfig': sageMakerResource('DescribeEndpointConfig', 'endpoint-config', endpointConfig),
  'SageMaker.ListEndpointConfigs': anyResource('sagemaker:ListEndpointConfigs'),
  'SageMaker.DeleteEndpointConfig': sageMakerResource('DeleteEndpointConfig', 'endpoint-config', endpointConfig),
  'SageMaker.CreateEndpoint': creating('CreateEndpoint', 'endpoint', endpoint),
  'SageMaker.DescribeEndpoint': sageMakerResource('DescribeEndpoint', 'endpoint', endpoint),
  'SageMaker.ListEndpoints': anyResource('sagemaker:ListEndpoints'),
  'SageMaker.DeleteEndpoint': sageMakerResource('DeleteEndpoint', 'endpoint', endpoint),
  'SageMaker.UpdateEndpoint': sageMakerResource('UpdateEndpoint', 'endpoint', endpoint),
  'SageMaker.UpdateEndpointWeightsAndCapacities': sageMakerResource('UpdateEndpointWeightsAndCapacities', 'endpoint', endpoint),
  'SageMaker.AddTags': {
    checks: (input, { platform }) => [{ action: 'sagemaker:AddTags', resource: input.ResourceArn, resourceTags: () => platform.tags.find(input.ResourceArn) }],
    requestTags: awsTags,
  },
  'SageMaker.ListTags': {
    checks: (input, { platform }) => [{ action: 'sagemaker:ListTags', resource: input.ResourceArn, resourceTags: () => platform.tags.find(input.ResourceArn) }],
  },
  'SageMaker.DeleteTags': {
    checks: (input, { platform }) => [
      {
        action: 'sagemaker:DeleteTags',
        resource: input.ResourceArn,
        resourceTags: () => platform.tags.find(input.ResourceArn),
        context: { 'aws:TagKeys': input.TagKeys ?? [] },
      },
    ],
  },
};

/** Application Auto Scaling's calls name no resource Kennel scopes: each is its action on `*`. */
const AUTOSCALING: Record<string, PermissionRule> = Object.fromEntries(
  ACTION_CATALOG['application-autoscaling'].map((operation) => [`AnyScaleFrontendService.${operation}`, anyResource(`application-autoscaling:${operation}`)]),
);

type IamKind = 'user' | 'group' | 'role';

/** An IAM entity's ARN: the stored one (it carries the path) when it exists, else the one it would have. */
function iamEntityArn(platform: Platform, kind: IamKind, name: string, path = '/'): string {
  const { store } = platform.deps;
  const entity = kind === 'user' ? store.iamUsers.get(name) : kind === 'group' ? store.iamGroups.get(name) : store.iamRoles.get(name);
  return entity?.arn ?? iamArn(kind, path, name);
}

/** The user an operation names, or the caller when UserName is omitted (GetUser, CreateAccessKey, …). */
function userOrCaller(input: Input, caller: Caller): string {
  return (input.UserName as string | undefined) ?? caller.userName ?? caller.arn;
}

/** Users' and roles' tags, for aws:ResourceTag conditions on IAM actions (groups have none). */
function iamEntityTags(platform: Platform, kind: IamKind, name: string): readonly Tag[] {
  const { store } = platform.deps;
  return (kind === 'user' ? store.iamUsers.get(name)?.tags : kind === 'role' ? store.iamRoles.get(name)?.tags : undefined) ?? [];
}

/**
 * An IAM action on a user, group or role named by `member`. Condition keys:
 * iam:PolicyARN where a managed policy is attached or detached, and
 * iam:PermissionsBoundary where one is set (the delegated-administrator
 * pattern: "may create users only with this boundary").
 */
function onIdentity(action: string, kind: IamKind, member: string): PermissionRule {
  return {
    checks: (input, { platform }) => [
      {
        action: `iam:${action}`,
        resource: iamEntityArn(platform, kind, input[member], input.Path),
        resourceTags: () => iamEntityTags(platform, kind, input[member]),
        context: {
          ...(input.PolicyArn !== undefined ? { 'iam:PolicyARN': input.PolicyArn } : {}),
          ...(input.PermissionsBoundary !== undefined ? { 'iam:PermissionsBoundary': input.PermissionsBoundary } : {}),
        },
      },
    ],
    ...(action.startsWith('Create') || action.startsWith('Tag') ? { requestTags: awsTags } : {}),
  };
}

function onCallerUser(action: string): PermissionRule {
  return {
    checks: (input, { platform, caller }) => {
      const name = userOrCaller(input, caller);
      return [{ action: `iam:${action}`, resource: name.startsWith('arn:') ? name : iamEntityArn(platform, 'user', name) }];
    },
  };
}

function onPolicy(action: string): PermissionRule {
  return { checks: (input) => [{ action: `iam:${action}`, resource: input.PolicyArn }] };
}

const IAM: Record<string, PermissionRule> = {
  'iam.CreateUser': onIdentity('CreateUser', 'user', 'UserName'),
  'iam.GetUser': onCallerUser('GetUser'),
  'iam.ListUsers': anyResource('iam:ListUsers'),
  'iam.DeleteUser': onIdentity('DeleteUser', 'user', 'UserName'),
  'iam.TagUser': onIdentity('TagUser', 'user', 'UserName'),
  'iam.UntagUser': {
    checks: (input, { platform }) => [{ action: 'iam:UntagUser', resource: iamEntityArn(platform, 'user', input.UserName), context: { 'aws:TagKeys': input.TagKeys ?? [] } }],
  },
  'iam.ListUserTags': onIdentity('ListUserTags', 'user', 'UserName'),
  'iam.CreateGroup': onIdentity('CreateGroup', 'group', 'GroupName'),
  'iam.GetGroup': onIdentity('GetGroup', 'group', 'GroupName'),
  'iam.ListGroups': anyResource('iam:ListGroups'),
  'iam.DeleteGroup': onIdentity('DeleteGroup', 'group', 'GroupName'),
  'iam.AddUserToGroup': onIdentity('AddUserToGroup', 'group', 'GroupName'),
  'iam.RemoveUserFromGroup': onIdentity('RemoveUserFromGroup', 'group', 'GroupName'),
  'iam.ListGroupsForUser': onIdentity('ListGroupsForUser', 'user', 'UserName'),
  'iam.CreateRole': onIdentity('CreateRole', 'role', 'RoleName'),
  'iam.GetRole': onIdentity('GetRole', 'role', 'RoleName'),
  'iam.ListRoles': anyResource('iam:ListRoles'),
  'iam.DeleteRole': onIdentity('DeleteRole', 'role', 'RoleName'),
  'iam.UpdateAssumeRolePolicy': onIdentity('UpdateAssumeRolePolicy', 'role', 'RoleName'),
  'iam.TagRole': onIdentity('TagRole', 'role', 'RoleName'),
  'iam.UntagRole': {
    checks: (input, { platform }) => [{ action: 'iam:UntagRole', resource: iamEntityArn(platform, 'role', input.RoleName), context: { 'aws:TagKeys': input.TagKeys ?? [] } }],
  },
  'iam.ListRoleTags': onIdentity('ListRoleTags', 'role', 'RoleName'),
  'iam.CreateAccessKey': onCallerUser('CreateAccessKey'),
  'iam.ListAccessKeys': onCallerUser('ListAccessKeys'),
  'iam.UpdateAccessKey': onCallerUser('UpdateAccessKey'),
  'iam.DeleteAccessKey': onCallerUser('DeleteAccessKey'),
  'iam.GetAccessKeyLastUsed': {
    checks: (input, { platform }) => {
      const key = platform.deps.store.accessKeys.get(input.AccessKeyId);
      return [{ action: 'iam:GetAccessKeyLastUsed', resource: key ? iamEntityArn(platform, 'user', key.userName) : '*' }];
    },
  },
  'iam.CreatePolicy': {
    checks: (input) => [{ action: 'iam:CreatePolicy', resource: iamArn('policy', input.Path ?? '/', input.PolicyName) }],
    requestTags: awsTags,
  },
  'iam.GetPolicy': onPolicy('GetPolicy'),
  'iam.GetPolicyVersion': onPolicy('GetPolicyVersion'),
  'iam.CreatePolicyVersion': onPolicy('CreatePolicyVersion'),
  'iam.ListPolicyVersions': onPolicy('ListPolicyVersions'),
  'iam.DeletePolicyVersion': onPolicy('DeletePolicyVersion'),
  'iam.SetDefaultPolicyVersion': onPolicy('SetDefaultPolicyVersion'),
  'iam.ListPolicies': anyResource('iam:ListPolicies'),
  'iam.DeletePolicy': onPolicy('DeletePolicy'),
  'iam.ListEntitiesForPolicy': onPolicy('ListEntitiesForPolicy'),
  'iam.AttachUserPolicy': onIdentity('AttachUserPolicy', 'user', 'UserName'),
  'iam.DetachUserPolicy': onIdentity('DetachUserPolicy', 'user', 'UserName'),
  'iam.ListAttachedUserPolicies': onIdentity('ListAttachedUserPolicies', 'user', 'UserName'),
  'iam.AttachGroupPolicy': onIdentity('AttachGroupPolicy', 'group', 'GroupName'),
  'iam.DetachGroupPolicy': onIdentity('DetachGroupPolicy', 'group', 'GroupName'),
  'iam.ListAttachedGroupPolicies': onIdentity('ListAttachedGroupPolicies', 'group', 'GroupName'),
  'iam.AttachRolePolicy': onIdentity('AttachRolePolicy', 'role', 'RoleName'),
  'iam.DetachRolePolicy': onIdentity('DetachRolePolicy', 'role', 'RoleName'),
  'iam.ListAttachedRolePolicies': onIdentity('ListAttachedRolePolicies', 'role', 'RoleName'),
  'iam.PutUserPolicy': onIdentity('PutUserPolicy', 'user', 'UserName'),
  'iam.GetUserPolicy': onIdentity('GetUserPolicy', 'user', 'UserName'),
  'iam.DeleteUserPolicy': onIdentity('DeleteUserPolicy', 'user', 'UserName'),
  'iam.ListUserPolicies': onIdentity('ListUserPolicies', 'user', 'UserName'),
  'iam.PutGroupPolicy': onIdentity('PutGroupPolicy', 'group', 'GroupName'),
  'iam.GetGroupPolicy': onIdentity('GetGroupPolicy', 'group', 'GroupName'),
  'iam.DeleteGroupPolicy': onIdentity('DeleteGroupPolicy', 'group', 'GroupName'),
  'iam.ListGroupPolicies': onIdentity('ListGroupPolicies', 'group', 'GroupName'),
  'iam.PutRolePolicy': onIdentity('PutRolePolicy', 'role', 'RoleName'),
  'iam.GetRolePolicy': onIdentity('GetRolePolicy', 'role', 'RoleName'),
  'iam.DeleteRolePolicy': onIdentity('DeleteRolePolicy', 'role', 'RoleName'),
  'iam.ListRolePolicies': onIdentity('ListRolePolicies', 'role', 'RoleName'),
  'iam.PutUserPermissionsBoundary': onIdentity('PutUserPermissionsBoundary', 'user', 'UserName'),
  'iam.DeleteUserPermissionsBoundary': onIdentity('DeleteUserPermissionsBoundary', 'user', 'UserName'),
  'iam.PutRolePermissionsBoundary': onIdentity('PutRolePermissionsBoundary', 'role', 'RoleName'),
  'iam.DeleteRolePermissionsBoundary': onIdentity('DeleteRolePermissionsBoundary', 'role', 'RoleName'),
  'iam.SimulatePrincipalPolicy': { checks: (input) => [{ action: 'iam:SimulatePrincipalPolicy', resource: input.PolicySourceArn }] },
  'iam.SimulateCustomPolicy': anyResource('iam:SimulateCustomPolicy'),
};

/**
 * sts:AssumeRole is decided by the caller's policies together with the role's
 * trust policy, which must allow. A role that does not exist gets a trust
 * policy that allows nothing, so the answer is the same AccessDenied as a
 * role that does not trust the caller.
 */
function onRoleWithTrust(action: string, input: Input, platform: Platform): PermissionCheck {
  const role = platform.iam.findRoleByArn(input.RoleArn);
  return {
    action,
    resource: input.RoleArn,
    resourcePolicy: role
      ? { label: `${role.arn} (trust policy)`, document: role.assumeRolePolicyDocument, kind: 'trust' }
      : { label: 'no such role', document: TRUSTS_NOBODY, kind: 'trust' },
    ...(role ? { resourceTags: () => role.tags } : {}),
    context: {
      ...(input.ExternalId !== undefined ? { 'sts:ExternalId': input.ExternalId } : {}),
      ...(input.RoleSessionName !== undefined ? { 'sts:RoleSessionName': input.RoleSessionName } : {}),
    },
  };
}

/** A trust policy no caller matches: assuming a missing role is refused like assuming one that trusts someone else. */
const TRUSTS_NOBODY = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'no-such-role.kennel.internal' }, Action: 'sts:AssumeRole' }] });

const STS: Record<string, PermissionRule> = {
  'sts.GetCallerIdentity': { checks: () => [{ action: 'sts:GetCallerIdentity', resource: '*' }], public: true },
  'sts.AssumeRole': {
    checks: (input, { platform }) => [
      onRoleWithTrust('sts:AssumeRole', input, platform),
      // Session tags need sts:TagSession too, from both the caller's policies and the trust policy.
      ...((input.Tags ?? []).length > 0 ? [onRoleWithTrust('sts:TagSession', input, platform)] : []),
    ],
    requestTags: awsTags,
  },
  // "No permissions are required for users to perform this operation" (GetSessionToken's API reference).
  'sts.GetSessionToken': { checks: () => [{ action: 'sts:GetSessionToken', resource: '*' }], public: true },
};

function lambdaFunctionArn(name: string, qualifier?: string): string {
  return functionArn(name, LAMBDA_SCOPE, qualifier === '$LATEST' ? undefined : qualifier);
}

function kennelResource(type: string, name: string): string {
  return `arn:aws:kennel:${REGION}:${ACCOUNT_ID}:${type}/${name}`;
}

/** S3's ARNs have no region or account: `arn:aws:s3:::bucket/key`. */
function objectArn(input: Input): string {
  const { bucket, key } = objectAddress(input.path);
  return `arn:aws:s3:::${bucket}/${key}`;
}

const REST: Record<string, PermissionRule> = {
  'POST /endpoints/:name/invocations': {
    checks: (input, { platform }) => {
      const resource = sageMakerArn('endpoint', input.params.name, REGION);
      return [{ action: 'sagemaker:InvokeEndpoint', resource, resourceTags: () => platform.tags.find(resource) }];
    },
  },
  'GET /kennel/datasets': anyResource('kennel:ListDatasets'),
  'GET /kennel/datasets/:name': { checks: (input) => [{ action: 'kennel:DescribeDataset', resource: kennelResource('dataset', input.params.name) }] },
  'POST /kennel/datasets': {
    // A body without a name is refused by the route after this; authorising it on no dataset grants nothing.
    checks: (input) => [{ action: 'kennel:RegisterDataset', resource: kennelResource('dataset', typeof input.body?.name === 'string' ? input.body.name : '') }],
  },
  'POST /kennel/datasets/validate': anyResource('kennel:ValidateDataset'),
  'GET /kennel/training-jobs/:name/metrics': {
    checks: (input) => [{ action: 'kennel:GetTrainingJobMetrics', resource: sageMakerArn('training-job', input.params.name, REGION) }],
  },
  'GET /kennel/training-jobs/:name/trace': {
    checks: (input) => [{ action: 'kennel:GetTrainingJobTrace', resource: sageMakerArn('training-job', input.params.name, REGION) }],
  },
  'GET /kennel/training-jobs/:name/logs': {
    checks: (input) => [{ action: 'kennel:GetTrainingJobLogs', resource: sageMakerArn('training-job', input.params.name, REGION) }],
  },
  'GET /kennel/endpoints/:name/logs': {
    checks: (input) => [{ action: 'kennel:GetEndpointLogs', resource: sageMakerArn('endpoint', input.params.name, REGION) }],
  },
  'GET /kennel/tuning-jobs/:name/trials': {
    checks: (input) => [{ action: 'kennel:ListTuningJobTrials', resource: sageMakerArn('hyper-parameter-tuning-job', input.params.name, REGION) }],
  },
  'GET /kennel/iam/audit-events': anyResource('kennel:LookupAuditEvents'),
  'GET /kennel/iam/suggested-policy': { checks: (input) => [{ action: 'kennel:SuggestPolicy', resource: input.query.principal ?? '*' }] },
  'GET /kennel/iam/unused-permissions': { checks: (input) => [{ action: 'kennel:ListUnusedPermissions', resource: input.query.principal ?? '*' }] },
  'GET /kennel/functions/:name/metrics': { checks: (input) => [{ action: 'kennel:GetFunctionMetrics', resource: lambdaFunctionArn(input.params.name) }] },
  'GET /kennel/functions/:name/dead-letters': { checks: (input) => [{ action: 'kennel:ListFunctionDeadLetters', resource: lambdaFunctionArn(input.params.name) }] },
  'POST /kennel/functions/:name/dead-letters/redrive': {
    checks: (input) => [{ action: 'kennel:RedriveFunctionDeadLetters', resource: lambdaFunctionArn(input.params.name) }],
  },
  // The package GetFunction's Code.Location points to: readable by whoever may call GetFunction.
  'GET /kennel/functions/:name/code': { checks: (input) => [{ action: 'lambda:GetFunction', resource: lambdaFunctionArn(input.params.name, input.query.version) }] },
  'GET /kennel/objects/:bucket': {
    checks: (input) => [{ action: 's3:ListBucket', resource: `arn:aws:s3:::${input.params.bucket}`, context: { 's3:prefix': input.query.prefix ?? '' } }],
  },
  'PUT /kennel/objects/:bucket/*': { checks: (input) => [{ action: 's3:PutObject', resource: objectArn(input) }] },
  'GET /kennel/objects/:bucket/*': { checks: (input) => [{ action: 's3:GetObject', resource: objectArn(input) }] },
  'DELETE /kennel/objects/:bucket/*': { checks: (input) => [{ action: 's3:DeleteObject', resource: objectArn(input) }] },
};

export const PERMISSIONS: Readonly<Record<string, PermissionRule>> = { ...SAGEMAKER, ...AUTOSCALING, ...IAM, ...STS, ...LAMBDA_PERMISSIONS, ...REST };

/** Routes that answer without a signature, so have no entry: readiness and Prometheus metrics. */
export const UNSIGNED_ROUTES = ['GET /ping', 'GET /metrics'] as const;
