import { escapeHtml, jsonForScript, pageHead, uPlotAssets } from './html-page.ts';
import {
  bestCurves,
  bestSoFar,
  bestTrial,
  counterLabels,
  curvePoints,
  finalOf,
  formatValue,
  objectiveLabel,
  objectivePoints,
  rankTrials,
  statusLabel,
  trialsLabel,
  type TuningReport,
  type TuningTrial,
} from './tuning-report.ts';

/** What the page's script plots, with the report it came from. Non-finite numbers become null (a gap), as in JSON. */
export interface TuningPageData {
  report: TuningReport;
  objective: {
    metricName: string;
    /** uPlot's aligned columns: x = trial number, then one value (or null) per trial for each series. */
    trials: number[];
    finals: (number | null)[];
    bestSoFar: (number | null)[];
    best: (number | null)[];
  };
  curves: {
    epochs: number[];
    /** The faded trials first and the best ones last, so that the best are drawn on top. */
    series: { label: string; values: (number | null)[]; rank?: number }[];
  };
}

export const DATA_ELEMENT_ID = 'kennel-tuning-data';

/** The data the page plots: the same ranking and best-so-far line as the terminal's charts. */
export function tuningPageData(report: TuningReport): TuningPageData {
  const points = new Map(objectivePoints(report));
  const best = bestTrial(report);
  const bestLine = new Map(bestSoFar([...points], report.objective.type));
  let carried: number | null = null; // over the trials without a value
  const bestSoFarValues = report.trials.map((trial) => (carried = bestLine.get(trial.number) ?? carried));

  const top = bestCurves(report);
  const topNumbers = new Set(top.map(({ trial }) => trial.number));
  const epochs = Array.from({ length: Math.max(0, ...report.trials.map((trial) => trial.curve.length)) }, (_, index) => index + 1);
  const column = (trial: TuningTrial) => {
    const byEpoch = new Map(curvePoints(trial));
    return epochs.map((epoch) => byEpoch.get(epoch) ?? null);
  };
  const faded = report.trials.filter((trial) => !topNumbers.has(trial.number) && curvePoints(trial).length > 0);
  return {
    report: JSON.parse(JSON.stringify(report)) as TuningReport,
    objective: {
      metricName: report.objective.metricName,
      trials: report.trials.map((trial) => trial.number),
      finals: report.trials.map((trial) => points.get(trial.number) ?? null),
      bestSoFar: bestSoFarValues,
      best: report.trials.map((trial) => (trial === best ? finalOf(trial)! : null)),
    },
    curves: {
      epochs,
      series: [
        ...faded.map((trial) => ({ label: `trial ${trial.number}`, values: column(trial) })),
        ...[...top].reverse().map(({ rank, trial }) => ({ label: `#${rank} trial ${trial.number}: ${trial.trainingJobName}`, values: column(trial), rank })),
      ],
    },
  };
}

/** `kennel tuning-jobs describe NAME --plot FILE.html`: one HTML file that needs no network, uPlot inlined. */
export function tuningReportPage(report: TuningReport): string {
  const data = tuningPageData(report);
  const { script: uPlotScript, css: uPlotCss } = uPlotAssets();
  const title = `Tuning job ${report.name}`;
  return `${pageHead(title, [uPlotCss, PAGE_CSS])}
${renderHeader(report)}
${renderRanking(report)}
<h2>Objective over trials</h2>
${data.objective.finals.some((value) => value !== null) ? '<div id="objective-chart" class="chart"></div>' : `<p class="empty">No trial has reported ${escapeHtml(report.objective.metricName)} yet.</p>`}
<h2>Learning curves of the best trials</h2>
${data.curves.series.length > 0 ? '<div id="curves-chart" class="chart"></div>' : `<p class="empty">No trial has reported ${escapeHtml(report.objective.metricName)} per epoch yet.</p>`}
<script type="application/json" id="${DATA_ELEMENT_ID}">${jsonForScript(data)}</script>
<script>${uPlotScript}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

function renderHeader(report: TuningReport): string {
  const fields: [string, string][] = [
    ['Strategy', report.strategy],
    ['Objective', objectiveLabel(report)],
    ['Trials', trialsLabel(report)],
    ['Counters', counterLabels(report).join(', ')],
  ];
  if (report.failureReason) fields.push(['Failure', report.failureReason]);
  return [
    `<h1>Tuning job ${escapeHtml(report.name)}: <span class="status">${escapeHtml(report.status)}</span></h1>`,
    '<dl>',
    ...fields.map(([name, value]) => `<dt>${name}</dt><dd>${escapeHtml(value)}</dd>`),
    '</dl>',
  ].join('\n');
}

function renderRanking(report: TuningReport): string {
  const heading = `<h2>Ranking <small>(best first, ${escapeHtml(objectiveLabel(report))})</small></h2>`;
  if (report.trials.length === 0) return `${heading}\n<p class="empty">No trials yet.</p>`;
  const best = bestTrial(report);
  const names = [...new Set(report.trials.flatMap((trial) => Object.keys(trial.hyperParameters)))];
  const headers = ['', '#', 'Trial', 'Training job', 'Status', escapeHtml(report.objective.metricName), ...names.map(escapeHtml)];
  const rows = rankTrials(report).map((trial, index) => {
    const value = finalOf(trial);
    const cells = [
      trial === best ? '★' : '',
      value === undefined ? '-' : String(index + 1),
      String(trial.number),
      escapeHtml(trial.trainingJobName),
      escapeHtml(statusLabel(trial)),
      value === undefined ? '-' : escapeHtml(formatValue(value)),
      ...names.map((name) => escapeHtml(trial.hyperParameters[name] ?? '-')),
    ];
    const classes = [trial === best ? 'best' : '', trial.status === 'Failed' ? 'failed' : ''].filter(Boolean).join(' ');
    return `<tr${classes ? ` class="${classes}"` : ''}>${cells.map((cell) => `<td>${cell}</td>`).join('')}</tr>`;
  });
  const failures = report.trials
    .filter((trial) => trial.failureReason)
    .map((trial) => `<li>trial ${trial.number} (${escapeHtml(trial.trainingJobName)}): ${escapeHtml(trial.failureReason!)}</li>`);
  return [
    heading,
    '<table class="ranking">',
    `<thead><tr>${headers.map((header) => `<th>${header}</th>`).join('')}</tr></thead>`,
    `<tbody>\n${rows.join('\n')}\n</tbody>`,
    '</table>',
    ...(failures.length > 0 ? ['<ul class="failures">', ...failures, '</ul>'] : []),
  ].join('\n');
}

const PAGE_CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; } h2 small { font-weight: normal; color: #666; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; } dt { color: #666; } dd { margin: 0; }
table.ranking { border-collapse: collapse; font-variant-numeric: tabular-nums; }
table.ranking th, table.ranking td { padding: 0.25em 0.75em; text-align: left; border-bottom: 1px solid #e4e4e4; }
table.ranking tr.best { background: #eaf7ea; font-weight: 600; }
table.ranking tr.failed { color: #b00020; }
ul.failures { color: #b00020; }
.empty { color: #666; }
.chart { margin: 1em 0; }
/* The legend lists the best trials only: the faded others would bury them. */
.u-legend tr.faded { display: none; }
`;

/** Draws the two charts from the JSON element with uPlot; the rest of the page is plain HTML. */
const PAGE_SCRIPT = `
(function () {
  var data = JSON.parse(document.getElementById(${JSON.stringify(DATA_ELEMENT_ID)}).textContent);
  var BEST_COLORS = ['#2ca02c', '#17becf', '#c71585'];
  var wholeNumbers = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];
  var noLine = function () { return null; };
  function width() { return Math.min(1100, document.body.clientWidth); }

  var objectiveElement = document.getElementById('objective-chart');
  if (objectiveElement) {
    var o = data.objective;
    new uPlot({
      width: width(),
      height: 320,
      scales: { x: { time: false } },
      axes: [{ label: 'trial', incrs: wholeNumbers }, { label: o.metricName }],
      series: [
        { label: 'trial' },
        { label: o.metricName, stroke: '#1f77b4', paths: noLine, points: { show: true, size: 8, fill: '#1f77b4' } },
        { label: 'best so far', stroke: '#2ca02c', width: 2, paths: uPlot.paths.stepped({ align: 1 }), points: { show: false } },
        { label: 'best', stroke: '#e6a700', paths: noLine, points: { show: true, size: 14, fill: '#e6a700' } },
      ],
    }, [o.trials, o.finals, o.bestSoFar, o.best], objectiveElement);
  }

  var curvesElement = document.getElementById('curves-chart');
  if (curvesElement) {
    var c = data.curves;
    var series = [{ label: 'epoch' }].concat(c.series.map(function (s) {
      return s.rank
        ? { label: s.label, stroke: BEST_COLORS[s.rank - 1] || '#444', width: 2 }
        : { label: s.label, stroke: 'rgba(120, 120, 120, 0.3)', width: 1, class: 'faded' };
    }));
    new uPlot({
      width: width(),
      height: 320,
      scales: { x: { time: false } },
      axes: [{ label: 'epoch', incrs: wholeNumbers }, { label: data.objective.metricName }],
      series: series,
    }, [c.epochs].concat(c.series.map(function (s) { return s.values; })), curvesElement);
  }
})();
`;
