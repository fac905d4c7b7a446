import { Hono } from 'hono';
import { DomainError } from '../../core/errors.ts';
import { DEFAULT_REGION } from '../../domain/iam/arn.ts';
import { dispatchJsonOperation, protocolError, sendJsonError, type JsonService } from '../aws/json-protocol.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiEnv } from '../env.ts';
import { payloadLimit } from '../middleware/payload-limit/index.ts';
import { authorizeCall } from '../middleware/authorize/index.ts';
import { sigv4 } from '../middleware/sigv4/index.ts';

/** Control-plane requests are small; SageMaker's largest (CreateTrainingJob with 100 hyperparameters) is well under this. */
const CONTROL_MAX_BYTES = 1024 * 1024;

/**
 * `POST /` for every AWS service on the JSON protocol, routed by `X-Amz-Target`
 * (`SageMaker.CreateTrainingJob`: each service is known by its target prefix). Each request
 * is verified with SigV4 for the service it targets before its body is read.
 */
export function awsJsonRoutes(deps: ApiDeps, services: readonly JsonService[]): Hono<ApiEnv> {
  const byPrefix = new Map(services.map((service) => [service.targetPrefix, service]));
  const app = new Hono<ApiEnv>();
  app.post(
    '/',
    payloadLimit(CONTROL_MAX_BYTES, (c) =>
      sendJsonError(c, { status: 413, type: 'ValidationException', message: `The request body is over the ${CONTROL_MAX_BYTES}-byte limit` }),
    ),
    async (c) => {
      const target = c.req.header('x-amz-target') ?? '';
      const dot = target.lastIndexOf('.');
      const service = dot > 0 ? byPrefix.get(target.slice(0, dot)) : undefined;
      if (!service) {
        const message = target ? `No service answers X-Amz-Target ${target}` : 'POST / needs an X-Amz-Target header naming the operation, e.g. SageMaker.ListEndpoints';
        return sendJsonError(c, protocolError('UnknownOperationException', message));
      }
      const verify = sigv4<ApiEnv>({ lookupSecret: deps.lookupSecret, now: () => deps.clock.now(), service: service.signingName, region: DEFAULT_REGION });
      try {
        await verify(c, async () => {});
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        return sendJsonError(c, service.errorFor(error.code, error.message));
      }
      return dispatchJsonOperation(c, service, target.slice(dot + 1), deps.logger, (operation, input) =>
        authorizeCall(c, deps.platform, `${service.targetPrefix}.${operation}`, input),
      );
    },
  );
  return app;
}
