import { outcomeKind } from './load-outcomes.ts';

/**
 * The timeline of a load test, from what happened to each request and what DescribeEndpoint said
 * about the instances. Requests are placed in the interval in which they were due (offered) and in
 * the one in which their answer came (achieved, latency, errors), so a row is final as soon as its
 * interval has passed, and the answers that come after the last scheduled request make rows of
 * their own at the end.
 */
export interface RequestRecord {
  /** When the schedule said to send it, ms after the start. */
  scheduledMs: number;
  /** When its answer (or error) came, ms after the start; for a skipped request, when it was due. */
  completedMs: number;
  /** From sending to the end of the answer; absent for a request that was never sent. */
  latencyMs?: number;
  /** `OK`, the wire error code, or a client reason such as `ClientSkipped` (see load-outcomes.ts). */
  code: string;
}

/** DescribeEndpoint's CurrentInstanceCount per variant, at `atMs` after the start. */
export interface InstanceSample {
  atMs: number;
  variants: Record<string, number>;
}

export interface LatencyPercentiles {
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
}

export interface TimelineRow {
  /** The interval [startSeconds, endSeconds) after the start. */
  startSeconds: number;
  endSeconds: number;
  /** Requests due in the interval, per second: what the shape offered, sent or not. */
  offeredRps: number;
  /** Successful answers in the interval, per second. */
  achievedRps: number;
  offered: number;
  ok: number;
  /** Latency of the successful answers in the interval; null when there were none. */
  latency: LatencyPercentiles | null;
  /** ServiceUnavailable / ThrottlingException answers, by code. */
  backPressure: Record<string, number>;
  /** Every other error, by wire error code or client reason. */
  failures: Record<string, number>;
  clientSkipped: number;
  /** Instances per variant as last seen by the end of the interval; empty before the first poll. */
  instances: Record<string, number>;
}

export interface LoadTotals {
  /** Requests the schedule made due: sent + clientSkipped. */
  scheduled: number;
  sent: number;
  answeredOk: number;
  backPressure: { total: number; byCode: Record<string, number> };
  failures: { total: number; byCode: Record<string, number> };
  clientSkipped: number;
  /** Over every successful answer of the run; null when there were none. */
  latency: LatencyPercentiles | null;
  /** The most instances each variant had at any poll. */
  maxInstances: Record<string, number>;
}

/** Nearest-rank percentile of ascending `sorted`; NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function latencyPercentiles(latenciesMs: readonly number[]): LatencyPercentiles | null {
  if (latenciesMs.length === 0) return null;
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return { p50Ms: percentile(sorted, 50), p90Ms: percentile(sorted, 90), p99Ms: percentile(sorted, 99) };
}

/**
 * One row per `intervalMs` from the start until `runMs` (the shape's duration) or the last
 * answer, whichever is later. A partial last interval's rates are per second of its own length.
 */
export function buildTimeline(
  records: readonly RequestRecord[],
  samples: readonly InstanceSample[],
  options: { intervalMs: number; runMs: number },
): TimelineRow[] {
  const { intervalMs } = options;
  let endMs = Math.max(options.runMs, 0);
  for (const record of records) endMs = Math.max(endMs, record.completedMs);
  const count = Math.max(1, Math.ceil(endMs / intervalMs - 1e-9));
  const offered = new Array<number>(count).fill(0);
  const answers = Array.from({ length: count }, () => [] as RequestRecord[]);
  const indexAt = (ms: number) => Math.min(count - 1, Math.max(0, Math.floor(ms / intervalMs)));
  for (const record of records) {
    offered[indexAt(record.scheduledMs)]++;
    answers[indexAt(record.completedMs)].push(record);
  }
  const sorted = [...samples].sort((a, b) => a.atMs - b.atMs);
  return answers.map((answered, index) =>
    intervalRow({ startMs: index * intervalMs, endMs: Math.min(endMs, (index + 1) * intervalMs) }, offered[index], answered, sorted),
  );
}

/**
 * The row of one interval: `offered` requests were due in it, and `answered` are the records
 * that completed in it. What the live view prints as each interval ends, and what the timeline is made of.
 */
export function intervalRow(
  interval: { startMs: number; endMs: number },
  offered: number,
  answered: readonly RequestRecord[],
  samples: readonly InstanceSample[],
): TimelineRow {
  let ok = 0;
  let clientSkipped = 0;
  const latencies: number[] = [];
  const backPressure: Record<string, number> = {};
  const failures: Record<string, number> = {};
  for (const record of answered) {
    const kind = outcomeKind(record.code);
    if (kind === 'ok') {
      ok++;
      if (record.latencyMs !== undefined) latencies.push(record.latencyMs);
    } else if (kind === 'skipped') clientSkipped++;
    else increment(kind === 'backPressure' ? backPressure : failures, record.code);
  }
  const seconds = Math.max(interval.endMs - interval.startMs, 1) / 1000;
  return {
    startSeconds: interval.startMs / 1000,
    endSeconds: interval.endMs / 1000,
    offeredRps: offered / seconds,
    achievedRps: ok / seconds,
    offered,
    ok,
    latency: latencyPercentiles(latencies),
    backPressure,
    failures,
    clientSkipped,
    instances: { ...(lastSampleBy(samples, interval.endMs)?.variants ?? {}) },
  };
}

export function loadTotals(records: readonly RequestRecord[], samples: readonly InstanceSample[]): LoadTotals {
  const backPressure: Record<string, number> = {};
  const failures: Record<string, number> = {};
  const latencies: number[] = [];
  let answeredOk = 0;
  let clientSkipped = 0;
  for (const record of records) {
    const kind = outcomeKind(record.code);
    if (kind === 'ok') {
      answeredOk++;
      if (record.latencyMs !== undefined) latencies.push(record.latencyMs);
    } else if (kind === 'skipped') clientSkipped++;
    else increment(kind === 'backPressure' ? backPressure : failures, record.code);
  }
  const maxInstances: Record<string, number> = {};
  for (const sample of samples) {
    for (const [variant, instances] of Object.entries(sample.variants)) maxInstances[variant] = Math.max(maxInstances[variant] ?? 0, instances);
  }
  return {
    scheduled: records.length,
    sent: records.length - clientSkipped,
    answeredOk,
    backPressure: { total: sum(backPressure), byCode: backPressure },
    failures: { total: sum(failures), byCode: failures },
    clientSkipped,
    latency: latencyPercentiles(latencies),
    maxInstances,
  };
}

function increment(counts: Record<string, number>, code: string): void {
  counts[code] = (counts[code] ?? 0) + 1;
}

function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((total, n) => total + n, 0);
}

/** Of samples in time order, the latest taken by `ms`, else the first one (the poll made before any request). */
function lastSampleBy(sorted: readonly InstanceSample[], ms: number): InstanceSample | undefined {
  let found: InstanceSample | undefined = sorted[0];
  for (const sample of sorted) {
    if (sample.atMs > ms) break;
    found = sample;
  }
  return found;
}
