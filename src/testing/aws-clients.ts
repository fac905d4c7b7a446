import { CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateFunctionCommand, LambdaClient, waitUntilFunctionActiveV2, type CreateFunctionCommandInput } from '@aws-sdk/client-lambda';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { STSClient, type Credentials as StsCredentials } from '@aws-sdk/client-sts';
import type { TestCredentials } from './iam-fixtures.ts';
import { startTestKennel, type TestKennel } from './test-kennel.ts';

/** The AWS SDK v3 clients a test talks to Kennel with, all signing with one set of credentials. */
export interface AwsClients {
  iam: IAMClient;
  sts: STSClient;
  sagemaker: SageMakerClient;
  runtime: SageMakerRuntimeClient;
  lambda: LambdaClient;
}

/**
 * Clients for `url`, one set per credentials asked for, destroyed together.
 * One attempt per call: a test sees the first answer, as the server gave it.
 */
export class AwsClientPool {
  readonly #url: string;
  readonly #made: AwsClients[] = [];

  constructor(url: string) {
    this.#url = url;
  }

  /** `systemClockOffset` (ms) is added to the clients' clock when they sign. */
  for(credentials: TestCredentials, extra: { systemClockOffset?: number } = {}): AwsClients {
    const options = { endpoint: this.#url, region: 'us-east-1', credentials, maxAttempts: 1, ...extra };
    const clients = {
      iam: new IAMClient(options),
      sts: new STSClient(options),
      sagemaker: new SageMakerClient(options),
      runtime: new SageMakerRuntimeClient(options),
      lambda: new LambdaClient(options),
    };
    this.#made.push(clients);
    return clients;
  }

  destroy(): void {
    for (const clients of this.#made) for (const client of Object.values(clients)) client.destroy();
  }
}

/** A policy document from its statements. */
export function policy(...statements: Record<string, unknown>[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

/** A new IAM user (created by `iam`'s caller) and an access key for it. */
export async function createUserWithKey(iam: IAMClient, userName: string): Promise<TestCredentials> {
  await iam.send(new CreateUserCommand({ UserName: userName }));
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
  return { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
}

/** A role Lambda may assume (its trust policy names lambda.amazonaws.com), with `statements` as its inline policy when given. */
export async function createFunctionRole(iam: IAMClient, roleName: string, ...statements: Record<string, unknown>[]): Promise<string> {
  const { Role } = await iam.send(
    new CreateRoleCommand({
      RoleName: roleName,
      AssumeRolePolicyDocument: policy({ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }),
    }),
  );
  if (statements.length > 0) await iam.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: 'inline', PolicyDocument: policy(...statements) }));
  return Role!.Arn!;
}

/** CreateFunction, then the SDK's function_active_v2 waiter: a function ready to invoke. */
export async function createActiveFunction(lambda: LambdaClient, input: CreateFunctionCommandInput, maxWaitSeconds = 30): Promise<void> {
  await lambda.send(new CreateFunctionCommand(input));
  await waitUntilFunctionActiveV2({ client: lambda, maxWaitTime: maxWaitSeconds, minDelay: 1, maxDelay: 1 }, { FunctionName: input.FunctionName! });
}

/** STS's Credentials as the SDK clients take them. */
export function sessionCredentials(credentials: StsCredentials | undefined): TestCredentials {
  return { accessKeyId: credentials!.AccessKeyId!, secretAccessKey: credentials!.SecretAccessKey!, sessionToken: credentials!.SessionToken! };
}

/** A Kennel with a client pool and the admin's IAM client: what an SDK test file starts before its tests. */
export async function startKennelWithClients(options?: Parameters<typeof startTestKennel>[0]): Promise<{ test: TestKennel; pool: AwsClientPool; iam: IAMClient }> {
  const test = await startTestKennel(options);
  const pool = new AwsClientPool(test.url);
  return { test, pool, iam: pool.for(test.credentials).iam };
}

/** Closes what startKennelWithClients started (either may be missing when starting failed): the clients first, then the server. */
export async function closeKennelWithClients(test: TestKennel | undefined, pool: AwsClientPool | undefined): Promise<void> {
  pool?.destroy();
  await test?.close();
}
