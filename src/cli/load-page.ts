import { BACK_PRESSURE_CODES } from '../domain/serving/load-outcomes.ts';
import type { TimelineRow } from '../domain/serving/load-timeline.ts';
import { escapeHtml, jsonForScript, pageHead, uPlotAssets } from './html-page.ts';
import type { LoadReport } from './load-runner.ts';
import { describeShape, summaryLines } from './load-render.ts';

export const LOAD_DATA_ELEMENT_ID = 'kennel-load-data';

/** uPlot's aligned columns: x = the end of each interval in seconds, then one value (or null) per row per series. */
export interface LoadPageData {
  seconds: number[];
  offeredRps: number[];
  achievedRps: number[];
  p50Ms: (number | null)[];
  p90Ms: (number | null)[];
  p99Ms: (number | null)[];
  /** Per second, like the throughput: refusals, failures and skips are rates on the same axis. */
  backPressureRps: number[];
  failureRps: number[];
  clientSkippedRps: number[];
  /** One series per variant. */
  instances: { variant: string; counts: (number | null)[] }[];
}

export function loadPageData(report: LoadReport): LoadPageData {
  const rows = report.rows;
  const perSecond = (row: TimelineRow, count: number) => count / Math.max(row.endSeconds - row.startSeconds, 0.001);
  const total = (counts: Record<string, number>) => Object.values(counts).reduce((sum, n) => sum + n, 0);
  const variants = [...new Set(rows.flatMap((row) => Object.keys(row.instances)))].sort();
  return {
    seconds: rows.map((row) => row.endSeconds),
    offeredRps: rows.map((row) => row.offeredRps),
    achievedRps: rows.map((row) => row.achievedRps),
    p50Ms: rows.map((row) => row.latency?.p50Ms ?? null),
    p90Ms: rows.map((row) => row.latency?.p90Ms ?? null),
    p99Ms: rows.map((row) => row.latency?.p99Ms ?? null),
    backPressureRps: rows.map((row) => perSecond(row, total(row.backPressure))),
    failureRps: rows.map((row) => perSecond(row, total(row.failures))),
    clientSkippedRps: rows.map((row) => perSecond(row, row.clientSkipped)),
    instances: variants.map((variant) => ({ variant, counts: rows.map((row) => row.instances[variant] ?? null) })),
  };
}

/** `kennel load --out DIR` writes this as timeline.html: one file, uPlot inlined, no network needed. */
export function loadTimelinePage(report: LoadReport): string {
  const { script, css } = uPlotAssets();
  const title = `Load on ${report.endpointName}`;
  return `${pageHead(title, [css, PAGE_CSS])}
<h1>${escapeHtml(title)}</h1>
<p class="shape">${escapeHtml(describeShape(report.shape))}, from ${escapeHtml(report.startedAt)}, ${escapeHtml(report.url)}${report.stoppedEarly ? ' <strong>(stopped early)</strong>' : ''}</p>
<pre class="summary">${escapeHtml(summaryLines(report).join('\n'))}</pre>
<h2>Throughput <small>(requests per second)</small></h2>
<div id="throughput-chart" class="chart"></div>
<h2>Latency of successful answers <small>(ms)</small></h2>
<div id="latency-chart" class="chart"></div>
<h2>Refusals and errors <small>(per second; back-pressure is ${escapeHtml(BACK_PRESSURE_CODES.join(' and '))})</small></h2>
<div id="errors-chart" class="chart"></div>
<h2>Instances <small>(DescribeEndpoint CurrentInstanceCount per variant)</small></h2>
${report.rows.some((row) => Object.keys(row.instances).length > 0) ? '<div id="instances-chart" class="chart"></div>' : '<p class="empty">No instance count was read.</p>'}
<script type="application/json" id="${LOAD_DATA_ELEMENT_ID}">${jsonForScript(loadPageData(report))}</script>
<script>${script}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

const PAGE_CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; } h2 small { font-weight: normal; color: #666; }
.shape { color: #444; } pre.summary { background: #f6f6f6; padding: 0.75em 1em; }
.empty { color: #666; }
.chart { margin: 1em 0; }
`;

/** Draws the four charts from the JSON element; x is seconds since the start. */
const PAGE_SCRIPT = `
(function () {
  var d = JSON.parse(document.getElementById(${JSON.stringify(LOAD_DATA_ELEMENT_ID)}).textContent);
  var COLORS = ['#1f77b4', '#2ca02c', '#9467bd', '#8c564b', '#17becf'];
  function width() { return Math.min(1100, document.body.clientWidth); }
  function chart(id, yLabel, series, columns, extra) {
    var element = document.getElementById(id);
    if (!element) return;
    var options = {
      width: width(),
      height: 260,
      scales: { x: { time: false } },
      axes: [{ label: 'seconds' }, { label: yLabel }],
      series: [{ label: 's' }].concat(series),
    };
    for (var key in extra || {}) options[key] = extra[key];
    new uPlot(options, [d.seconds].concat(columns), element);
  }
  var stepped = uPlot.paths.stepped({ align: -1 });
  chart('throughput-chart', 'requests/s', [
    { label: 'offered', stroke: '#888', dash: [6, 4], width: 2, paths: stepped },
    { label: 'achieved (OK)', stroke: '#1f77b4', width: 2, paths: stepped },
  ], [d.offeredRps, d.achievedRps]);
  chart('latency-chart', 'ms', [
    { label: 'p50', stroke: '#2ca02c', width: 2 },
    { label: 'p90', stroke: '#e6a700', width: 1 },
    { label: 'p99', stroke: '#d62728', width: 2 },
  ], [d.p50Ms, d.p90Ms, d.p99Ms]);
  chart('errors-chart', 'per second', [
    { label: 'back-pressure', stroke: '#ff7f0e', width: 2, paths: stepped },
    { label: 'failures', stroke: '#d62728', width: 2, paths: stepped },
    { label: 'client skipped', stroke: '#7f7f7f', width: 1, paths: stepped },
  ], [d.backPressureRps, d.failureRps, d.clientSkippedRps]);
  chart('instances-chart', 'instances', d.instances.map(function (v, i) {
    return { label: v.variant, stroke: COLORS[i % COLORS.length], width: 2, paths: stepped };
  }), d.instances.map(function (v) { return v.counts; }), { scales: { x: { time: false }, y: { range: function (u, min, max) { return [0, Math.max(1, max) + 1]; } } } });
})();
`;
