import { DomainError } from '../../core/errors.ts';
import type { Platform } from '../../control/platform.ts';
import type { CodeSource } from '../../control/function-code.ts';
import { LAMBDA_SCOPE, type FunctionSettingsInput } from '../../control/functions.ts';
import type { RestJsonOperation } from '../aws/rest-json-protocol.ts';
import { markerPage } from '../aws/marker-page.ts';
import { presignedCodeLocation } from './code-location.ts';
import { aliasToWire, configurationToWire, HOST_ARCHITECTURE } from './wire.ts';

/** ListFunctions' and ListVersionsByFunction's default and largest page. */
const MAX_ITEMS = 50;

interface WireSettings {
  Runtime?: string;
  Role?: string;
  Handler?: string;
  Description?: string;
  Timeout?: number;
  MemorySize?: number;
  Environment?: { Variables?: Record<string, string> };
  EphemeralStorage?: { Size: number };
  DeadLetterConfig?: { TargetArn?: string };
  Layers?: string[];
  VpcConfig?: { SubnetIds?: string[]; SecurityGroupIds?: string[] };
  TracingConfig?: { Mode?: string };
  FileSystemConfigs?: unknown[];
  KMSKeyArn?: string;
  SnapStart?: { ApplyOn?: string };
}

/**
 * Settings that name things Kennel does not have (layers, subnets, file
 * systems, keys) or do what it cannot (X-Ray, SnapStart) are refused by name,
 * as Lambda refuses a layer or subnet that does not exist, rather than taken
 * and ignored. Their empty or default values are accepted.
 */
function refuseUnsupported(input: WireSettings): void {
  const [layer] = input.Layers ?? [];
  if (layer !== undefined) throw invalid(`Layer version ${layer} does not exist: Kennel has no Lambda layers; put what the layer holds in the deployment package`, 'Layers');
  const [network] = [...(input.VpcConfig?.SubnetIds ?? []), ...(input.VpcConfig?.SecurityGroupIds ?? [])];
  if (network !== undefined) throw invalid(`VpcConfig ${network} does not exist: Kennel runs functions on this machine's network, with no VPC subnets or security groups; leave VpcConfig empty`, 'VpcConfig');
  if (input.TracingConfig?.Mode !== undefined && input.TracingConfig.Mode !== 'PassThrough') {
    throw invalid(`TracingConfig Mode ${input.TracingConfig.Mode} is not supported: Kennel has no X-Ray; use PassThrough`, 'TracingConfig');
  }
  if ((input.FileSystemConfigs ?? []).length > 0) throw invalid('FileSystemConfigs are not supported: Kennel has no EFS; a function has its code folder and its own /tmp', 'FileSystemConfigs');
  if (input.KMSKeyArn) throw invalid(`KMSKeyArn ${input.KMSKeyArn} does not exist: Kennel has no KMS; leave KMSKeyArn out`, 'KMSKeyArn');
  if (input.SnapStart?.ApplyOn !== undefined && input.SnapStart.ApplyOn !== 'None') throw invalid(`SnapStart ApplyOn ${input.SnapStart.ApplyOn} is not supported: use None`, 'SnapStart');
}

/** Kennel runs functions on this machine: the one architecture it can give them is the machine's. */
function refuseForeignArchitecture(architectures: string[] | undefined): void {
  const other = architectures?.find((architecture) => architecture !== HOST_ARCHITECTURE);
  if (other !== undefined) throw invalid(`Architectures ${other} is not supported: Kennel runs functions on this machine, which is ${HOST_ARCHITECTURE}`, 'Architectures');
}

function settingsFromWire(input: WireSettings): FunctionSettingsInput {
  refuseUnsupported(input);
  return {
    ...(input.Runtime !== undefined ? { runtime: input.Runtime } : {}),
    ...(input.Role !== undefined ? { roleArn: input.Role } : {}),
    ...(input.Handler !== undefined ? { handler: input.Handler } : {}),
    ...(input.Description !== undefined ? { description: input.Description } : {}),
    ...(input.Timeout !== undefined ? { timeoutSeconds: input.Timeout } : {}),
    ...(input.MemorySize !== undefined ? { memorySizeMb: input.MemorySize } : {}),
    ...(input.Environment !== undefined ? { environment: input.Environment.Variables ?? {} } : {}),
    ...(input.EphemeralStorage !== undefined ? { ephemeralStorageMb: input.EphemeralStorage.Size } : {}),
    ...(input.DeadLetterConfig?.TargetArn ? { deadLetterTargetArn: deadLetterTarget(input.DeadLetterConfig.TargetArn) } : {}),
  };
}

interface WireCode {
  ZipFile?: Uint8Array;
  S3Bucket?: string;
  S3Key?: string;
  S3ObjectVersion?: string;
  ImageUri?: string;
}

function code(source: WireCode): CodeSource {
  if (source.ImageUri !== undefined) throw invalid('Kennel runs .zip deployment packages: container images (ImageUri) are not supported', 'ImageUri');
  if (source.ZipFile !== undefined) return { zip: source.ZipFile };
  if (source.S3Bucket !== undefined && source.S3Key !== undefined) {
    return { s3Bucket: source.S3Bucket, s3Key: source.S3Key, ...(source.S3ObjectVersion !== undefined ? { s3ObjectVersion: source.S3ObjectVersion } : {}) };
  }
  throw invalid('Please provide a source for function code.', 'Code');
}

/** Kennel has no SQS or SNS to send failed events to: it keeps them in the function's dead-letter list, or hands them to an OnFailure destination. */
function deadLetterTarget(arn: string): never {
  throw invalid(
    `DeadLetterConfig ${arn}: Kennel keeps events that failed every attempt in the function's dead-letter list (kennel functions dead-letters), or sends them to an OnFailure destination function (PutFunctionEventInvokeConfig); SQS and SNS targets are not supported`,
    'DeadLetterConfig',
  );
}

function invalid(message: string, field: string): DomainError {
  return new DomainError('ValidationError', message, { field });
}

/** Functions and versions: CreateFunction … DeleteFunction, PublishVersion, ListVersionsByFunction, and the aliases. */
export function functionOperations(platform: Platform): Record<string, RestJsonOperation> {
  const { functions, aliases } = platform;
  return {
    CreateFunction: {
      handler: async (input: WireSettings & { FunctionName: string; Runtime?: string; Role: string; Handler?: string; Code: WireCode; Publish?: boolean; Tags?: Record<string, string>; PackageType?: string; Architectures?: string[] }) => {
        refuseForeignArchitecture(input.Architectures);
        if (input.PackageType === 'Image') throw invalid('Kennel runs .zip deployment packages: PackageType Image is not supported', 'PackageType');
        if (input.Runtime === undefined || input.Handler === undefined) throw invalid('Runtime and Handler are mandatory parameters for functions created with Zip packages.', 'Runtime');
        const { fn, version } = await functions.create({
          ...settingsFromWire(input),
          name: input.FunctionName,
          runtime: input.Runtime,
          handler: input.Handler,
          roleArn: input.Role,
          code: code(input.Code),
          ...(input.Publish !== undefined ? { publish: input.Publish } : {}),
          ...(input.Tags !== undefined ? { tags: input.Tags } : {}),
        });
        return configurationToWire(fn, version);
      },
    },
    GetFunction: {
      handler: async (input: { FunctionName: string; Qualifier?: string }, c) => {
        const resolved = functions.resolve(input.FunctionName, input.Qualifier);
        const { fn } = resolved;
        // At the address the caller reached Kennel on, so the URL works from where the caller is.
        const route = new URL(`/kennel/functions/${encodeURIComponent(fn.name)}/code?version=${encodeURIComponent(resolved.version)}`, new URL(c.req.url).origin);
        const accessKeyId = c.get('accessKeyId');
        const credential = platform.credentials.lookup(accessKeyId);
        if (!credential) throw new DomainError('UnrecognizedClient', 'The security token included in the request is invalid.');
        return {
          Configuration: configurationToWire(fn, resolved.versionRecord),
          Code: { RepositoryType: 'S3', Location: await presignedCodeLocation(route, accessKeyId, credential, LAMBDA_SCOPE.region, platform.deps.clock.now()) },
          ...(Object.keys(fn.tags).length > 0 ? { Tags: fn.tags } : {}),
          ...(fn.reservedConcurrency !== undefined ? { Concurrency: { ReservedConcurrentExecutions: fn.reservedConcurrency } } : {}),
        };
      },
    },
    GetFunctionConfiguration: {
      handler: (input: { FunctionName: string; Qualifier?: string }) => {
        const resolved = functions.resolve(input.FunctionName, input.Qualifier);
        return configurationToWire(resolved.fn, resolved.versionRecord);
      },
    },
    ListFunctions: {
      handler: (input: { FunctionVersion?: string; Marker?: string; MaxItems?: number }) => {
        // Keys order by name first: a space sorts before every character a name may have.
        const entries = functions.list().flatMap((fn) => {
          const latest = { key: `${fn.name} $LATEST`, wire: () => configurationToWire(fn, undefined, input.FunctionVersion === 'ALL') };
          if (input.FunctionVersion !== 'ALL') return [latest];
          const versions = functions.listVersions(fn.name).versions.map((version) => ({ key: `${fn.name} ${version.version.padStart(10, '0')}`, wire: () => configurationToWire(fn, version) }));
          return [latest, ...versions];
        });
        const { page, nextMarker } = markerPage(entries, (entry) => entry.key, { marker: input.Marker, maxItems: Math.min(input.MaxItems ?? MAX_ITEMS, MAX_ITEMS) });
        return { Functions: page.map((entry) => entry.wire()), ...(nextMarker !== undefined ? { NextMarker: nextMarker } : {}) };
      },
    },
    UpdateFunctionCode: {
      handler: async (input: WireCode & { FunctionName: string; Publish?: boolean; DryRun?: boolean; RevisionId?: string; Architectures?: string[] }) => {
        refuseForeignArchitecture(input.Architectures);
        const source = code(input);
        if (input.DryRun) return configurationToWire(functions.resolve(input.FunctionName).fn);
        const { fn, version } = await functions.updateCode(input.FunctionName, {
          code: source,
          ...(input.Publish !== undefined ? { publish: input.Publish } : {}),
          ...(input.RevisionId !== undefined ? { revisionId: input.RevisionId } : {}),
        });
        return configurationToWire(fn, version);
      },
    },
    UpdateFunctionConfiguration: {
      handler: (input: WireSettings & { FunctionName: string; RevisionId?: string }) =>
        configurationToWire(functions.updateConfiguration(input.FunctionName, settingsFromWire(input), input.RevisionId)),
    },
    DeleteFunction: {
      handler: (input: { FunctionName: string; Qualifier?: string }) => {
        functions.delete(input.FunctionName, input.Qualifier);
        return {};
      },
    },
    PublishVersion: {
      handler: (input: { FunctionName: string; CodeSha256?: string; Description?: string; RevisionId?: string }) => {
        const version = functions.publishVersion(input.FunctionName, {
          ...(input.CodeSha256 !== undefined ? { codeSha256: input.CodeSha256 } : {}),
          ...(input.Description !== undefined ? { description: input.Description } : {}),
          ...(input.RevisionId !== undefined ? { revisionId: input.RevisionId } : {}),
        });
        return configurationToWire(functions.get(version.functionName), version);
      },
    },
    ListVersionsByFunction: {
      handler: (input: { FunctionName: string; Marker?: string; MaxItems?: number }) => {
        const { fn, versions } = functions.listVersions(input.FunctionName);
        const entries = [{ key: '0000000000', wire: () => configurationToWire(fn, undefined, true) }, ...versions.map((version) => ({ key: version.version.padStart(10, '0'), wire: () => configurationToWire(fn, version) }))];
        const { page, nextMarker } = markerPage(entries, (entry) => entry.key, { marker: input.Marker, maxItems: Math.min(input.MaxItems ?? MAX_ITEMS, MAX_ITEMS) });
        return { Versions: page.map((entry) => entry.wire()), ...(nextMarker !== undefined ? { NextMarker: nextMarker } : {}) };
      },
    },
    CreateAlias: {
      handler: (input: { FunctionName: string; Name: string; FunctionVersion: string; Description?: string; RoutingConfig?: { AdditionalVersionWeights?: Record<string, number> } }) =>
        aliasToWire(
          aliases.create(input.FunctionName, input.Name, {
            functionVersion: input.FunctionVersion,
            ...(input.Description !== undefined ? { description: input.Description } : {}),
            ...(input.RoutingConfig?.AdditionalVersionWeights !== undefined ? { additionalVersionWeights: input.RoutingConfig.AdditionalVersionWeights } : {}),
          }),
        ),
    },
    UpdateAlias: {
      handler: (input: { FunctionName: string; Name: string; FunctionVersion?: string; Description?: string; RoutingConfig?: { AdditionalVersionWeights?: Record<string, number> }; RevisionId?: string }) =>
        aliasToWire(
          aliases.update(
            input.FunctionName,
            input.Name,
            {
              ...(input.FunctionVersion !== undefined ? { functionVersion: input.FunctionVersion } : {}),
              ...(input.Description !== undefined ? { description: input.Description } : {}),
              ...(input.RoutingConfig !== undefined ? { additionalVersionWeights: input.RoutingConfig.AdditionalVersionWeights ?? {} } : {}),
            },
            input.RevisionId,
          ),
        ),
    },
    GetAlias: {
      handler: (input: { FunctionName: string; Name: string }) => aliasToWire(aliases.get(input.FunctionName, input.Name)),
    },
    ListAliases: {
      handler: (input: { FunctionName: string; FunctionVersion?: string; Marker?: string; MaxItems?: number }) => {
        const { page, nextMarker } = markerPage(aliases.list(input.FunctionName, input.FunctionVersion), (alias) => alias.name, { marker: input.Marker, maxItems: Math.min(input.MaxItems ?? MAX_ITEMS, MAX_ITEMS) });
        return { Aliases: page.map(aliasToWire), ...(nextMarker !== undefined ? { NextMarker: nextMarker } : {}) };
      },
    },
    DeleteAlias: {
      handler: (input: { FunctionName: string; Name: string }) => {
        aliases.delete(input.FunctionName, input.Name);
        return {};
      },
    },
  };
}
