import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SigV4Credential } from '../../domain/iam/sigv4.ts';

/** How long Lambda's Code.Location stays valid: ten minutes. */
const LOCATION_TTL_SECONDS = 600;

/**
 * GetFunction's Code.Location: Kennel's own download route for the package,
 * presigned (SigV4 query form, service `kennel`) with the caller's own
 * credentials, so that `curl "$LOCATION"` fetches the zip with no further
 * signing, as Lambda's presigned S3 URL does. It grants no more than the caller
 * already has, for ten minutes or what is left of the caller's session.
 */
export async function presignedCodeLocation(
  url: URL,
  accessKeyId: string,
  credential: SigV4Credential,
  region: string,
  nowMs: number,
): Promise<string> {
  const remainingSeconds = credential.expiresAtMs === undefined ? LOCATION_TTL_SECONDS : Math.floor((credential.expiresAtMs - nowMs) / 1000);
  const signer = new SignatureV4({
    service: 'kennel',
    region,
    credentials: { accessKeyId, secretAccessKey: credential.secretAccessKey, ...(credential.sessionToken !== undefined ? { sessionToken: credential.sessionToken } : {}) },
    sha256: Hash.bind(null, 'sha256'),
  });
  const query: Record<string, string> = {};
  url.searchParams.forEach((value, key) => (query[key] = value));
  const signed = await signer.presign(
    { method: 'GET', protocol: url.protocol, hostname: url.hostname, port: url.port === '' ? undefined : Number(url.port), path: url.pathname, query, headers: { host: url.host } },
    { expiresIn: Math.max(1, Math.min(LOCATION_TTL_SECONDS, remainingSeconds)), signingDate: new Date(nowMs) },
  );
  const location = new URL(url.href);
  location.search = '';
  for (const [key, value] of Object.entries(signed.query ?? {})) {
    for (const one of Array.isArray(value) ? value : [value]) if (one !== null) location.searchParams.append(key, one);
  }
  return location.href;
}
