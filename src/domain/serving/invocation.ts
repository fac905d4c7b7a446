import { DomainError } from '../../core/errors.ts';

/** The content types InvokeEndpoint accepts on the built-in image classifier. */
export const IMAGE_CONTENT_TYPES = ['image/jpeg', 'image/png', 'application/x-image'] as const;
export const JSON_CONTENT_TYPE = 'application/json';
export const DEFAULT_TOP_K = 5;

export type InvocationInput = { kind: 'image'; bytes: Uint8Array } | { kind: 'url'; url: string };

/** The built-in classifier answers JSON only; say so instead of ignoring an Accept it cannot honour. */
export function assertAcceptsJson(accept: string | undefined): void {
  if (!accept) return;
  const types = accept.split(',').map((part) => mediaType(part));
  if (types.some((type) => type === JSON_CONTENT_TYPE || type === '*/*' || type === 'application/*')) return;
  throw new DomainError('UnsupportedMediaType', `Accept ${JSON.stringify(accept)} cannot be served; this model answers application/json`, {
    originalStatusCode: 406,
  });
}

/** `image/JPEG; charset=x` → `image/jpeg`. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

/**
 * Reads an invocation body the way the model container would: raw image bytes, or
 * JSON `{"url": "...", "top_k": ...}`. Problems are the container's 4xx answers,
 * so they surface as ModelError with the status the container would have sent.
 */
export function parseInvocationBody(
  contentType: string | undefined,
  body: Uint8Array,
): { input: InvocationInput; topK?: string | number } {
  const type = mediaType(contentType);
  if ((IMAGE_CONTENT_TYPES as readonly string[]).includes(type)) {
    if (body.length === 0) throw modelError('The request body is empty; send the image bytes');
    return { input: { kind: 'image', bytes: body } };
  }
  if (type === JSON_CONTENT_TYPE) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
    } catch {
      throw modelError('The request body is not valid UTF-8 JSON; send {"url": "https://..."}');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw modelError('The JSON body must be an object like {"url": "https://..."}');
    }
    const { url, top_k: topK } = parsed as Record<string, unknown>;
    if (typeof url !== 'string' || url.length === 0) {
      throw modelError('The JSON body needs a "url" string naming the image to classify');
    }
    if (topK !== undefined && typeof topK !== 'string' && typeof topK !== 'number') {
      throw modelError('"top_k" must be a number or "all"');
    }
    return { input: { kind: 'url', url }, topK };
  }
  throw new DomainError(
    'UnsupportedMediaType',
    `Content type ${JSON.stringify(contentType ?? '')} is not supported; send ${IMAGE_CONTENT_TYPES.join(', ')} or ${JSON_CONTENT_TYPE} {"url": ...}`,
    { originalStatusCode: 415 },
  );
}

/**
 * How many classes to return. SageMaker passes per-request options to the model in
 * the CustomAttributes header (`X-Amzn-SageMaker-Custom-Attributes`): `top_k=3` or
 * `top_k=all`. A `top_k` in a JSON body wins over the header.
 */
export function resolveTopK(customAttributes: string | undefined, bodyTopK: string | number | undefined, classCount: number): number {
  const fromHeader = customAttributes
    ?.split(/[;,]/)
    .map((part) => part.trim().split('='))
    .find(([key]) => key?.trim().toLowerCase() === 'top_k')?.[1]
    ?.trim();
  const requested = bodyTopK ?? fromHeader;
  if (requested === undefined || requested === '') return Math.min(DEFAULT_TOP_K, classCount);
  if (String(requested).toLowerCase() === 'all') return classCount;
  const value = typeof requested === 'number' ? requested : Number(requested);
  if (!Number.isInteger(value) || value < 1) {
    throw modelError(`top_k must be a positive integer or "all" (got ${JSON.stringify(requested)})`);
  }
  return Math.min(value, classCount);
}

function modelError(message: string): DomainError {
  return new DomainError('ModelError', message, { originalStatusCode: 400 });
}
