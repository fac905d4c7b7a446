import http from 'node:http';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { DomainError } from '../core/errors.ts';
import { DEFAULT_REGION } from '../domain/iam/arn.ts';
import { CLIENT_SKIPPED, CLIENT_TIMEOUT, FUNCTION_ERROR, OK, networkErrorCode, wireErrorCode } from '../domain/serving/load-outcomes.ts';
import {
  buildTimeline,
  intervalRow,
  loadTotals,
  type InstanceSample,
  type LoadTotals,
  type RequestRecord,
  type TimelineRow,
} from '../domain/serving/load-timeline.ts';
import { parseTrafficShape, sendTimes, type TrafficShape } from '../domain/serving/traffic-shape.ts';
import { sampleJpeg } from '../runtime/samples/sample-images.ts';
import { AwsServiceError, KennelClient, type ClientCredentials } from './client.ts';

export interface LoadOptions {
  /** Kennel's base URL, on this machine: `http://127.0.0.1:8080`. */
  url: string;
  /** The endpoint whose instances the timeline shows; the one invoked unless `functionName` is given. */
  endpointName: string;
  /** Sends the load to this Lambda function (Invoke, RequestResponse) instead: a function in front of the endpoint. */
  functionName?: string;
  credentials: ClientCredentials;
  shape: TrafficShape;
  /** Width of a timeline row; 1 s by default. */
  intervalSeconds?: number;
  /** Requests outstanding at most; one due beyond it is not sent but counted ClientSkipped. 256 by default. */
  maxInFlight?: number;
  /** The InvokeEndpoint body (a generated sample JPEG by default), or the function's event. */
  body?: Uint8Array;
  contentType?: string;
  /** A request unanswered after this long is abandoned and counted ClientTimeout; 60 s by default. */
  timeoutSeconds?: number;
  region?: string;
  /** Stops sending; the requests in flight are awaited and the report covers what ran. */
  signal?: AbortSignal;
  /** Called as each interval ends (and for the rows of the drain after the schedule), in order. */
  onInterval?: (row: TimelineRow, progress: LoadProgress) => void;
}

export interface LoadProgress {
  elapsedSeconds: number;
  durationSeconds: number;
  scheduled: number;
  total: number;
  inFlight: number;
}

export interface LoadReport {
  endpointName: string;
  functionName?: string;
  url: string;
  shape: TrafficShape;
  intervalSeconds: number;
  maxInFlight: number;
  /** ISO time the first request was due. */
  startedAt: string;
  /** From the first request to the last answer. */
  elapsedSeconds: number;
  /** Whether the run was stopped (the signal) before its schedule ended. */
  stoppedEarly: boolean;
  summary: LoadTotals;
  rows: TimelineRow[];
  /** DescribeEndpoint polls that failed; the instance counts have gaps where they did. */
  instancePollErrors: number;
}

const DEFAULT_MAX_IN_FLIGHT = 256;
/** Instance counts change in seconds (a worker thread starting); polling faster tells nothing more. */
const MIN_POLL_MS = 250;

/**
 * Replays `shape` against an endpoint, open loop: each request starts when the schedule says,
 * whether or not earlier ones have been answered, as independent users' traffic does. Requests
 * are SigV4-signed InvokeEndpoint calls over kept-alive connections; DescribeEndpoint is polled
 * each interval for the instances per variant. Every request due ends up in the report exactly
 * once: answered, refused, failed or skipped.
 */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const base = kennelUrl(options.url);
  const target = options.functionName
    ? new URL(`/2015-03-31/functions/${encodeURIComponent(options.functionName)}/invocations`, base)
    : new URL(`/endpoints/${encodeURIComponent(options.endpointName)}/invocations`, base);
  // Validated here too: a shape built in code (bench/) gets the same checks as one from flags.
  const shape = parseTrafficShape(options.shape);
  const intervalMs = 1000 * (options.intervalSeconds ?? 1);
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  const timeoutMs = 1000 * (options.timeoutSeconds ?? 60);
  if (!(intervalMs >= 10)) throw new DomainError('ValidationError', '--interval: must be at least 10 ms', { field: 'interval' });
  if (!(timeoutMs > 0)) throw new DomainError('ValidationError', '--timeout: must be more than zero', { field: 'timeout' });
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new DomainError('ValidationError', '--max-in-flight: must be a whole number, 1 or more', { field: 'maxInFlight' });
  const body = options.body ?? (options.functionName ? new TextEncoder().encode('{}') : await sampleJpeg());
  const contentType = options.contentType ?? (options.functionName ? 'application/json' : 'image/jpeg');
  const region = options.region ?? DEFAULT_REGION;

  const control = new KennelClient(options.url, options.credentials, region);
  const samples: InstanceSample[] = [];
  // The first poll also says, before any load, whether the endpoint is there at all.
  const firstVariants = await describeVariants(control, options.endpointName).catch((error: unknown) => {
    if (error instanceof AwsServiceError && error.isNotFound) {
      throw new DomainError('NotFound', `Endpoint ${options.endpointName} does not exist at ${options.url}: see \`kennel endpoints list\``, { field: 'endpoint' });
    }
    throw error;
  });

  const agent = new http.Agent({ keepAlive: true, maxSockets: maxInFlight });
  const service = options.functionName ? 'lambda' : 'sagemaker';
  const invoke = invoker({ target, agent, body, contentType, timeoutMs, signer: new SignatureV4({ service, region, credentials: options.credentials, sha256: Hash.bind(null, 'sha256') }) });
  const schedule = sendTimes(shape).map((seconds) => seconds * 1000);
  const runMs = shape.durationSeconds * 1000;

  const records: RequestRecord[] = [];
  let answeredSinceRow: RequestRecord[] = [];
  let inFlight = 0;
  let next = 0;
  let pollErrors = 0;
  let stoppedEarly = false;
  const startedAt = new Date();
  const start = performance.now();
  const elapsed = () => performance.now() - start;
  samples.push({ atMs: 0, variants: firstVariants });

  let lastAnswerMs = 0;
  const settle = (record: RequestRecord) => {
    lastAnswerMs = Math.max(lastAnswerMs, record.completedMs);
    records.push(record);
    answeredSinceRow.push(record);
  };
  let wakeDrain: (() => void) | undefined;
  const dispatch = (scheduledMs: number) => {
    if (inFlight >= maxInFlight) {
      settle({ scheduledMs, completedMs: elapsed(), code: CLIENT_SKIPPED });
      return;
    }
    inFlight++;
    const sentMs = elapsed();
    void invoke()
      .catch((error: NodeJS.ErrnoException) => networkErrorCode(error.code))
      .then((code) => {
        const completedMs = elapsed();
        inFlight--;
        settle({ scheduledMs, completedMs, latencyMs: completedMs - sentMs, code });
        if (inFlight === 0) wakeDrain?.();
      });
  };

  const scheduleDone = new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const stop = () => {
      clearTimeout(timer);
      stoppedEarly = next < schedule.length;
      resolve();
    };
    if (options.signal?.aborted) return stop();
    options.signal?.addEventListener('abort', stop, { once: true });
    const tick = () => {
      const now = elapsed();
      // Every request due by now goes, even when the timer woke late: the schedule is the truth.
      while (next < schedule.length && schedule[next] <= now) dispatch(schedule[next++]);
      if (next >= schedule.length) {
        options.signal?.removeEventListener('abort', stop);
        return resolve();
      }
      timer = setTimeout(tick, Math.max(0, schedule[next] - elapsed()));
    };
    tick();
  });

  let polling = false;
  const poll = () => {
    if (polling) return;
    polling = true;
    describeVariants(control, options.endpointName)
      .then((variants) => samples.push({ atMs: elapsed(), variants }))
      .catch(() => pollErrors++)
      .finally(() => (polling = false));
  };
  const poller = setInterval(poll, Math.max(MIN_POLL_MS, intervalMs));

  // The live view: one row as each interval ends, from the requests due and answered in it.
  let rowIndex = 0;
  let rowOffered = 0; // schedule entries counted into rows so far
  const emitRow = (endMs: number) => {
    const startMs = rowIndex * intervalMs;
    let offered = 0;
    while (rowOffered < next && schedule[rowOffered] < endMs) {
      rowOffered++;
      offered++;
    }
    const answered = answeredSinceRow;
    answeredSinceRow = [];
    rowIndex++;
    options.onInterval?.(intervalRow({ startMs, endMs }, offered, answered, samples), {
      elapsedSeconds: elapsed() / 1000,
      durationSeconds: shape.durationSeconds,
      scheduled: next,
      total: schedule.length,
      inFlight,
    });
  };
  let rowTimer: NodeJS.Timeout | undefined;
  const rowTick = () => {
    emitRow((rowIndex + 1) * intervalMs);
    rowTimer = setTimeout(rowTick, Math.max(0, (rowIndex + 1) * intervalMs - elapsed()));
  };
  rowTimer = setTimeout(rowTick, intervalMs);

  try {
    await scheduleDone;
    const stopMs = stoppedEarly ? elapsed() : runMs;
    if (!stoppedEarly && elapsed() < runMs) await new Promise((resolve) => setTimeout(resolve, runMs - elapsed()));
    if (inFlight > 0) await new Promise<void>((resolve) => (wakeDrain = resolve));
    // As the timeline ends: at the end of the schedule or at the last answer, whichever is later.
    const endMs = Math.max(stopMs, lastAnswerMs);
    clearTimeout(rowTimer);
    while ((rowIndex + 1) * intervalMs < endMs) emitRow((rowIndex + 1) * intervalMs);
    if (rowIndex * intervalMs < endMs) emitRow(endMs);
    const rows = buildTimeline(records, samples, { intervalMs, runMs: stopMs });
    return {
      endpointName: options.endpointName,
      ...(options.functionName ? { functionName: options.functionName } : {}),
      url: options.url,
      shape,
      intervalSeconds: intervalMs / 1000,
      maxInFlight,
      startedAt: startedAt.toISOString(),
      elapsedSeconds: endMs / 1000,
      stoppedEarly,
      summary: loadTotals(records, samples),
      rows,
      instancePollErrors: pollErrors,
    };
  } finally {
    clearTimeout(rowTimer);
    clearInterval(poller);
    agent.destroy();
  }
}

/** Kennel's URL, which must be on this machine. */
function kennelUrl(url: string): URL {
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new DomainError('ValidationError', `endpoint-url: "${url}" is not a URL; write it like http://127.0.0.1:8080`, { field: 'url' });
  }
  if (base.protocol !== 'http:') throw new DomainError('ValidationError', `endpoint-url: ${url} must be http:// (Kennel serves plain HTTP on this machine)`, { field: 'url' });
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(base.hostname) && !/^127\.\d+\.\d+\.\d+$/.test(base.hostname)) {
    throw new DomainError('ValidationError', `endpoint-url: ${url} is not on this machine; kennel load only drives a Kennel on 127.0.0.1`, { field: 'url' });
  }
  return base;
}

interface EndpointVariants {
  ProductionVariants?: { VariantName: string; CurrentInstanceCount?: number }[];
}

async function describeVariants(client: KennelClient, endpointName: string): Promise<Record<string, number>> {
  const endpoint = await client.sageMaker<EndpointVariants>('DescribeEndpoint', { EndpointName: endpointName });
  return Object.fromEntries((endpoint.ProductionVariants ?? []).map((variant) => [variant.VariantName, variant.CurrentInstanceCount ?? 0]));
}

/**
 * One InvokeEndpoint call, resolved with `OK` or the code of what went wrong; it never rejects.
 * A kept-alive socket that the server closed just as it was reused fails before anything was
 * sent: that one attempt is made again on a fresh socket, as Node's documentation advises.
 */
function invoker(setup: { target: URL; agent: http.Agent; body: Uint8Array; contentType: string; timeoutMs: number; signer: SignatureV4 }) {
  const { target, agent, body, signer } = setup;
  const attempt = (headers: Record<string, string>, retried: boolean): Promise<string> =>
    new Promise((resolve) => {
      const request = http.request({ agent, hostname: target.hostname.replace(/^\[|\]$/g, ''), port: target.port, path: target.pathname, method: 'POST', headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => {
          if (response.statusCode !== 200) chunks.push(chunk);
        });
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          // A function that failed still answers 200, with X-Amz-Function-Error naming the failure.
          if (status === 200 && response.headers['x-amz-function-error'] !== undefined) return resolve(FUNCTION_ERROR);
          if (status === 200) return resolve(OK);
          const header = response.headers['x-amzn-errortype'];
          resolve(wireErrorCode(status, Array.isArray(header) ? header[0] : header, Buffer.concat(chunks).toString('utf8')));
        });
        response.on('error', (error: NodeJS.ErrnoException) => resolve(networkErrorCode(error.code)));
      });
      request.setTimeout(setup.timeoutMs, () => request.destroy(Object.assign(new Error('timed out'), { code: CLIENT_TIMEOUT })));
      request.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === CLIENT_TIMEOUT) return resolve(CLIENT_TIMEOUT);
        if (!retried && request.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) return resolve(attempt(headers, true));
        resolve(networkErrorCode(error.code));
      });
      request.end(body);
    });
  return async (): Promise<string> => {
    const signed = await signer.sign({
      method: 'POST',
      protocol: 'http:',
      hostname: target.hostname,
      port: Number(target.port) || undefined,
      path: target.pathname,
      query: {},
      headers: { host: target.host, 'content-type': setup.contentType, accept: 'application/json' },
      body,
    });
    return attempt({ ...(signed.headers as Record<string, string>), 'content-length': String(body.byteLength) }, false);
  };
}
