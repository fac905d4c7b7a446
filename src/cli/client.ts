import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { DomainError, ERROR_CODES, type ErrorCode } from '../core/errors.ts';
import { DEFAULT_REGION } from '../domain/iam/arn.ts';
import { readCredentialsFile, type ProfileCredentials } from '../runtime/credentials/credentials-file.ts';

export const DEFAULT_ENDPOINT_URL = 'http://127.0.0.1:8080';

/**
 * A SigV4-signing client for Kennel's HTTP APIs, used by the CLI. It signs with the
 * AWS SDK's own signer, so the CLI exercises the same path any SDK user does.
 */
export class KennelClient {
  private readonly signers = new Map<string, SignatureV4>();

  constructor(
    readonly endpointUrl: string,
    private readonly credentials: ProfileCredentials,
    private readonly region = credentials.region ?? DEFAULT_REGION,
  ) {}

  /** Calls the Kennel REST API (`/kennel/...`); returns the parsed JSON answer or throws the server's DomainError. */
  async call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const payload = body === undefined ? undefined : new TextEncoder().encode(JSON.stringify(body));
    const response = await this.send('kennel', method, `/kennel${path}`, payload, payload ? { 'content-type': 'application/json' } : {});
    return (await readAnswer(response)) as T;
  }

  /** SageMaker Runtime InvokeEndpoint. */
  async invokeEndpoint(name: string, body: Uint8Array, contentType: string, customAttributes?: string): Promise<unknown> {
    const headers: Record<string, string> = { 'content-type': contentType, accept: 'application/json' };
    if (customAttributes) headers['x-amzn-sagemaker-custom-attributes'] = customAttributes;
    const response = await this.send('sagemaker', 'POST', `/endpoints/${encodeURIComponent(name)}/invocations`, body, headers);
    return readAnswer(response);
  }

  private async send(
    service: string,
    method: string,
    path: string,
    body: Uint8Array | undefined,
    headers: Record<string, string>,
  ): Promise<Response> {
    const url = new URL(path, this.endpointUrl);
    const signed = await this.signer(service).sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
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
      signer = new SignatureV4({
        service,
        region: this.region,
        credentials: { accessKeyId: this.credentials.accessKeyId, secretAccessKey: this.credentials.secretAccessKey },
        sha256: Hash.bind(null, 'sha256'),
      });
      this.signers.set(service, signer);
    }
    return signer;
  }
}

/**
 * Credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY when both are set,
 * else the `kennel` profile of the credentials file Kennel wrote.
 */
export async function resolveCredentials(env: NodeJS.ProcessEnv, credentialsFile: string): Promise<ProfileCredentials> {
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    return { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, region: env.AWS_REGION };
  }
  return readCredentialsFile(credentialsFile);
}

const KNOWN_CODES = new Set<string>(ERROR_CODES);

/** The JSON answer, or the server's error as a DomainError. */
async function readAnswer(response: Response): Promise<unknown> {
  const text = await response.text();
  const parsed = text ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok) throw toDomainError(response, parsed);
  return parsed;
}

function toDomainError(response: Response, body: unknown): DomainError {
  const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const message = String(fields.message ?? fields.Message ?? `HTTP ${response.status}`);
  const type = String(fields.code ?? response.headers.get('x-amzn-errortype') ?? '');
  const code: ErrorCode = KNOWN_CODES.has(type) ? (type as ErrorCode) : response.status === 403 ? 'AccessDenied' : 'Internal';
  return new DomainError(code, message, (fields.details as Record<string, unknown>) ?? {});
}
