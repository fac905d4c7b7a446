import { Hono } from 'hono';
import { DEFAULT_REGION } from '../../domain/iam/arn.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiEnv } from '../env.ts';
import { sendWireError, wireErrorHandler } from '../middleware/errors/index.ts';
import { payloadLimit } from '../middleware/payload-limit/index.ts';
import { authorizeRoute } from '../middleware/authorize/index.ts';
import { sigv4 } from '../middleware/sigv4/index.ts';
import { sageMakerRuntimeError } from '../wire/sagemaker-runtime-errors.ts';

/** InvokeEndpoint's payload limit (6 MB), as documented for SageMaker real-time endpoints. */
export const INVOKE_MAX_BYTES = 6 * 1024 * 1024;

/** SageMaker Runtime: `POST /endpoints/{EndpointName}/invocations`, SigV4 service `sagemaker`. */
export function sageMakerRuntimeRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.onError(wireErrorHandler(sageMakerRuntimeError, deps.logger));

  app.post(
    '/endpoints/:name/invocations',
    payloadLimit(INVOKE_MAX_BYTES, (c) =>
      sendWireError(
        c,
        sageMakerRuntimeError('PayloadTooLarge', `Request payload exceeds the ${INVOKE_MAX_BYTES} byte (6 MB) limit of InvokeEndpoint`, {}),
      ),
    ),
    sigv4({ lookupSecret: deps.lookupSecret, now: () => deps.clock.now(), service: 'sagemaker', region: DEFAULT_REGION }),
    authorizeRoute(deps.platform, 'POST /endpoints/:name/invocations'),
    async (c) => {
      const body = new Uint8Array(await c.req.arrayBuffer());
      const result = await deps.platform.endpoints.invoke(c.req.param('name'), {
        contentType: c.req.header('content-type'),
        accept: c.req.header('accept'),
        body,
        customAttributes: c.req.header('x-amzn-sagemaker-custom-attributes'),
        targetVariant: c.req.header('x-amzn-sagemaker-target-variant'),
      });
      c.header('x-Amzn-Invoked-Production-Variant', result.variantName);
      if (result.kind === 'classification') return c.json(result.body);
      c.header('Content-Type', result.contentType);
      return c.body(result.body as Uint8Array<ArrayBuffer>);
    },
  );
  return app;
}
