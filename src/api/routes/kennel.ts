import { Hono, type Context } from 'hono';
import { DomainError } from '../../core/errors.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiEnv } from '../env.ts';
import { sendWireError, wireErrorHandler } from '../middleware/errors/index.ts';
import { payloadLimit } from '../middleware/payload-limit/index.ts';
import { sigv4 } from '../middleware/sigv4/index.ts';
import {
  createEndpointConfigSchema,
  createEndpointSchema,
  createModelSchema,
  createTrainingJobSchema,
  parseWith,
  registerDatasetSchema,
} from '../schemas.ts';
import { kennelError } from '../wire/kennel-errors.ts';

const CONTROL_MAX_BYTES = 1024 * 1024;

/**
 * The Kennel control plane as JSON over REST under /kennel, SigV4 service `kennel`.
 * Create calls record desired state and return at once; describe calls show how
 * far the controller got.
 */
export function kennelRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const { platform } = deps;
  const app = new Hono<ApiEnv>().basePath('/kennel');
  app.onError(wireErrorHandler(kennelError, deps.logger));
  app.use(
    payloadLimit(CONTROL_MAX_BYTES, (c) => sendWireError(c, kennelError('PayloadTooLarge', `Request body exceeds ${CONTROL_MAX_BYTES} bytes`, {}))),
    sigv4({ lookupSecret: deps.lookupSecret, now: () => deps.clock.now(), service: 'kennel' }),
  );

  app.get('/datasets', (c) => c.json({ datasets: platform.datasets.list() }));
  app.get('/datasets/:name', (c) => c.json(platform.datasets.describe(c.req.param('name'))));
  app.post('/datasets', async (c) => {
    const input = parseWith(registerDatasetSchema, await readJson(c));
    const { dataset, scan } = await platform.datasets.register(input);
    return c.json({ dataset, report: scan.report }, 201);
  });
  app.post('/datasets/validate', async (c) => {
    const { path } = parseWith(registerDatasetSchema.pick({ path: true }), await readJson(c));
    return c.json({ report: (await platform.datasets.validate(path)).report });
  });

  app.get('/training-jobs', (c) => c.json({ trainingJobs: platform.trainingJobs.list() }));
  app.get('/training-jobs/:name', (c) => c.json(platform.trainingJobs.describe(c.req.param('name'))));
  app.post('/training-jobs', async (c) => {
    const input = parseWith(createTrainingJobSchema, await readJson(c));
    return c.json(await platform.trainingJobs.create(input), 201);
  });
  app.post('/training-jobs/:name/stop', (c) => c.json(platform.trainingJobs.stop(c.req.param('name'))));

  app.get('/models', (c) => c.json({ models: platform.models.list() }));
  app.get('/models/:name', (c) => c.json(platform.models.describe(c.req.param('name'))));
  app.post('/models', async (c) => c.json(platform.models.create(parseWith(createModelSchema, await readJson(c))), 201));
  app.delete('/models/:name', (c) => {
    platform.models.delete(c.req.param('name'));
    return c.body(null, 204);
  });

  app.get('/endpoint-configs', (c) => c.json({ endpointConfigs: platform.endpointConfigs.list() }));
  app.get('/endpoint-configs/:name', (c) => c.json(platform.endpointConfigs.describe(c.req.param('name'))));
  app.post('/endpoint-configs', async (c) =>
    c.json(platform.endpointConfigs.create(parseWith(createEndpointConfigSchema, await readJson(c))), 201),
  );
  app.delete('/endpoint-configs/:name', (c) => {
    platform.endpointConfigs.delete(c.req.param('name'));
    return c.body(null, 204);
  });

  app.get('/endpoints', (c) => c.json({ endpoints: platform.endpoints.list() }));
  app.get('/endpoints/:name', (c) => c.json(platform.endpoints.describe(c.req.param('name'))));
  app.post('/endpoints', async (c) => c.json(platform.endpoints.create(parseWith(createEndpointSchema, await readJson(c))), 201));
  app.delete('/endpoints/:name', (c) => c.json(platform.endpoints.delete(c.req.param('name'))));

  return app;
}

async function readJson(c: Context<ApiEnv>): Promise<unknown> {
  const text = await c.req.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new DomainError('ValidationError', 'The request body is not valid JSON');
  }
}
