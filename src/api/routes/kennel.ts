import { Hono, type Context } from 'hono';
import { DomainError } from '../../core/errors.ts';
import { encodeTraceRecord } from '../../domain/debugger/trace-protocol.ts';
import { DEFAULT_REGION } from '../../domain/iam/arn.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiEnv } from '../env.ts';
import { sendWireError, wireErrorHandler } from '../middleware/errors/index.ts';
import { CONTROL_MAX_BYTES, payloadLimit } from '../middleware/payload-limit/index.ts';
import { authorizeRoute } from '../middleware/authorize/index.ts';
import { sigv4 } from '../middleware/sigv4/index.ts';
import { logQuerySchema, parseWith, registerDatasetSchema } from '../schemas.ts';
import { kennelError } from '../wire/kennel-errors.ts';
import { registerFunctionRoutes } from './kennel-functions.ts';
import { registerIamRoutes } from './kennel-iam.ts';
import { OBJECT_MAX_BYTES, registerObjectRoutes } from './kennel-objects.ts';


/**
 * Kennel's own resources as JSON over REST under /kennel, SigV4 service `kennel`:
 * datasets (registered image folders and their validation reports), the
 * per-epoch metrics of training jobs, and the object store behind s3:// URIs.
 * Everything SageMaker has is on its wire.
 */
export function kennelRoutes(deps: ApiDeps): Hono<ApiEnv> {
  const { platform } = deps;
  const app = new Hono<ApiEnv>().basePath('/kennel');
  app.onError(wireErrorHandler(kennelError, deps.logger));
  const limit = (maxBytes: number) =>
    payloadLimit(maxBytes, (c) => sendWireError(c, kennelError('PayloadTooLarge', `Request body exceeds ${maxBytes} bytes`, {})));
  const controlLimit = limit(CONTROL_MAX_BYTES);
  const objectLimit = limit(OBJECT_MAX_BYTES);
  app.use(
    (c, next) => (c.req.path.startsWith('/kennel/objects/') ? objectLimit(c, next) : controlLimit(c, next)),
    sigv4({ lookupSecret: deps.lookupSecret, now: () => deps.clock.now(), service: 'kennel', region: DEFAULT_REGION }),
  );
  const allow = (key: string) => authorizeRoute(platform, key);
  registerObjectRoutes(app, deps, allow);
  registerIamRoutes(app, deps, allow);
  registerFunctionRoutes(app, deps, allow);

  app.get('/datasets', allow('GET /kennel/datasets'), (c) => c.json({ datasets: platform.datasets.list() }));
  app.get('/datasets/:name', allow('GET /kennel/datasets/:name'), (c) => c.json(platform.datasets.describe(c.req.param('name'))));
  app.post('/datasets', allow('POST /kennel/datasets'), async (c) => {
    const input = parseWith(registerDatasetSchema, await readJson(c));
    const { dataset, scan } = await platform.datasets.register(input);
    return c.json({ dataset, report: scan.report }, 201);
  });
  app.post('/datasets/validate', allow('POST /kennel/datasets/validate'), async (c) => {
    const { path } = parseWith(registerDatasetSchema.pick({ path: true }), await readJson(c));
    return c.json({ report: (await platform.datasets.validate(path)).report });
  });

  // Per-epoch series, as CloudWatch holds them for SageMaker: DescribeTrainingJob has only the final values.
  app.get('/training-jobs/:name/metrics', allow('GET /kennel/training-jobs/:name/metrics'), (c) => {
    const job = platform.trainingJobs.describe(c.req.param('name'));
    return c.json({
      trainingJobName: job.name,
      epochs: job.epochs,
      ...(job.spec.algorithm === 'image-classifier' ? { plannedEpochs: job.spec.head.epochs } : {}),
      ...(job.scrapedMetrics ? { series: job.scrapedMetrics } : {}),
      ...(job.embeddingStats ? { embeddingStats: job.embeddingStats } : {}),
      ...(job.finalMetrics ? { finalMetrics: job.finalMetrics } : {}),
    });
  });

  // A job's log, as CloudWatch Logs holds it for SageMaker: `from` is the byte offset a previous read returned as `next`.
  app.get('/training-jobs/:name/logs', allow('GET /kennel/training-jobs/:name/logs'), async (c) => {
    const query = parseWith(logQuerySchema, c.req.query());
    const job = platform.trainingJobs.describe(c.req.param('name'));
    const page = await platform.deps.logs.read(job.name, query.from ?? 0, query.limit ?? 1000);
    return c.json({ trainingJobName: job.name, status: job.status, events: page.events, next: page.next });
  });

  // An endpoint's log: what its inference scripts print (model_fn's and handlers' tracebacks among it), as CloudWatch keeps
  // /aws/sagemaker/Endpoints/<name>. It outlives the endpoint; a name never used has an empty one.
  app.get('/endpoints/:name/logs', allow('GET /kennel/endpoints/:name/logs'), async (c) => {
    const query = parseWith(logQuerySchema, c.req.query());
    const name = c.req.param('name');
    const page = await platform.deps.endpointLogs.read(name, query.from ?? 0, query.limit ?? 1000);
    return c.json({ endpointName: name, events: page.events, next: page.next });
  });

  // The debugger's trace, as SageMaker keeps a job's tensors and profiler data in S3: its records in the trace protocol
  // (NaN and the infinities as strings, as in the file), and each rule's evaluation with the step it fired at.
  app.get('/training-jobs/:name/trace', allow('GET /kennel/training-jobs/:name/trace'), async (c) => {
    const job = platform.trainingJobs.describe(c.req.param('name'));
    const { builder } = await platform.deps.traces.read(job.name);
    const rules = [...(job.spec.debugger?.rules ?? []), ...(job.spec.debugger?.profilerRules ?? [])];
    return c.json({
      trainingJobName: job.name,
      status: job.status,
      rules: (job.ruleEvaluations ?? []).map((evaluation) => ({ ...evaluation, rule: rules.find((r) => r.name === evaluation.configurationName)?.rule })),
      records: builder.records().map((record) => JSON.parse(encodeTraceRecord(record)) as unknown),
    });
  });

  // What DescribeHyperParameterTuningJob does not say: each trial's objective after every epoch, for the learning curves.
  app.get('/tuning-jobs/:name/trials', allow('GET /kennel/tuning-jobs/:name/trials'), (c) => {
    const job = platform.tuningJobs.describe(c.req.param('name'));
    return c.json({
      tuningJobName: job.name,
      objective: job.spec.objective,
      trials: platform.tuningJobs.trials(job).map((trial) => {
        const trainingJob = platform.deps.store.trainingJobs.get(trial.entry.trainingJobName);
        return {
          // Counted from 1, as the trials' names count them.
          number: trial.entry.number + 1,
          trainingJobName: trial.entry.trainingJobName,
          status: trial.status === 'Pending' ? 'InProgress' : trial.status,
          hyperParameters: trial.entry.hyperParameters,
          ...(trial.final !== undefined && Number.isFinite(trial.final) ? { final: trial.final } : {}),
          // JSON has no NaN: a diverged epoch is sent as null.
          curve: trial.intermediate.map((value) => (Number.isFinite(value) ? value : null)),
          ...(trial.entry.earlyStopped ? { earlyStopped: true } : {}),
          ...(trainingJob?.failureReason ? { failureReason: trainingJob.failureReason } : {}),
        };
      }),
    });
  });

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
