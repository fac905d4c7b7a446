/**
 * What became of one request of a load test, named by the wire error code the endpoint answered
 * (or the client's own reason), and which of four kinds that is.
 */
export const OK = 'OK';
/** The request was due while `maxInFlight` were outstanding, so the client did not send it. */
export const CLIENT_SKIPPED = 'ClientSkipped';
/** No answer within the client's timeout. */
export const CLIENT_TIMEOUT = 'ClientTimeout';
/** A Lambda function ran and failed: Invoke answered 200 with X-Amz-Function-Error. */
export const FUNCTION_ERROR = 'FunctionError';
/** Answers by which a service says "not now, retry later": the endpoint (or function) is full, not broken. */
export const BACK_PRESSURE_CODES: readonly string[] = ['ServiceUnavailable', 'ThrottlingException', 'TooManyRequestsException'];

export type OutcomeKind = 'ok' | 'backPressure' | 'failure' | 'skipped';

export function outcomeKind(code: string): OutcomeKind {
  if (code === OK) return 'ok';
  if (code === CLIENT_SKIPPED) return 'skipped';
  return BACK_PRESSURE_CODES.includes(code) ? 'backPressure' : 'failure';
}

/**
 * The error code of an AWS answer that is not a success, read as the SDKs read it: the
 * `x-amzn-ErrorType` header (which may carry `:<uri>` after the code), else the JSON body's
 * `__type` (which may carry a `namespace#` prefix), `code` or `ErrorCode`; else the HTTP status.
 */
export function wireErrorCode(status: number, errorTypeHeader: string | undefined, body: string): string {
  const fromHeader = errorTypeHeader?.split(':')[0].trim();
  if (fromHeader) return fromHeader;
  try {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    for (const member of ['__type', 'code', 'ErrorCode', 'Code']) {
      const value = parsed?.[member];
      if (typeof value === 'string' && value !== '') return value.replace(/^.*#/, '');
    }
  } catch {
    // Not JSON: a proxy's page, say. The status is all there is.
  }
  return `HTTP${status}`;
}

/** A client-side failure to get any answer, named by the system's error code when there is one. */
export function networkErrorCode(errorCode: string | undefined): string {
  return errorCode ? `NetworkError:${errorCode}` : 'NetworkError';
}
