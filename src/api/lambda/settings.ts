import type { Platform } from '../../control/platform.ts';
import { functionArn } from '../../domain/functions/function-names.ts';
import { eventInvokeQualifier } from '../../control/function-policies.ts';
import { LAMBDA_SCOPE } from '../../control/functions.ts';
import { markerPage } from '../aws/marker-page.ts';
import type { RestJsonOperation } from '../aws/rest-json-protocol.ts';
import { eventInvokeConfigToWire, provisionedToWire } from './wire.ts';

const MAX_ITEMS = 50;

interface WireDestinations {
  OnSuccess?: { Destination?: string };
  OnFailure?: { Destination?: string };
}

interface WireEventInvokeConfig {
  FunctionName: string;
  Qualifier?: string;
  MaximumRetryAttempts?: number;
  MaximumEventAgeInSeconds?: number;
  DestinationConfig?: WireDestinations;
}

function eventInvokeConfigFromWire(input: WireEventInvokeConfig) {
  const { FunctionName: _name, Qualifier: _qualifier, ...config } = input;
  return config;
}

/** Concurrency, permissions, async settings and tags: the settings around a function. */
export function settingOperations(platform: Platform): Record<string, RestJsonOperation> {
  const { functionConcurrency: concurrency, functionPolicies: policies, functions } = platform;
  return {
    PutFunctionConcurrency: {
      handler: (input: { FunctionName: string; ReservedConcurrentExecutions: number }) => ({
        ReservedConcurrentExecutions: concurrency.putReserved(input.FunctionName, input.ReservedConcurrentExecutions),
      }),
    },
    GetFunctionConcurrency: {
      handler: (input: { FunctionName: string }) => {
        const reserved = concurrency.getReserved(input.FunctionName);
        return reserved === undefined ? {} : { ReservedConcurrentExecutions: reserved };
      },
    },
    DeleteFunctionConcurrency: {
      handler: (input: { FunctionName: string }) => {
        concurrency.deleteReserved(input.FunctionName);
        return {};
      },
    },
    PutProvisionedConcurrencyConfig: {
      handler: (input: { FunctionName: string; Qualifier: string; ProvisionedConcurrentExecutions: number }) =>
        provisionedToWire(concurrency.putProvisioned(input.FunctionName, input.Qualifier, input.ProvisionedConcurrentExecutions)),
    },
    GetProvisionedConcurrencyConfig: {
      handler: (input: { FunctionName: string; Qualifier: string }) => provisionedToWire(concurrency.getProvisioned(input.FunctionName, input.Qualifier)),
    },
    DeleteProvisionedConcurrencyConfig: {
      handler: (input: { FunctionName: string; Qualifier: string }) => {
        concurrency.deleteProvisioned(input.FunctionName, input.Qualifier);
        return {};
      },
    },
    ListProvisionedConcurrencyConfigs: {
      handler: (input: { FunctionName: string; Marker?: string; MaxItems?: number }) => {
        const { fn } = functions.resolve(input.FunctionName);
        const { page, nextMarker } = markerPage(concurrency.listProvisioned(fn.name), (entry) => entry.qualifier, { marker: input.Marker, maxItems: Math.min(input.MaxItems ?? MAX_ITEMS, MAX_ITEMS) });
        return {
          ProvisionedConcurrencyConfigs: page.map(({ qualifier, config }) => ({ FunctionArn: functionArn(fn.name, LAMBDA_SCOPE, qualifier), ...provisionedToWire(config) })),
          ...(nextMarker !== undefined ? { NextMarker: nextMarker } : {}),
        };
      },
    },
    GetAccountSettings: {
      handler: () => concurrency.accountSettings(),
    },
    AddPermission: {
      handler: (input: {
        FunctionName: string;
        Qualifier?: string;
        StatementId: string;
        Action: string;
        Principal: string;
        SourceArn?: string;
        SourceAccount?: string;
        PrincipalOrgID?: string;
        FunctionUrlAuthType?: string;
        RevisionId?: string;
      }) => {
        const { FunctionName, Qualifier, RevisionId, ...statement } = input;
        return { Statement: policies.addPermission(FunctionName, Qualifier, statement, RevisionId) };
      },
    },
    RemovePermission: {
      handler: (input: { FunctionName: string; StatementId: string; Qualifier?: string; RevisionId?: string }) => {
        policies.removePermission(input.FunctionName, input.Qualifier, input.StatementId, input.RevisionId);
        return {};
      },
    },
    GetPolicy: {
      handler: (input: { FunctionName: string; Qualifier?: string }) => {
        const { policy, revisionId } = policies.getPolicy(input.FunctionName, input.Qualifier);
        return { Policy: policy, RevisionId: revisionId };
      },
    },
    PutFunctionEventInvokeConfig: {
      handler: (input: WireEventInvokeConfig) => {
        const fn = functions.resolve(input.FunctionName, input.Qualifier).fn;
        return eventInvokeConfigToWire(fn.name, eventInvokeQualifier(input.FunctionName, input.Qualifier), policies.putEventInvokeConfig(input.FunctionName, input.Qualifier, eventInvokeConfigFromWire(input)));
      },
    },
    UpdateFunctionEventInvokeConfig: {
      handler: (input: WireEventInvokeConfig) => {
        const fn = functions.resolve(input.FunctionName, input.Qualifier).fn;
        return eventInvokeConfigToWire(fn.name, eventInvokeQualifier(input.FunctionName, input.Qualifier), policies.putEventInvokeConfig(input.FunctionName, input.Qualifier, eventInvokeConfigFromWire(input), true));
      },
    },
    GetFunctionEventInvokeConfig: {
      handler: (input: { FunctionName: string; Qualifier?: string }) => {
        const fn = functions.resolve(input.FunctionName, input.Qualifier).fn;
        return eventInvokeConfigToWire(fn.name, eventInvokeQualifier(input.FunctionName, input.Qualifier), policies.getEventInvokeConfig(input.FunctionName, input.Qualifier));
      },
    },
    DeleteFunctionEventInvokeConfig: {
      handler: (input: { FunctionName: string; Qualifier?: string }) => {
        policies.deleteEventInvokeConfig(input.FunctionName, input.Qualifier);
        return {};
      },
    },
    ListFunctionEventInvokeConfigs: {
      handler: (input: { FunctionName: string; Marker?: string; MaxItems?: number }) => {
        const fn = functions.resolve(input.FunctionName).fn;
        const { page, nextMarker } = markerPage(policies.listEventInvokeConfigs(fn.name), (entry) => entry.qualifier, { marker: input.Marker, maxItems: Math.min(input.MaxItems ?? MAX_ITEMS, MAX_ITEMS) });
        return {
          FunctionEventInvokeConfigs: page.map(({ qualifier, config }) => eventInvokeConfigToWire(fn.name, qualifier, config)),
          ...(nextMarker !== undefined ? { NextMarker: nextMarker } : {}),
        };
      },
    },
    TagResource: {
      handler: (input: { Resource: string; Tags: Record<string, string> }) => {
        policies.tag(input.Resource, input.Tags);
        return {};
      },
    },
    UntagResource: {
      handler: (input: { Resource: string; TagKeys: string[] }) => {
        policies.untag(input.Resource, input.TagKeys);
        return {};
      },
    },
    ListTags: {
      handler: (input: { Resource: string }) => ({ Tags: policies.listTags(input.Resource) }),
    },
  };
}
