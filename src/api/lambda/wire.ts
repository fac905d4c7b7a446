import type { EventInvokeConfig, FunctionAlias, FunctionSettings, FunctionStatus, FunctionVersion, LambdaFunction, ProvisionedConcurrency } from '../../domain/functions/function.ts';
import { functionArn } from '../../domain/functions/function-names.ts';
import { LAMBDA_SCOPE } from '../../control/functions.ts';

/** Lambda's name for the architecture of the machine Kennel runs on, where functions run. */
export const HOST_ARCHITECTURE = process.arch === 'arm64' ? 'arm64' : 'x86_64';

/** Lambda's timestamps: ISO 8601 with milliseconds and a numeric zone, `2024-01-01T12:00:00.000+0000`. */
export function lambdaTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

/** FunctionConfiguration of $LATEST (unqualified ARN, or `:$LATEST` in version lists) or of a published version. */
export function configurationToWire(fn: LambdaFunction, version?: FunctionVersion, latestQualified = false): Record<string, unknown> {
  const settings: FunctionSettings = version ?? fn;
  // A version published with its function's creation waits for the same code to be unpacked; any other is ready.
  const status: FunctionStatus = !version || (fn.state !== 'Active' && version.code.digest === fn.code.digest) ? fn : { state: 'Active', lastUpdateStatus: 'Successful' };
  const qualifier = version ? version.version : latestQualified ? '$LATEST' : undefined;
  return {
    FunctionName: fn.name,
    FunctionArn: functionArn(fn.name, LAMBDA_SCOPE, qualifier),
    Runtime: settings.runtime,
    Role: settings.roleArn,
    Handler: settings.handler,
    CodeSize: settings.code.sizeBytes,
    Description: settings.description,
    Timeout: settings.timeoutSeconds,
    MemorySize: settings.memorySizeMb,
    LastModified: lambdaTimestamp(version ? version.publishedAtMs : fn.lastModifiedMs),
    CodeSha256: settings.code.sha256Base64,
    Version: version ? version.version : '$LATEST',
    ...(Object.keys(settings.environment).length > 0 ? { Environment: { Variables: settings.environment } } : {}),
    ...(settings.deadLetterTargetArn !== undefined ? { DeadLetterConfig: { TargetArn: settings.deadLetterTargetArn } } : {}),
    TracingConfig: { Mode: 'PassThrough' },
    RevisionId: version ? version.revisionId : fn.revisionId,
    State: status.state,
    ...(status.stateReason !== undefined ? { StateReason: status.stateReason } : {}),
    ...(status.stateReasonCode !== undefined ? { StateReasonCode: status.stateReasonCode } : {}),
    LastUpdateStatus: status.lastUpdateStatus,
    ...(status.lastUpdateStatusReason !== undefined ? { LastUpdateStatusReason: status.lastUpdateStatusReason } : {}),
    ...(status.lastUpdateStatusReasonCode !== undefined ? { LastUpdateStatusReasonCode: status.lastUpdateStatusReasonCode } : {}),
    PackageType: 'Zip',
    Architectures: [HOST_ARCHITECTURE],
    EphemeralStorage: { Size: settings.ephemeralStorageMb },
    SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
  };
}

export function aliasToWire(alias: FunctionAlias): Record<string, unknown> {
  return {
    AliasArn: functionArn(alias.functionName, LAMBDA_SCOPE, alias.name),
    Name: alias.name,
    FunctionVersion: alias.functionVersion,
    Description: alias.description,
    ...(alias.additionalVersionWeights ? { RoutingConfig: { AdditionalVersionWeights: alias.additionalVersionWeights } } : {}),
    RevisionId: alias.revisionId,
  };
}

export function provisionedToWire(config: ProvisionedConcurrency): Record<string, unknown> {
  return {
    RequestedProvisionedConcurrentExecutions: config.requested,
    AvailableProvisionedConcurrentExecutions: config.available,
    AllocatedProvisionedConcurrentExecutions: config.allocated,
    Status: config.status,
    ...(config.statusReason !== undefined ? { StatusReason: config.statusReason } : {}),
    LastModified: lambdaTimestamp(config.lastModifiedMs),
  };
}

export function eventInvokeConfigToWire(functionName: string, qualifier: string, config: EventInvokeConfig): Record<string, unknown> {
  const destinations = {
    ...(config.onSuccess !== undefined ? { OnSuccess: { Destination: config.onSuccess } } : {}),
    ...(config.onFailure !== undefined ? { OnFailure: { Destination: config.onFailure } } : {}),
  };
  return {
    // The model's `Date` shape: a timestamp, which the REST-JSON codec writes as epoch seconds.
    LastModified: new Date(config.lastModifiedMs),
    FunctionArn: functionArn(functionName, LAMBDA_SCOPE, qualifier),
    ...(config.maximumRetryAttempts !== undefined ? { MaximumRetryAttempts: config.maximumRetryAttempts } : {}),
    ...(config.maximumEventAgeSeconds !== undefined ? { MaximumEventAgeInSeconds: config.maximumEventAgeSeconds } : {}),
    DestinationConfig: destinations,
  };
}
