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
export function percentile(sorted: readonly number[], p: number): number {
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
  const rows = Array.from({ length: count }, (_, index) => {
    const startMs = index * intervalMs;
    return { startMs, endMs: Math.min(endMs, startMs + intervalMs), offered: 0, ok: 0, latencies: [] as number[], backPressure: {}, failures: {}, clientSkipped: 0 };
  });
  const rowAt = (ms: number) => rows[Math.min(count - 1, Math.max(0, Math.floor(ms / intervalMs)))];
  for (const record of records) {
    rowAt(record.scheduledMs).offered++;
    const row = rowAt(record.completedMs);
    const kind = outcomeKind(record.code);
    if (kind === 'ok') {
      row.ok++;
      if (record.latencyMs !== undefined) row.latencies.push(record.latencyMs);
    } else if (kind === 'skipped') row.clientSkipped++;
    else increment(kind === 'backPressure' ? row.backPressure : row.failures, record.code);
  }
  const sorted = [...samples].sort((a, b) => a.atMs - b.atMs);
  return rows.map((row) => {
    const seconds = Math.max(row.endMs - row.startMs, 1) / 1000;
    return {
      startSeconds: row.startMs / 1000,
      endSeconds: row.endMs / 1000,
      offeredRps: row.offered / seconds,
      achievedRps: row.ok / seconds,
      offered: row.offered,
      ok: row.ok,
      latency: latencyPercentiles(row.latencies),
      backPressure: row.backPressure,
      failures: row.failures,
      clientSkipped: row.clientSkipped,
      instances: { ...(lastSampleBy(sorted, row.endMs)?.variants ?? {}) },
    };
  });
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

/** The latest sample taken before `ms`, else the first one (the poll made before any request). */
function lastSampleBy(sorted: readonly InstanceSample[], ms: number): InstanceSample | undefined {
  let found: InstanceSample | undefined = sorted[0];
  for (const sample of sorted) {
    if (sample.atMs > ms) break;
    found = sample;
  }
  return found;
}
