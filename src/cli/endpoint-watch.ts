import { parseExposition, variantWindows, type Sample, type VariantWindow } from '../domain/serving/metrics-window.ts';
import type { KennelClient } from './client.ts';
import { table } from './context.ts';
import { sparkline } from './sparkline.ts';

interface DescribedVariant {
  VariantName: string;
  CurrentInstanceCount?: number;
  DesiredInstanceCount?: number;
  CurrentWeight?: number;
  DesiredWeight?: number;
}

interface DescribedEndpoint {
  EndpointName: string;
  EndpointStatus: string;
  FailureReason?: string;
  ProductionVariants?: DescribedVariant[];
}

interface ScalingActivity {
  ActivityId: string;
  ResourceId: string;
  Description: string;
  Cause: string;
  StatusCode: string;
  StartTime: number;
}

/** Throughput history kept per variant for the sparkline: the last minute or so at the default interval. */
const HISTORY = 60;

/**
 * `kennel endpoints watch NAME`: every interval, DescribeEndpoint, a scrape of
 * /metrics and the endpoint's latest scaling activities, drawn as one screen
 * (redrawn in place on a terminal, appended otherwise). Runs until interrupted,
 * or for `rounds` intervals.
 */
export async function watchEndpoint(client: KennelClient, name: string, options: { intervalMs: number; rounds?: number; out: NodeJS.WriteStream }): Promise<void> {
  const history = new Map<string, number[]>();
  let before: { samples: Sample[]; atMs: number } | undefined;
  const seen = new Set<string>();
  const events: string[] = [];
  for (let round = 0; options.rounds === undefined || round <= options.rounds; round++) {
    const [endpoint, text, activities] = await Promise.all([
      client.sageMaker<DescribedEndpoint>('DescribeEndpoint', { EndpointName: name }),
      client.metrics(),
      scalingActivities(client, name),
    ]);
    const now = { samples: parseExposition(text), atMs: performance.now() };
    for (const activity of [...activities].reverse()) {
      const key = `${activity.ActivityId}/${activity.StatusCode}`;
      if (seen.has(key)) continue;
      seen.add(key);
      events.push(`${new Date(activity.StartTime * 1000).toLocaleTimeString()} ${activity.ResourceId.split('/').at(-1)}: ${activity.Description} ${activity.StatusCode} (${activity.Cause})`);
    }
    if (before) {
      const windows = variantWindows(before.samples, now.samples, (now.atMs - before.atMs) / 1000, name);
      for (const window of windows) {
        const series = [...(history.get(window.variantName) ?? []), window.invocationsPerSecond].slice(-HISTORY);
        history.set(window.variantName, series);
      }
      const screen = render(endpoint, windows, history, events.slice(-5));
      options.out.write(options.out.isTTY ? `\x1b[H\x1b[2J${screen}\n` : `${screen}\n\n`);
    }
    before = now;
    if (options.rounds !== undefined && round === options.rounds) break;
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
  }
}

/** The endpoint's scaling activities, newest first; none when no variant is a scalable target. */
async function scalingActivities(client: KennelClient, endpointName: string): Promise<ScalingActivity[]> {
  const answer = await client.applicationAutoScaling<{ ScalingActivities?: ScalingActivity[] }>('DescribeScalingActivities', {
    ServiceNamespace: 'sagemaker',
    MaxResults: 20,
  });
  return (answer.ScalingActivities ?? []).filter((activity) => activity.ResourceId.startsWith(`endpoint/${endpointName}/variant/`));
}

export function render(endpoint: DescribedEndpoint, windows: readonly VariantWindow[], history: ReadonlyMap<string, readonly number[]>, events: readonly string[]): string {
  const ms = (value: number | undefined) => (value === undefined ? '-' : value.toFixed(1));
  const described = new Map((endpoint.ProductionVariants ?? []).map((variant) => [variant.VariantName, variant]));
  const rows = windows.map((window) => {
    const variant = described.get(window.variantName);
    const errors = Object.entries(window.errorsByCode).map(([code, count]) => `${code}×${count}`).join(' ') || '0';
    return [
      window.variantName,
      `${variant?.CurrentInstanceCount ?? window.instances}/${variant?.DesiredInstanceCount ?? '-'}`,
      variant ? `${variant.CurrentWeight}/${variant.DesiredWeight}` : '-',
      window.invocationsPerSecond.toFixed(1),
      ms(window.p50Ms),
      ms(window.p99Ms),
      window.queueDepth,
      errors,
      sparkline(history.get(window.variantName) ?? []),
    ];
  });
  const lines = [
    `${endpoint.EndpointName}  ${endpoint.EndpointStatus}${endpoint.FailureReason ? `  (${endpoint.FailureReason})` : ''}`,
    '',
    table(['VARIANT', 'INSTANCES', 'WEIGHT', 'REQ/S', 'P50 MS', 'P99 MS', 'QUEUED', 'ERRORS', 'REQ/S HISTORY'], rows),
    '',
    'Scaling activities:',
    ...(events.length > 0 ? events.map((event) => `  ${event}`) : ['  (none)']),
  ];
  return lines.join('\n');
}


