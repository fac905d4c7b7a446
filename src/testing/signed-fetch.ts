import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';

export interface TestCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/**
 * fetch() with a SigV4 signature made by the AWS SDK's signer, for tests that need
 * the raw HTTP answer (status, headers, error bodies).
 */
export async function signedFetch(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: Uint8Array | string; service: string; credentials: TestCredentials },
): Promise<Response> {
  const target = new URL(url);
  const body = typeof init.body === 'string' ? new TextEncoder().encode(init.body) : init.body;
  const signer = new SignatureV4({
    service: init.service,
    region: 'us-east-1',
    credentials: init.credentials,
    sha256: Hash.bind(null, 'sha256'),
  });
  const query: Record<string, string> = {};
  target.searchParams.forEach((value, key) => (query[key] = value));
  const signed = await signer.sign({
    method: init.method ?? 'POST',
    protocol: target.protocol,
    hostname: target.hostname,
    port: Number(target.port),
    path: target.pathname,
    query,
    headers: { ...init.headers, host: target.host },
    body,
  });
  return fetch(target, { method: init.method ?? 'POST', headers: signed.headers as Record<string, string>, body });
}
