import { functionArn, parseFunctionName } from '../../domain/functions/function-names.ts';
import type { PermissionCheck } from '../../control/authorizer.ts';
import { LAMBDA_SCOPE } from '../../control/functions.ts';
import type { Platform } from '../../control/platform.ts';
import { awsTagMap, passRoles, type PermissionRule } from './permission-rules.ts';

type Input = Record<string, any>;

/**
 * Lambda's actions on a function: the resource is the function's ARN,
 * qualified when the request names a version or alias; the function's
 * resource-based policy (AddPermission) is evaluated with the caller's own
 * policies, and its tags feed aws:ResourceTag.
 */
function onFunction(action: string, options: { qualified?: boolean; extra?: (input: Input, platform: Platform) => PermissionCheck[] } = {}): PermissionRule {
  return {
    checks: (input, { platform }) => [functionCheck(action, input, platform, options.qualified !== false), ...(options.extra?.(input, platform) ?? [])],
  };
}

function functionCheck(action: string, input: Input, platform: Platform, qualified: boolean): PermissionCheck {
  let name = String(input.FunctionName ?? input.Resource ?? '');
  let qualifier: string | undefined = qualified ? input.Qualifier : undefined;
  try {
    const parsed = parseFunctionName(name, qualifier, LAMBDA_SCOPE);
    name = parsed.functionName;
    qualifier = qualified ? parsed.qualifier : undefined;
  } catch {
    // A malformed name is refused by the operation with Lambda's message; authorising it on that name grants nothing else.
  }
  const fn = platform.deps.store.lambdaFunctions.get(name);
  return {
    action: `lambda:${action}`,
    resource: functionArn(name, LAMBDA_SCOPE, qualifier),
    ...(fn?.policy !== undefined ? { resourcePolicy: { label: `${fn.arn} (resource-based policy)`, document: fn.policy, kind: 'resource' as const } } : {}),
    resourceTags: () => Object.entries(fn?.tags ?? {}).map(([key, value]) => ({ key, value })),
  };
}

const anywhere = (action: string): PermissionRule => ({ checks: () => [{ action: `lambda:${action}`, resource: '*' }] });

export const LAMBDA_PERMISSIONS: Readonly<Record<string, PermissionRule>> = {
  'lambda.CreateFunction': {
    ...onFunction('CreateFunction', { qualified: false, extra: (input, platform) => passRoles(platform, [input.Role], 'lambda.amazonaws.com') }),
    requestTags: (input) => awsTagMap(input.Tags),
  },
  'lambda.GetFunction': onFunction('GetFunction'),
  'lambda.GetFunctionConfiguration': onFunction('GetFunctionConfiguration'),
  'lambda.ListFunctions': anywhere('ListFunctions'),
  'lambda.UpdateFunctionCode': onFunction('UpdateFunctionCode', { qualified: false }),
  'lambda.UpdateFunctionConfiguration': onFunction('UpdateFunctionConfiguration', { qualified: false, extra: (input, platform) => passRoles(platform, [input.Role], 'lambda.amazonaws.com') }),
  'lambda.DeleteFunction': onFunction('DeleteFunction'),
  'lambda.Invoke': onFunction('InvokeFunction'),
  'lambda.PublishVersion': onFunction('PublishVersion', { qualified: false }),
  'lambda.ListVersionsByFunction': onFunction('ListVersionsByFunction', { qualified: false }),
  'lambda.CreateAlias': onFunction('CreateAlias', { qualified: false }),
  'lambda.UpdateAlias': { checks: (input, context) => onFunction('UpdateAlias').checks({ ...input, Qualifier: input.Name }, context) },
  'lambda.GetAlias': { checks: (input, context) => onFunction('GetAlias').checks({ ...input, Qualifier: input.Name }, context) },
  'lambda.DeleteAlias': { checks: (input, context) => onFunction('DeleteAlias').checks({ ...input, Qualifier: input.Name }, context) },
  'lambda.ListAliases': onFunction('ListAliases', { qualified: false }),
  'lambda.PutFunctionConcurrency': onFunction('PutFunctionConcurrency', { qualified: false }),
  'lambda.GetFunctionConcurrency': onFunction('GetFunctionConcurrency', { qualified: false }),
  'lambda.DeleteFunctionConcurrency': onFunction('DeleteFunctionConcurrency', { qualified: false }),
  'lambda.PutProvisionedConcurrencyConfig': onFunction('PutProvisionedConcurrencyConfig'),
  'lambda.GetProvisionedConcurrencyConfig': onFunction('GetProvisionedConcurrencyConfig'),
  'lambda.DeleteProvisionedConcurrencyConfig': onFunction('DeleteProvisionedConcurrencyConfig'),
  'lambda.ListProvisionedConcurrencyConfigs': onFunction('ListProvisionedConcurrencyConfigs', { qualified: false }),
  'lambda.GetAccountSettings': anywhere('GetAccountSettings'),
  'lambda.AddPermission': onFunction('AddPermission'),
  'lambda.RemovePermission': onFunction('RemovePermission'),
  'lambda.GetPolicy': onFunction('GetPolicy'),
  // A destination is checked against the function's execution role, which Lambda sends records as (FunctionPolicyService), not against the caller.
  'lambda.PutFunctionEventInvokeConfig': onFunction('PutFunctionEventInvokeConfig'),
  'lambda.UpdateFunctionEventInvokeConfig': onFunction('UpdateFunctionEventInvokeConfig'),
  'lambda.GetFunctionEventInvokeConfig': onFunction('GetFunctionEventInvokeConfig'),
  'lambda.DeleteFunctionEventInvokeConfig': onFunction('DeleteFunctionEventInvokeConfig'),
  'lambda.ListFunctionEventInvokeConfigs': onFunction('ListFunctionEventInvokeConfigs', { qualified: false }),
  'lambda.TagResource': { ...onFunction('TagResource', { qualified: false }), requestTags: (input) => awsTagMap(input.Tags) },
  'lambda.UntagResource': {
    checks: (input, context) => onFunction('UntagResource', { qualified: false }).checks(input, context).map((check) => ({ ...check, context: { 'aws:TagKeys': input.TagKeys ?? [] } })),
  },
  'lambda.ListTags': onFunction('ListTags', { qualified: false }),
};
