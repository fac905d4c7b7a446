import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { createCredentialChain, fromEnv, fromIni } from '@aws-sdk/credential-providers';
import { DomainError, ERROR_CODES, type ErrorCode } from '../core/errors.ts';
import { DEFAULT_REGION } from '../domain/iam/arn.ts';
import { KENNEL_PROFILE } from '../runtime/credentials/credentials-file.ts';

export const DEFAULT_ENDPOINT_URL = 'http://127.0.0.1:8080';

export interface ClientCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** An AWS error answer, kept as the service sent it so the CLI can show its type. */
export class AwsServiceError extends DomainError {
  constructor(
    code: ErrorCode,
    readonly type: string,
    message: string,
  ) {
    super(code, `${type}: ${message}`);
  }

  /** SageMaker answers a missing resource with ValidationException and one of these phrases. */
  get isNotFound(): boolean {
    return this.code === 'NotFound' || /^ValidationException: (Could not find|Requested resource not found)/.test(this.message);
  }
}

/**
 * The CLI's client for a running Kennel: SageMaker's JSON 1.1 control plane,
 * SageMaker Runtime, and Kennel's own REST API, all signed with the AWS SDK's
 * SigV4 signer, so the CLI exercises the same path any SDK user does.
 */
export class KennelClient {
  private readonly signers = new Map<string, SignatureV4>();

  constructor(
    readonly endpointUrl: string,
    private readonly credentials: ClientCredentials,
    private readonly region = DEFAULT_REGION,
  ) {}

  /** A SageMaker control-plane operation: `POST /` with `X-Amz-Target: SageMaker.<operation>`. */
  sageMaker<T>(operation: string, input: object = {}): Promise<T> {
    return this.awsJson<T>('sagemaker', 'SageMaker', operation, input);
  }

  /** An Application Auto Scaling operation (`X-Amz-Target: AnyScaleFrontendService.<operation>`). */
  applicationAutoScaling<T>(operation: string, input: object = {}): Promise<T> {
    return this.awsJson<T>('application-autoscaling', 'AnyScaleFrontendService', operation, input);
  }

  /** Kennel's Prometheus text exposition, GET /metrics (unsigned, as scrapers send it). */
  async metrics(): Promise<string> {
    const response = await fetch(new URL('/metrics', this.endpointUrl));
    if (!response.ok) throw new Error(`GET /metrics answered ${response.status}`);
    return response.text();
  }

  /** An AWS JSON 1.1 operation: `POST /` with `X-Amz-Target: <prefix>.<operation>`, signed for `service`. */
  private async awsJson<T>(service: string, targetPrefix: string, operation: string, input: object): Promise<T> {
    const body = new TextEncoder().encode(JSON.stringify(input));
    const response = await this.send(service, 'POST', '/', body, {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `${targetPrefix}.${operation}`,
    });
    return (await readAnswer(response)) as T;
  }

  /** The Kennel REST API (`/kennel/...`): datasets and training metrics. */
  async kennel<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const payload = body === undefined ? undefined : new TextEncoder().encode(JSON.stringify(body));
    const response = await this.send('kennel', method, `/kennel${path}`, payload, payload ? { 'content-type': 'application/json' } : {});
    return (await readAnswer(response)) as T;
  }

  /** Stores bytes at `s3://bucket/key` in Kennel's object store. */
  async putObject(bucket: string, key: string, body: Uint8Array, contentType = 'application/octet-stream'): Promise<void> {
    await readAnswer(await this.send('kennel', 'PUT', objectPath(bucket, key), body, { 'content-type': contentType }));
  }

  /** The bytes at `s3://bucket/key`. */
  async getObject(bucket: string, key: string): Promise<Uint8Array> {
    const response = await this.send('kennel', 'GET', objectPath(bucket, key), undefined, {});
    if (!response.ok) await readAnswer(response);
    return new Uint8Array(await response.arrayBuffer());
  }

  /**
   * An IAM query-protocol action (`Action=…&Version=2010-05-08`). Answers are XML;
   * this returns it as text, and throws the `<Code>` and `<Message>` of an error.
   */
  async iam(action: string, params: Record<string, string> = {}): Promise<string> {
    const body = new TextEncoder().encode(new URLSearchParams({ Action: action, Version: '2010-05-08', ...params }).toString());
    const response = await this.send('iam', 'POST', '/', body, { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' });
    const text = await response.text();
    if (response.ok) return text;
    const type = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? `HTTP${response.status}`;
    const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? text.slice(0, 200);
    throw new AwsServiceError(IAM_TYPES[type] ?? (response.status === 403 ? 'AccessDenied' : 'ValidationError'), type, message);
  }

  /** A Lambda REST-JSON operation (`/2015-03-31/functions/...`), signed for `lambda`. */
  async lambda<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const payload = body === undefined ? undefined : new TextEncoder().encode(JSON.stringify(body));
    const response = await this.send('lambda', method, path, payload, payload ? { 'content-type': 'application/json' } : {});
    return ((await readAnswer(response)) ?? {}) as T;
  }

  /** Lambda Invoke: the function's answer as it came, with the headers that describe it. */
  async invokeFunction(
    name: string,
    payload: Uint8Array,
    options: { qualifier?: string; invocationType?: 'RequestResponse' | 'Event' | 'DryRun'; tailLogs?: boolean } = {},
  ): Promise<{ status: number; payload: Uint8Array; functionError?: string; logResult?: string; executedVersion?: string; requestId?: string }> {
    const query = options.qualifier === undefined ? '' : `?Qualifier=${encodeURIComponent(options.qualifier)}`;
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-amz-invocation-type': options.invocationType ?? 'RequestResponse' };
    if (options.tailLogs) headers['x-amz-log-type'] = 'Tail';
    const response = await this.send('lambda', 'POST', `/2015-03-31/functions/${encodeURIComponent(name)}/invocations${query}`, payload, headers);
    if (!response.ok) await readAnswer(response);
    const header = (name: string) => response.headers.get(name) ?? undefined;
    const result = { status: response.status, payload: new Uint8Array(await response.arrayBuffer()) };
    const optional = { functionError: header('x-amz-function-error'), logResult: header('x-amz-log-result'), executedVersion: header('x-amz-executed-version'), requestId: header('x-amzn-requestid') };
    return { ...result, ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined)) };
  }

  /** SageMaker Runtime InvokeEndpoint. */
  async invokeEndpoint(name: string, body: Uint8Array, contentType: string, customAttributes?: string): Promise<unknown> {
    const headers: Record<string, string> = { 'content-type': contentType, accept: 'application/json' };
    if (customAttributes) headers['x-amzn-sagemaker-custom-attributes'] = customAttributes;
    const response = await this.send('sagemaker', 'POST', `/endpoints/${encodeURIComponent(name)}/invocations`, body, headers);
    return readAnswer(response);
  }

  /** InvokeEndpoint with the answer as the model gave it: its bytes and content type (an inference script's may be anything). */
  async invokeEndpointRaw(name: string, body: Uint8Array, contentType: string, accept: string, customAttributes?: string): Promise<{ contentType: string; body: Uint8Array }> {
    const headers: Record<string, string> = { 'content-type': contentType, accept };
    if (customAttributes) headers['x-amzn-sagemaker-custom-attributes'] = customAttributes;
    const response = await this.send('sagemaker', 'POST', `/endpoints/${encodeURIComponent(name)}/invocations`, body, headers);
    if (!response.ok) await readAnswer(response);
    return { contentType: response.headers.get('content-type') ?? 'application/octet-stream', body: new Uint8Array(await response.arrayBuffer()) };
  }

  private async send(service: string, method: string, path: string, body: Uint8Array | undefined, headers: Record<string, string>): Promise<Response> {
    const url = new URL(path, this.endpointUrl);
    const signed = await this.signer(service).sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { ...headers, host: url.host },
      body,
    });
    try {
      return await fetch(url, { method, headers: signed.headers as Record<string, string>, body });
    } catch (error) {
      throw new DomainError('ServiceUnavailable', `Cannot reach Kennel at ${this.endpointUrl} (${(error as Error).cause ?? error}); start it with \`kennel up\``);
    }
  }

  private signer(service: string): SignatureV4 {
    let signer = this.signers.get(service);
    if (!signer) {
      signer = new SignatureV4({ service, region: this.region, credentials: this.credentials, sha256: Hash.bind(null, 'sha256') });
      this.signers.set(service, signer);
    }
    return signer;
  }
}

/**
 * Credentials the way the AWS SDKs find them, with their own providers, and
 * Kennel's file and profile as the defaults: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN when
 * set (unless AWS_PROFILE names a profile, as in the SDKs), else profile
 * AWS_PROFILE (default `kennel`) of AWS_SHARED_CREDENTIALS_FILE (default the
 * state folder's credentials file).
 */
export async function resolveCredentials(credentialsFile: string): Promise<ClientCredentials> {
  const env = process.env;
  const profile = env.AWS_PROFILE || KENNEL_PROFILE;
  const filepath = env.AWS_SHARED_CREDENTIALS_FILE || credentialsFile;
  const fromFile = fromIni({ profile, filepath, ignoreCache: true });
  const chain = env.AWS_PROFILE ? fromFile : createCredentialChain(fromEnv(), fromFile);
  try {
    const { accessKeyId, secretAccessKey, sessionToken } = await chain();
    return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
  } catch {
    throw new DomainError(
      'MissingAuthenticationToken',
      `No credentials: profile [${profile}] was not found in ${filepath} and AWS_ACCESS_KEY_ID is not set. Start the server once with \`kennel up\` to create the credentials file.`,
    );
  }
}

/** `/kennel/objects/<bucket>/<key>`, each key segment percent-encoded so any character survives. */
function objectPath(bucket: string, key: string): string {
  return `/kennel/objects/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

const KNOWN_CODES = new Set<string>(ERROR_CODES);

/** AWS error types → the DomainError codes the CLI reasons about. */
const IAM_TYPES: Readonly<Record<string, ErrorCode>> = { EntityAlreadyExists: 'AlreadyExists', NoSuchEntity: 'NotFound', MalformedPolicyDocument: 'MalformedPolicyDocument' };

const AWS_TYPES: Readonly<Record<string, ErrorCode>> = {
  ValidationException: 'ValidationError',
  SerializationException: 'ValidationError',
  ResourceNotFound: 'NotFound',
  ResourceInUse: 'AlreadyExists',
  ResourceLimitExceeded: 'LimitExceeded',
  ValidationError: 'ValidationError',
  ModelError: 'ModelError',
  ServiceUnavailable: 'ServiceUnavailable',
  ResourceNotFoundException: 'NotFound',
  ResourceConflictException: 'Conflict',
  InvalidParameterValueException: 'ValidationError',
  TooManyRequestsException: 'LimitExceeded',
};

/** The JSON answer, or the server's error. */
async function readAnswer(response: Response): Promise<unknown> {
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = { message: text };
  }
  if (response.ok) return parsed;
  const fields = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const message = String(fields.message ?? fields.Message ?? `HTTP ${response.status}`);
  const kennelCode = typeof fields.code === 'string' && KNOWN_CODES.has(fields.code) ? (fields.code as ErrorCode) : undefined;
  if (kennelCode) throw new DomainError(kennelCode, message, (fields.details as Record<string, unknown>) ?? {});
  const type = String(fields.__type ?? response.headers.get('x-amzn-errortype') ?? `HTTP${response.status}`).replace(/^.*#/, '');
  const code = AWS_TYPES[type] ?? (response.status === 403 ? 'AccessDenied' : response.status >= 500 ? 'Internal' : 'ValidationError');
  throw new AwsServiceError(code, type, message);
}
