import type { TrainingTrace } from '../domain/debugger/trace.ts';
import type { DebuggerReport } from './debugger-report.ts';
import { escapeHtml, jsonForScript, pageHead, uPlotAssets } from './html-page.ts';

/** uPlot's aligned columns for each chart: x first, then one column per series; null is a gap. */
export interface DebuggerPageData {
  loss: { steps: number[]; step: (number | null)[]; epochTrain: (number | null)[]; epochValidation: (number | null)[] };
  gradients: { steps: number[]; series: { label: string; values: (number | null)[] }[] };
  utilisation: { seconds: number[]; cpuPercent: number[]; rssMb: number[]; pauseMs: number[] };
  stepTime: { steps: number[]; dataMs: number[]; computeMs: number[] };
}

export const DATA_ELEMENT_ID = 'kennel-debugger-data';
export const CHART_IDS = ['loss-chart', 'gradients-chart', 'utilisation-chart', 'step-time-chart'] as const;

const finiteOrNull = (value: number | undefined) => (value !== undefined && Number.isFinite(value) ? value : null);

export function debuggerPageData(trace: TrainingTrace): DebuggerPageData {
  const steps = trace.steps.map((step) => step.step);
  const epochAt = new Map(trace.epochs.map((epoch) => [epoch.step, epoch]));
  const saved = trace.steps.filter((step) => step.tensors.length > 0);
  const names = [...new Set(saved.flatMap((step) => step.tensors.map((tensor) => tensor.name)))];
  const startMs = trace.system[0]?.atMs ?? 0;
  return {
    loss: {
      steps,
      step: trace.steps.map((step) => finiteOrNull(step.loss)),
      epochTrain: steps.map((step) => finiteOrNull(epochAt.get(step)?.trainLoss)),
      epochValidation: steps.map((step) => finiteOrNull(epochAt.get(step)?.validationLoss)),
    },
    gradients: {
      steps: saved.map((step) => step.step),
      series: names.map((name) => ({ label: name, values: saved.map((step) => finiteOrNull(step.tensors.find((tensor) => tensor.name === name)?.gradientNorm)) })),
    },
    utilisation: {
      seconds: trace.system.map((sample) => (sample.atMs - startMs) / 1000),
      cpuPercent: trace.system.map((sample) => sample.cpuPercent),
      rssMb: trace.system.map((sample) => sample.rssMb),
      pauseMs: trace.system.map((sample) => sample.pauseMs),
    },
    stepTime: { steps, dataMs: trace.steps.map((step) => step.dataMs), computeMs: trace.steps.map((step) => step.computeMs) },
  };
}

/** `kennel training-jobs report JOB`: one HTML file that needs no network, uPlot inlined. */
export function debuggerReportPage(report: DebuggerReport): string {
  const data = debuggerPageData(report.trace);
  const { script, css } = uPlotAssets();
  const chart = (id: string, title: string, has: boolean, empty: string) => `<h2>${title}</h2>\n${has ? `<div id="${id}" class="chart"></div>` : `<p class="empty">${empty}</p>`}`;
  const issues = report.findings.filter((f) => f.finding.status === 'IssuesFound');
  return `${pageHead(`Training job ${report.jobName}: debugger report`, [css, PAGE_CSS])}
<h1>Training job ${escapeHtml(report.jobName)}: <span class="status">${escapeHtml(report.status)}</span></h1>
<p class="lead">${report.trace.steps.length} steps over ${report.trace.epochs.length} epochs. ${issues.length === 0 ? 'No rule found an issue.' : `${issues.length} of ${report.findings.length} rules found issues; what each means and what to try is below.`}</p>
${renderFindings(report)}
${chart(CHART_IDS[0], 'Loss', data.loss.steps.length > 0, 'No steps recorded.')}
${chart(CHART_IDS[1], 'Gradient norm per layer', data.gradients.steps.length > 0, 'No tensors recorded.')}
${chart(CHART_IDS[2], 'Utilisation', data.utilisation.seconds.length > 0, 'No system samples recorded.')}
${chart(CHART_IDS[3], 'Step time: data loading and compute', data.stepTime.steps.length > 0, 'No steps recorded.')}
<script type="application/json" id="${DATA_ELEMENT_ID}">${jsonForScript(data)}</script>
<script>${script}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

function renderFindings(report: DebuggerReport): string {
  if (report.findings.length === 0) return '<h2>Rules</h2>\n<p class="empty">No rules were configured for this job.</p>';
  const order = { IssuesFound: 0, Error: 1, InProgress: 2, NoIssuesFound: 3 } as const;
  const rows = [...report.findings]
    .sort((a, b) => order[a.finding.status] - order[b.finding.status])
    .map(({ configurationName, rule, finding }) => {
      const explained = finding.status === 'IssuesFound' ? `<p><b>What it means:</b> ${escapeHtml(rule.meaning)}</p><p><b>What to try:</b> ${escapeHtml(rule.advice)}</p>` : '';
      return `<tr class="${finding.status}"><td>${escapeHtml(configurationName)}<br><small>${escapeHtml(rule.name)}, ${rule.kind === 'debug' ? 'debugger' : 'profiler'}</small></td><td>${finding.status}</td><td>${finding.step ?? '-'}</td><td>${escapeHtml(finding.details)}${explained}</td></tr>`;
    });
  return ['<h2>Rules</h2>', '<table class="findings">', '<thead><tr><th>Rule</th><th>Status</th><th>Step</th><th>Finding</th></tr></thead>', `<tbody>\n${rows.join('\n')}\n</tbody>`, '</table>'].join('\n');
}

const PAGE_CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; } .lead { font-size: 1.05em; }
table.findings { border-collapse: collapse; width: 100%; }
table.findings th, table.findings td { padding: 0.4em 0.75em; text-align: left; vertical-align: top; border-bottom: 1px solid #e4e4e4; }
table.findings td p { margin: 0.4em 0 0; }
tr.IssuesFound td:nth-child(2) { color: #b00020; font-weight: 600; }
tr.NoIssuesFound td:nth-child(2) { color: #2c7a2c; }
tr.Error td:nth-child(2) { color: #b36b00; }
.empty { color: #666; }
.chart { margin: 1em 0; }
`;

/** Draws the four charts from the JSON element with uPlot; the rest of the page is plain HTML. */
const PAGE_SCRIPT = `
(function () {
  var data = JSON.parse(document.getElementById(${JSON.stringify(DATA_ELEMENT_ID)}).textContent);
  var COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
  var dots = function (color) { return { stroke: color, paths: function () { return null; }, points: { show: true, size: 7, fill: color } }; };
  function width() { return Math.min(1100, document.body.clientWidth); }
  function draw(id, axes, series, columns) {
    var element = document.getElementById(id);
    if (!element) return;
    new uPlot({ width: width(), height: 280, scales: { x: { time: false } }, axes: axes, series: series }, columns, element);
  }
  var l = data.loss;
  draw('loss-chart', [{ label: 'step' }, { label: 'loss' }], [
    { label: 'step' },
    { label: 'step loss', stroke: 'rgba(31, 119, 180, 0.6)' },
    Object.assign({ label: 'epoch: training loss' }, dots('#1f77b4')),
    Object.assign({ label: 'epoch: validation loss' }, dots('#ff7f0e')),
  ], [l.steps, l.step, l.epochTrain, l.epochValidation]);
  var g = data.gradients;
  draw('gradients-chart', [{ label: 'step' }, { label: 'gradient L2 norm' }],
    [{ label: 'step' }].concat(g.series.map(function (s, i) { return { label: s.label, stroke: COLORS[i % COLORS.length], width: 2 }; })),
    [g.steps].concat(g.series.map(function (s) { return s.values; })));
  var u = data.utilisation;
  draw('utilisation-chart', [{ label: 'seconds' }, { label: 'CPU %', scale: '%' }, { label: 'MB / ms', side: 1, scale: 'mb', grid: { show: false } }], [
    { label: 'seconds' },
    { label: 'CPU %', stroke: '#2ca02c', width: 2, scale: '%' },
    { label: 'resident MB', stroke: '#9467bd', scale: 'mb' },
    { label: 'longest pause, ms', stroke: '#d62728', scale: 'mb' },
  ], [u.seconds, u.cpuPercent, u.rssMb, u.pauseMs]);
  var t = data.stepTime;
  draw('step-time-chart', [{ label: 'step' }, { label: 'ms' }], [
    { label: 'step' },
    { label: 'data loading, ms', stroke: '#ff7f0e', width: 2 },
    { label: 'compute, ms', stroke: '#1f77b4', width: 2 },
  ], [t.steps, t.dataMs, t.computeMs]);
})();
`;
