import type { TimelineRow } from '../domain/serving/load-timeline.ts';
import type { TrafficShape } from '../domain/serving/traffic-shape.ts';
import type { LoadReport } from './load-runner.ts';

/** The terminal's view of a load test: a line per interval as it runs, and the summary. */

const COLUMNS: [string, number][] = [
  ['TIME', 7],
  ['OFFERED', 8],
  ['ACHIEVED', 9],
  ['P50 MS', 8],
  ['P90 MS', 8],
  ['P99 MS', 8],
  ['REFUSED', 8],
  ['FAILED', 7],
  ['SKIPPED', 8],
];

export function timelineHeader(): string {
  return COLUMNS.map(([name, width]) => name.padStart(width)).join(' ') + '  INSTANCES';
}

export function timelineLine(row: TimelineRow): string {
  const total = (counts: Record<string, number>) => Object.values(counts).reduce((sum, n) => sum + n, 0);
  const ms = (value: number | undefined) => (value === undefined ? '-' : value.toFixed(1));
  const cells = [
    `${formatSeconds(row.endSeconds)}`,
    row.offeredRps.toFixed(1),
    row.achievedRps.toFixed(1),
    ms(row.latency?.p50Ms),
    ms(row.latency?.p90Ms),
    ms(row.latency?.p99Ms),
    String(total(row.backPressure)),
    String(total(row.failures)),
    String(row.clientSkipped),
  ];
  return cells.map((cell, index) => cell.padStart(COLUMNS[index][1])).join(' ') + '  ' + instancesLabel(row.instances);
}

export function describeShape(shape: TrafficShape): string {
  const duration = formatSeconds(shape.durationSeconds);
  switch (shape.kind) {
    case 'steady':
      return `steady ${shape.rps} rps for ${duration}`;
    case 'ramp':
      return `ramp ${shape.fromRps} → ${shape.toRps} rps over ${duration}`;
    case 'spike':
      return `${shape.rps} rps with a ×${shape.factor} spike at ${formatSeconds(shape.atSeconds)} for ${formatSeconds(shape.forSeconds)}, ${duration} in all`;
    case 'steps':
      return `${shape.steps.length} step${shape.steps.length === 1 ? '' : 's'} (${shape.steps.map((step) => `${step.rps} rps at ${formatSeconds(step.atSeconds)}`).join(', ')}) for ${duration}`;
  }
}

export function summaryLines(report: LoadReport): string[] {
  const s = report.summary;
  const byCode = (counts: Record<string, number>) => {
    const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
    return entries.length === 0 ? '' : ` (${entries.map(([code, n]) => `${code} ${n}`).join(', ')})`;
  };
  const latency = s.latency ? `p50 ${s.latency.p50Ms.toFixed(1)} ms, p90 ${s.latency.p90Ms.toFixed(1)} ms, p99 ${s.latency.p99Ms.toFixed(1)} ms` : 'no successful answer';
  const lines = [
    `Sent ${s.sent} of ${s.scheduled} requests due to ${report.endpointName} in ${report.elapsedSeconds.toFixed(1)} s${report.stoppedEarly ? ' (stopped early)' : ''}`,
    `  answered OK              ${s.answeredOk}`,
    `  back-pressure refusals   ${s.backPressure.total}${byCode(s.backPressure.byCode)}`,
    `  failures                 ${s.failures.total}${byCode(s.failures.byCode)}`,
    `  skipped (max in flight)  ${s.clientSkipped}${s.clientSkipped > 0 ? ` (more than ${report.maxInFlight} outstanding)` : ''}`,
    `  latency of OK answers    ${latency}`,
    `  max instances            ${Object.entries(s.maxInstances).map(([variant, count]) => `${variant} ${count}`).join(', ') || '-'}`,
  ];
  if (report.instancePollErrors > 0) lines.push(`  (${report.instancePollErrors} DescribeEndpoint polls failed: the instance counts have gaps)`);
  return lines;
}

/** `1` for a single variant, `A=1 B=2` for several. */
function instancesLabel(instances: Record<string, number>): string {
  const entries = Object.entries(instances);
  if (entries.length === 0) return '-';
  if (entries.length === 1) return String(entries[0][1]);
  return entries.map(([variant, count]) => `${variant}=${count}`).join(' ');
}

/** `90s`, `1.5s`, `2m`, `1m30s`. */
export function formatSeconds(seconds: number): string {
  const rounded = Math.round(seconds * 1000) / 1000;
  if (rounded < 60 || !Number.isInteger(rounded)) return `${rounded}s`;
  const minutes = Math.floor(rounded / 60);
  const rest = rounded % 60;
  return rest === 0 ? `${minutes}m` : `${minutes}m${rest}s`;
}
