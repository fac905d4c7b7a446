import { Hono, type Context } from 'hono';
import { DomainError } from '../../core/errors.ts';
import { DEFAULT_REGION } from '../../domain/iam/arn.ts';
import { dispatchJsonOperation, protocolError, sendJsonError, type JsonService } from '../aws/json-protocol.ts';
import { dispatchQueryOperation, readQueryParams, sendQueryError, type QueryService } from '../aws/query-protocol.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiEnv } from '../env.ts';
import { authorizeCall } from '../middleware/authorize/index.ts';
import { CONTROL_MAX_BYTES, payloadLimit } from '../middleware/payload-limit/index.ts';
import { sigv4 } from '../middleware/sigv4/index.ts';


/**
 * `/` for every AWS service on the JSON and query protocols. A JSON request
 * names its service in `X-Amz-Target` (`SageMaker.CreateTrainingJob`); a query
 * request (`Action=CreateUser&Version=…`, IAM and STS) by the service its
 * signature is scoped to. Each request is verified with SigV4 for that service
 * before its operation runs, and answered in that service's format.
 */
export function awsRoutes(deps: ApiDeps, jsonServices: readonly JsonService[], queryServices: readonly QueryService[]): Hono<ApiEnv> {
  const byPrefix = new Map(jsonServices.map((service) => [service.targetPrefix, service]));
  const bySigningName = new Map(queryServices.map((service) => [service.signingName, service]));
  const verify = (service: string | readonly string[]) =>
    sigv4<ApiEnv>({ lookupSecret: deps.lookupSecret, now: () => deps.clock.now(), service, region: DEFAULT_REGION });

  const json = async (c: Context<ApiEnv>, target: string) => {
    const dot = target.lastIndexOf('.');
    const service = dot > 0 ? byPrefix.get(target.slice(0, dot)) : undefined;
    if (!service) return sendJsonError(c, protocolError('UnknownOperationException', `No service answers X-Amz-Target ${target}`));
    try {
      await verify(service.signingName)(c, async () => {});
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      return sendJsonError(c, service.errorFor(error.code, error.message));
    }
    return dispatchJsonOperation(c, service, target.slice(dot + 1), deps.logger, (operation, input) =>
      authorizeCall(c, deps.platform, `${service.targetPrefix}.${operation}`, input),
    );
  };

  const query = async (c: Context<ApiEnv>) => {
    // Until the signature is checked, the scope only says which service's error format to answer in.
    const claimed = bySigningName.get(scopedService(c) ?? '') ?? queryServices[0]!;
    try {
      await verify([...bySigningName.keys()])(c, async () => {});
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      return sendQueryError(c, claimed, claimed.errorFor(error.code, error.message));
    }
    const service = bySigningName.get(c.get('signingService'))!;
    return dispatchQueryOperation(c, service, await readQueryParams(c), deps.logger, (operation, input) =>
      authorizeCall(c, deps.platform, `${service.signingName}.${operation}`, input),
    );
  };

  const app = new Hono<ApiEnv>();
  const limit = payloadLimit(CONTROL_MAX_BYTES, (c) =>
    c.req.header('x-amz-target')
      ? sendJsonError(c, { status: 413, type: 'ValidationException', message: `The request body is over the ${CONTROL_MAX_BYTES}-byte limit` })
      : sendQueryError(c as Context<ApiEnv>, queryServices[0]!, { status: 413, code: 'ValidationError', message: `The request body is over the ${CONTROL_MAX_BYTES}-byte limit` }),
  );
  app.post('/', limit, (c) => {
    const target = c.req.header('x-amz-target');
    if (target) return json(c, target);
    if ((c.req.header('content-type') ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) return query(c);
    return sendJsonError(c, protocolError('UnknownOperationException', 'POST / needs an X-Amz-Target header naming the operation (e.g. SageMaker.ListEndpoints), or a form body with Action=… for IAM and STS'));
  });
  // The query protocol also comes as GET with the parameters in the query string (and presigned URLs).
  app.get('/', (c) => (new URL(c.req.url).searchParams.has('Action') ? query(c) : c.notFound()));
  return app;
}

/** The service named in the request's credential scope (header or presigned form), unverified. */
function scopedService(c: Context): string | undefined {
  const credential = /Credential=([^,\s]+)/.exec(c.req.header('authorization') ?? '')?.[1] ?? new URL(c.req.url).searchParams.get('X-Amz-Credential') ?? '';
  return credential.split('/')[3];
}
