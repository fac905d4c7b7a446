import type { FunctionMetricsSnapshot } from '../control/function-metrics.ts';
import type { KennelClient } from './client.ts';
import { sparkline } from './sparkline.ts';

type FunctionSnapshot = FunctionMetricsSnapshot;

const HISTORY = 60;

const ms = (value: number | undefined) => (value === undefined ? '-' : `${value.toFixed(1)} ms`);

/** One screen of `kennel functions watch`: the last window's figures and a sparkline of invocations per interval. */
export function renderFunctionWatch(snapshot: FunctionSnapshot, history: readonly number[]): string {
  const seconds = snapshot.windowMs / 1000;
  return [
    `${snapshot.functionName}  (last ${seconds} s)`,
    `  invocations ${snapshot.invocations}   errors ${snapshot.errors}   throttles ${snapshot.throttles}   concurrent now ${snapshot.concurrentExecutions}`,
    `  duration p50 ${ms(snapshot.durationP50Ms)}   p90 ${ms(snapshot.durationP90Ms)}   p99 ${ms(snapshot.durationP99Ms)}`,
    `  cold starts ${snapshot.coldStarts}   provisioned spillover ${snapshot.provisionedConcurrencySpilloverInvocations}`,
    `  ${sparkline(history)}`,
  ].join('\n');
}

/**
 * `kennel functions watch NAME`: every interval, the function's figures over
 * the last interval (Kennel's /kennel/functions/NAME/metrics), redrawn in place
 * on a terminal, appended otherwise. Runs until interrupted, or for `rounds`.
 */
export async function watchFunction(client: KennelClient, name: string, options: { intervalMs: number; rounds?: number; out: NodeJS.WriteStream }): Promise<void> {
  const history: number[] = [];
  const windowSeconds = Math.max(1, Math.round(options.intervalMs / 1000));
  let lines = 0;
  for (let round = 0; options.rounds === undefined || round < options.rounds; round++) {
    const snapshot = await client.kennel<FunctionSnapshot>('GET', `/functions/${encodeURIComponent(name)}/metrics?windowSeconds=${windowSeconds}`);
    history.push(snapshot.invocations + snapshot.throttles);
    if (history.length > HISTORY) history.shift();
    const screen = renderFunctionWatch(snapshot, history);
    if (options.out.isTTY && lines > 0) options.out.write(`\x1b[${lines}A\x1b[J`);
    options.out.write(`${screen}\n`);
    lines = screen.split('\n').length;
    if (options.rounds === undefined || round + 1 < options.rounds) await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
  }
}
