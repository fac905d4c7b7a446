import type { Platform } from '../../control/platform.ts';
import type { QueryService } from '../aws/query-protocol.ts';
import { loadServiceModel } from '../aws/service-model.ts';
import { stsError } from '../wire/iam-errors.ts';
import { callerOf, type IamOperations } from '../iam/identities.ts';
import { tagsFromWire, type WireTag } from '../iam/wire.ts';

/** STS's operations; who may call them is decided by the authorizer, AssumeRole with the role's trust policy. */
export function stsOperations(platform: Platform): IamOperations {
  const { sts } = platform;
  const credentialsToWire = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiresAtMs: number }) => ({
    AccessKeyId: credentials.accessKeyId,
    SecretAccessKey: credentials.secretAccessKey,
    SessionToken: credentials.sessionToken,
    Expiration: new Date(credentials.expiresAtMs),
  });
  return {
    GetCallerIdentity: {
      handler: (_input: unknown, c) => {
        const caller = callerOf(platform, c);
        return { UserId: caller.userId, Account: caller.accountId, Arn: caller.arn };
      },
    },
    AssumeRole: {
      handler: (input: { RoleArn: string; RoleSessionName: string; DurationSeconds?: number; Tags?: WireTag[]; Policy?: string; PolicyArns?: { arn?: string }[] }, c) => {
        const assumed = sts.assumeRole(callerOf(platform, c), {
          roleArn: input.RoleArn,
          roleSessionName: input.RoleSessionName,
          durationSeconds: input.DurationSeconds,
          tags: tagsFromWire(input.Tags),
          policy: input.Policy,
          policyArns: (input.PolicyArns ?? []).flatMap((entry) => (entry.arn ? [entry.arn] : [])),
        });
        return {
          Credentials: credentialsToWire(assumed.credentials),
          AssumedRoleUser: { AssumedRoleId: assumed.assumedRoleId, Arn: assumed.arn },
        };
      },
    },
    GetSessionToken: {
      handler: (input: { DurationSeconds?: number }, c) => ({ Credentials: credentialsToWire(sts.getSessionToken(callerOf(platform, c), input.DurationSeconds)) }),
    },
  };
}

/** STS (query protocol, Version 2011-06-15, SigV4 service `sts`). */
export function stsService(platform: Platform): QueryService {
  return { signingName: 'sts', model: loadServiceModel('sts'), operations: stsOperations(platform), errorFor: stsError };
}
