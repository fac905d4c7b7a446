import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { DomainError } from '../core/errors.ts';
import type { ApiDeps } from './deps.ts';
import type { ApiEnv } from './env.ts';
import { sendWireError } from './middleware/errors/index.ts';
import { requestId } from './middleware/request-id/index.ts';
import { auditTrail } from './middleware/audit/index.ts';
import { autoscalingService } from './autoscaling/service.ts';
import { sageMakerService } from './sagemaker/service.ts';
import { awsRoutes } from './routes/aws-services.ts';
import { iamService } from './iam/service.ts';
import { stsService } from './sts/service.ts';
import { lambdaService } from './lambda/service.ts';
import { restJsonRoutes } from './aws/rest-json-protocol.ts';
import { authorizeCall } from './middleware/authorize/index.ts';
import { kennelRoutes } from './routes/kennel.ts';
import { sageMakerRuntimeRoutes } from './routes/sagemaker-runtime.ts';
import { kennelError } from './wire/kennel-errors.ts';

/**
 * The whole HTTP surface on one port: one route group per wire protocol, each
 * with its own error format. AWS's JSON-protocol services share `POST /` and are
 * told apart by `X-Amz-Target`; the others by path.
 */
export function createApp(deps: ApiDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.use(requestId());
  app.use(auditTrail(deps.platform));
  // Readiness probe with nothing to leak, as SageMaker containers answer GET /ping.
  app.get('/ping', (c) => c.text('ok'));
  // Prometheus scrapes without signing, as it scrapes TorchServe's and Triton's metrics ports: counts
  // and latencies by endpoint and variant name, nothing more.
  app.get('/metrics', async (c) => {
    const { contentType, body } = await deps.platform.metrics.exposition();
    return c.body(body, 200, { 'content-type': contentType });
  });
  app.route('/', awsRoutes(deps, [sageMakerService(deps.platform), autoscalingService(deps.platform)], [iamService(deps.platform), stsService(deps.platform)]));
  app.route('/', restJsonRoutes(deps, lambdaService(deps.platform), (c, operation, input) => authorizeCall(c, deps.platform, `lambda.${operation}`, input)));
  app.route('/', sageMakerRuntimeRoutes(deps));
  app.route('/', kennelRoutes(deps));
  app.notFound((c) => {
    const message = `No operation at ${c.req.method} ${c.req.path}`;
    if (c.req.path.startsWith('/kennel/')) return sendWireError(c, kennelError('NotFound', message, {}));
    c.header('x-amzn-ErrorType', 'UnknownOperationException');
    return c.json({ __type: 'UnknownOperationException', message }, 404);
  });
  return app;
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export function listen(app: Hono<ApiEnv>, options: { host: string; port: number }): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    let server: ServerType;
    const onError = (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(new DomainError('Conflict', `Port ${options.port} on ${options.host} is in use; stop the other server or pass --port`));
      } else {
        reject(error);
      }
    };
    server = serve({ fetch: app.fetch, hostname: options.host, port: options.port }, (info: AddressInfo) => {
      server.off('error', onError);
      const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
      resolve({
        url: `http://${host}:${info.port}`,
        port: info.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            if ('closeAllConnections' in server) server.closeAllConnections();
          }),
      });
    });
    server.once('error', onError);
    // Requests Node cannot even parse (bad framing, oversized headers) still get a JSON error.
    server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
      if (!socket.writable) return socket.destroy();
      const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      const body = JSON.stringify({ __type: 'ValidationError', message: `Malformed HTTP request (${error.code ?? 'parse error'})` });
      socket.end(
        `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
          `Content-Type: application/json\r\nx-amzn-ErrorType: ValidationError\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    });
  });
}
