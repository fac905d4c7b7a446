import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { createPlatform, type Platform } from '../../src/control/platform.ts';
import type { SigV4Request } from '../../src/domain/iam/sigv4.ts';
import type { Tag } from '../../src/domain/tags.ts';
import { createMemoryStore } from '../../src/store/memory/memory-store.ts';
import { testControlDeps } from '../../src/testing/control-deps.ts';
import { provisionUser, type TestCredentials } from '../../src/testing/iam-fixtures.ts';
import { LARGE_POLICY, TYPICAL_INLINE_POLICY } from './policies.ts';

export const HOST = 'localhost:7777';
export const REGION = 'us-east-1';
export const ENDPOINT_TAGS: readonly Tag[] = [
  { key: 'team', value: 'vision' },
  { key: 'env', value: 'prod' },
  { key: 'cost-center', value: 'cc-1234' },
];
const SAGEMAKER_FULL_ACCESS = 'arn:aws:iam::aws:policy/AmazonSageMakerFullAccess';

export interface BenchUsers {
  typical: TestCredentials;
  large: TestCredentials;
}

/** A platform over the memory store with the two callers of policies.ts. */
export function benchPlatform(dir: string): { platform: Platform; users: BenchUsers } {
  const platform = createPlatform(testControlDeps(dir, createMemoryStore()));
  const typical = provisionUser(platform, 'typical-user', [SAGEMAKER_FULL_ACCESS]);
  platform.iam.identityPolicies.putInline('user', 'typical-user', 'team-data', TYPICAL_INLINE_POLICY);
  const policy = platform.iam.policies.create({ policyName: 'vision-team-large', policyDocument: LARGE_POLICY });
  platform.iam.createUser({ userName: 'vision-user', tags: [{ key: 'team', value: 'vision' }] });
  const large = provisionUser(platform, 'vision-user', [policy.arn]);
  return { platform, users: { typical, large } };
}

/**
 * Endpoint records written straight to the store, tagged for the policies'
 * aws:ResourceTag conditions: a real endpoint needs a trained model, and
 * authorisation reads only the record's tags.
 */
export function addEndpoints(platform: Platform, names: readonly string[], nowMs: number): void {
  for (const name of names) {
    platform.deps.store.endpoints.create({
      name,
      endpointConfigName: `${name}-config`,
      productionVariants: [],
      status: 'InService',
      tags: [...ENDPOINT_TAGS],
      createdAtMs: nowMs,
      lastModifiedAtMs: nowMs,
    });
  }
}

/** One request as the server receives it, and the time it was signed (the `now` to verify it at). */
export interface SignedCall {
  request: SigV4Request;
  signedAtMs: number;
  endpointName: string;
}

/**
 * SageMaker DescribeEndpoint calls signed by the AWS SDK's signer with the
 * headers the JS SDK v3 sends, one per endpoint name, `spacingMs` apart.
 */
export async function signDescribeEndpoints(credentials: TestCredentials, endpointNames: readonly string[], firstAtMs: number, spacingMs: number): Promise<SignedCall[]> {
  const signer = new SignatureV4({ service: 'sagemaker', region: REGION, credentials, sha256: Hash.bind(null, 'sha256') });
  const encoder = new TextEncoder();
  const calls: SignedCall[] = [];
  for (const [index, endpointName] of endpointNames.entries()) {
    const body = encoder.encode(JSON.stringify({ EndpointName: endpointName }));
    const signedAtMs = firstAtMs + index * spacingMs;
    const signed = await signer.sign(
      {
        method: 'POST',
        protocol: 'http:',
        hostname: 'localhost',
        port: 7777,
        path: '/',
        query: {},
        headers: {
          host: HOST,
          'content-type': 'application/x-amz-json-1.1',
          'content-length': String(body.byteLength),
          'x-amz-target': 'SageMaker.DescribeEndpoint',
          'x-amz-user-agent': 'aws-sdk-js/3.700.0',
          'user-agent': 'aws-sdk-js/3.700.0 ua/2.1 os/linux lang/js md/nodejs#20.20.2 api/sagemaker#3.700.0',
          'amz-sdk-invocation-id': crypto.randomUUID(),
          'amz-sdk-request': 'attempt=1; max=3',
        },
        body,
      },
      { signingDate: new Date(signedAtMs) },
    );
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(signed.headers)) headers[name.toLowerCase()] = value;
    calls.push({ request: { method: 'POST', path: '/', query: '', headers, body }, signedAtMs, endpointName });
  }
  return calls;
}
