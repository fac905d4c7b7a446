/** A closed-loop load generator and the figures it reports. */

export interface Block {
  /** Latency of every request, in ms, in completion order. */
  latenciesMs: number[];
  seconds: number;
}

/**
 * `concurrency` workers, each sending its next request as soon as its previous one is answered,
 * until `count` requests are done or `maxSeconds` have passed (the requests in flight then finish).
 * `send(i)` handles request i; it throws to abort the run.
 */
export async function closedLoop(
  concurrency: number,
  count: number,
  maxSeconds: number,
  send: (index: number) => Promise<void>,
): Promise<Block> {
  const latenciesMs: number[] = [];
  let next = 0;
  const start = performance.now();
  const deadline = start + maxSeconds * 1000;
  const worker = async () => {
    while (next < count && performance.now() < deadline) {
      const index = next++;
      const t0 = performance.now();
      await send(index);
      latenciesMs.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latenciesMs, seconds: (performance.now() - start) / 1000 };
}

export interface Summary {
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

/** Blocks of one side taken together: requests over the time spent in them, latencies pooled. */
export function summarise(blocks: readonly Block[]): Summary {
  const latencies = blocks.flatMap((block) => block.latenciesMs);
  const seconds = blocks.reduce((sum, block) => sum + block.seconds, 0);
  return {
    requests: latencies.length,
    seconds,
    rps: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    meanMs: mean(latencies),
  };
}

/** Nearest-rank percentile. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/**
 * GET `url` one request at a time, every `everyMs`, until `until` settles; the latency of each,
 * in ms. What a health check sees while the server is busy with other requests.
 */
export async function probeWhile(url: string, everyMs: number, until: Promise<unknown>): Promise<number[]> {
  const latenciesMs: number[] = [];
  let done = false;
  void until.finally(() => (done = true)).catch(() => {});
  while (!done) {
    const t0 = performance.now();
    const response = await fetch(url);
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}`);
    latenciesMs.push(performance.now() - t0);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return latenciesMs;
}
