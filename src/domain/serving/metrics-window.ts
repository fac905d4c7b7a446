/**
 * What `kennel endpoints watch` shows, computed from two scrapes of /metrics:
 * the Prometheus text format parsed into samples, and per-variant throughput,
 * errors and latency percentiles over the time between them. Pure: the scrapes
 * and their times come in as arguments.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * The samples of a text exposition (format 0.0.4): `name{label="value",…} number`
 * lines; comments and blank lines are skipped. Kennel's own /metrics is the input,
 * so label values are taken as written, with \\", \\\\ and \\n unescaped.
 */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[label[1]] = label[2].replace(/\\(["\\n])/g, (_, escaped: string) => (escaped === 'n' ? '\n' : escaped));
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** A cumulative histogram bucket: `count` observations at most `le` seconds. */
export interface Bucket {
  le: number;
  count: number;
}

/**
 * The q-quantile of a cumulative histogram, interpolated linearly inside its bucket as
 * Prometheus's histogram_quantile does; undefined when it holds no observations.
 * Observations above the last finite bound are reported as that bound.
 */
export function histogramQuantile(buckets: readonly Bucket[], q: number): number | undefined {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted.at(-1)?.count ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const bucket of sorted) {
    if (bucket.count >= rank) {
      if (bucket.le === Infinity) return lower;
      const inBucket = bucket.count - below;
      return inBucket === 0 ? bucket.le : lower + ((bucket.le - lower) * (rank - below)) / inBucket;
    }
    lower = bucket.le;
    below = bucket.count;
  }
  return lower;
}

export interface VariantWindow {
  endpointName: string;
  variantName: string;
  invocationsPerSecond: number;
  errorsPerSecond: number;
  /** Errors in the window by wire error code. */
  errorsByCode: Record<string, number>;
  /** Model latency percentiles in the window, in milliseconds. */
  p50Ms?: number;
  p99Ms?: number;
  instances: number;
  queueDepth: number;
}

/** Each variant of `endpointName` over the `seconds` between two scrapes. */
export function variantWindows(before: readonly Sample[], after: readonly Sample[], seconds: number, endpointName: string): VariantWindow[] {
  const ofEndpoint = (samples: readonly Sample[]) => samples.filter((sample) => sample.labels.endpoint === endpointName);
  const [old, now] = [ofEndpoint(before), ofEndpoint(after)];
  const value = (samples: readonly Sample[], name: string, labels: Record<string, string>) =>
    samples
      .filter((sample) => sample.name === name && Object.entries(labels).every(([key, wanted]) => sample.labels[key] === wanted))
      .reduce((sum, sample) => sum + sample.value, 0);
  const delta = (name: string, labels: Record<string, string>) => Math.max(0, value(now, name, labels) - value(old, name, labels));
  const variants = [...new Set(now.map((sample) => sample.labels.variant).filter((variant): variant is string => variant !== undefined))].sort();
  return variants.map((variantName) => {
    const labels = { variant: variantName };
    const errorsByCode: Record<string, number> = {};
    for (const sample of now.filter((candidate) => candidate.name === 'kennel_endpoint_invocation_errors_total' && candidate.labels.variant === variantName)) {
      const count = delta('kennel_endpoint_invocation_errors_total', { ...labels, code: sample.labels.code });
      if (count > 0) errorsByCode[sample.labels.code] = count;
    }
    const bounds = now.filter((sample) => sample.name === 'kennel_endpoint_model_latency_seconds_bucket' && sample.labels.variant === variantName);
    const buckets = bounds.map((sample) => ({
      le: sample.labels.le === '+Inf' ? Infinity : Number(sample.labels.le),
      count: delta('kennel_endpoint_model_latency_seconds_bucket', { ...labels, le: sample.labels.le }),
    }));
    const toMs = (seconds: number | undefined) => (seconds === undefined ? undefined : seconds * 1000);
    return {
      endpointName,
      variantName,
      invocationsPerSecond: delta('kennel_endpoint_invocations_total', labels) / seconds,
      errorsPerSecond: delta('kennel_endpoint_invocation_errors_total', labels) / seconds,
      errorsByCode,
      p50Ms: toMs(histogramQuantile(buckets, 0.5)),
      p99Ms: toMs(histogramQuantile(buckets, 0.99)),
      instances: value(now, 'kennel_endpoint_instances', labels),
      queueDepth: value(now, 'kennel_endpoint_queue_depth', labels),
    };
  });
}
