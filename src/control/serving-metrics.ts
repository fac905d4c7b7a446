import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** How one InvokeEndpoint request to a variant ended: 'OK', or the wire error code it was answered with. */
export type InvocationOutcome = 'OK' | string;

export interface InvocationRecord {
  endpointName: string;
  variantName: string;
  outcome: InvocationOutcome;
  /** When the request finished, on the platform clock. */
  atMs: number;
  /** SageMaker's ModelLatency: the time the instance took (decoding, preprocessing, inference). */
  modelLatencyMs?: number;
  /** SageMaker's OverheadLatency: the rest of the request's time in Kennel (routing, queueing, fetching a URL). */
  overheadLatencyMs?: number;
  /** The request's share of the model's run: what its instance was busy computing for it. */
  computeMs?: number;
}

/** What the gauges read at scrape time: instances and requests held, per variant. */
export interface VariantGauges {
  endpointName: string;
  variantName: string;
  instances: number;
  /** Requests held by the variant's instances, running or waiting. */
  queueDepth: number;
}

/** Width of the buckets the scaling metric is summed from: the shortest metric period Kennel supports. */
export const INVOCATION_BUCKET_MS = 1000;
/** Buckets kept per variant: an hour, far longer than any alarm looks back. */
const KEPT_BUCKETS = 3600;

const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Every endpoint's serving metrics, in this process. Two readers: Prometheus
 * (`/metrics`, through prom-client, named after SageMaker's CloudWatch metrics)
 * and the autoscaler, which sums invocations per variant over its metric periods
 * (CloudWatch's `Invocations`, counted per second here so periods can be shortened).
 */
export class ServingMetrics {
  readonly registry = new Registry();
  private readonly invocationsTotal: Counter<'endpoint' | 'variant'>;
  private readonly errorsTotal: Counter<'endpoint' | 'variant' | 'code'>;
  private readonly modelLatency: Histogram<'endpoint' | 'variant'>;
  private readonly overheadLatency: Histogram<'endpoint' | 'variant'>;
  /** Invocations and model time per variant, by bucket index (atMs / INVOCATION_BUCKET_MS). */
  private readonly buckets = new Map<string, Map<number, Bucket>>();

  constructor(gauges: () => VariantGauges[] = () => []) {
    const registers = [this.registry];
    this.invocationsTotal = new Counter({
      name: 'kennel_endpoint_invocations_total',
      help: 'InvokeEndpoint requests routed to a variant (SageMaker Invocations).',
      labelNames: ['endpoint', 'variant'],
      registers,
    });
    this.errorsTotal = new Counter({
      name: 'kennel_endpoint_invocation_errors_total',
      help: 'InvokeEndpoint requests answered with an error, by wire error code.',
      labelNames: ['endpoint', 'variant', 'code'],
      registers,
    });
    this.modelLatency = new Histogram({
      name: 'kennel_endpoint_model_latency_seconds',
      help: 'Time the instance took to answer (SageMaker ModelLatency).',
      labelNames: ['endpoint', 'variant'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.overheadLatency = new Histogram({
      name: 'kennel_endpoint_overhead_latency_seconds',
      help: 'Time Kennel added around the model (SageMaker OverheadLatency).',
      labelNames: ['endpoint', 'variant'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    const gauge = (name: string, help: string, value: (entry: VariantGauges) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['endpoint', 'variant'],
        registers,
        collect() {
          this.reset();
          for (const entry of gauges()) this.set({ endpoint: entry.endpointName, variant: entry.variantName }, value(entry));
        },
      });
    gauge('kennel_endpoint_instances', 'Instances running and serving, per variant.', (entry) => entry.instances);
    gauge('kennel_endpoint_queue_depth', 'Requests held by the variant’s instances, running or waiting.', (entry) => entry.queueDepth);
  }

  record(invocation: InvocationRecord): void {
    const labels = { endpoint: invocation.endpointName, variant: invocation.variantName };
    this.invocationsTotal.inc(labels);
    if (invocation.outcome !== 'OK') this.errorsTotal.inc({ ...labels, code: invocation.outcome });
    if (invocation.modelLatencyMs !== undefined) this.modelLatency.observe(labels, invocation.modelLatencyMs / 1000);
    if (invocation.overheadLatencyMs !== undefined) this.overheadLatency.observe(labels, invocation.overheadLatencyMs / 1000);
    const key = variantKey(invocation.endpointName, invocation.variantName);
    const buckets = this.buckets.get(key) ?? new Map<number, Bucket>();
    this.buckets.set(key, buckets);
    const index = Math.floor(invocation.atMs / INVOCATION_BUCKET_MS);
    const bucket = buckets.get(index) ?? { invocations: 0, modelMs: 0 };
    buckets.set(index, bucket);
    bucket.invocations++;
    bucket.modelMs += invocation.computeMs ?? 0;
    for (const old of buckets.keys()) {
      if (old > index - KEPT_BUCKETS) break;
      buckets.delete(old);
    }
  }

  /** Invocations of the variant that finished in [fromMs, toMs), counted in whole buckets. */
  invocations(endpointName: string, variantName: string, fromMs: number, toMs: number): number {
    return this.sum(endpointName, variantName, fromMs, toMs, (bucket) => bucket.invocations);
  }

  /**
   * Milliseconds the variant's instances spent running the model for requests that finished in
   * [fromMs, toMs) (a batch's run counted once, shared by its requests): over the period times the
   * instance count, their utilisation, which stands for CPUUtilization (an instance computes on its
   * own cores while the model runs, and idles otherwise).
   */
  modelBusyMs(endpointName: string, variantName: string, fromMs: number, toMs: number): number {
    return this.sum(endpointName, variantName, fromMs, toMs, (bucket) => bucket.modelMs);
  }

  private sum(endpointName: string, variantName: string, fromMs: number, toMs: number, value: (bucket: Bucket) => number): number {
    const buckets = this.buckets.get(variantKey(endpointName, variantName));
    if (!buckets) return 0;
    let total = 0;
    for (const [index, bucket] of buckets) {
      const atMs = index * INVOCATION_BUCKET_MS;
      if (atMs >= fromMs && atMs < toMs) total += value(bucket);
    }
    return total;
  }

  /** Forgets a deleted endpoint's scaling buckets; its Prometheus series stay, as counters do until a restart. */
  forget(endpointName: string): void {
    for (const key of [...this.buckets.keys()]) if (key.startsWith(`${endpointName}/`)) this.buckets.delete(key);
  }

  /** The Prometheus text exposition format. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

interface Bucket {
  invocations: number;
  modelMs: number;
}

function variantKey(endpointName: string, variantName: string): string {
  return `${endpointName}/${variantName}`;
}
