import { plot, type Color, type Point } from 'simple-ascii-chart';
import { ascending, lossOf } from '../domain/tuning/objective.ts';

/** What `kennel tuning-jobs describe` shows of a tuning job: its description, counters and every trial. */
export interface TuningReport {
  name: string;
  status: string; // InProgress | Completed | Failed | Stopping | Stopped
  strategy: string; // Bayesian | Random | Grid | Hyperband
  objective: { type: 'Minimize' | 'Maximize'; metricName: string };
  maxNumberOfTrainingJobs: number;
  maxParallelTrainingJobs: number;
  failureReason?: string;
  counters: { Completed: number; InProgress: number; RetryableError: number; NonRetryableError: number; Stopped: number };
  /** In trial order (number 0, 1, ...). */
  trials: {
    number: number;
    trainingJobName: string;
    status: string; // the trial training job's status
    hyperParameters: Record<string, string>; // the tuned values only
    final?: number; // the final objective, when the trial reported one
    curve: number[]; // the objective after each epoch (index 0 = epoch 1); may be empty
    earlyStopped?: boolean;
    failureReason?: string;
  }[];
}

export type TuningTrial = TuningReport['trials'][number];

/** How many trials the learning-curves chart shows. */
export const BEST_CURVES = 3;

/** A trial's final objective if it is a number a chart can place (NaN and infinities count as no value). */
export function finalOf(trial: TuningTrial): number | undefined {
  return trial.final !== undefined && Number.isFinite(trial.final) ? trial.final : undefined;
}

/** The trials best first by objective, then those without a final value in trial order. */
export function rankTrials(report: TuningReport): TuningTrial[] {
  const valued = report.trials.filter((trial) => finalOf(trial) !== undefined);
  const unvalued = report.trials.filter((trial) => finalOf(trial) === undefined);
  const loss = (trial: TuningTrial) => lossOf(finalOf(trial)!, report.objective.type);
  return [...valued.sort((a, b) => ascending(loss(a), loss(b)) || a.number - b.number), ...unvalued];
}

/** The best trial, if any trial reported a value. */
export function bestTrial(report: TuningReport): TuningTrial | undefined {
  const [first] = rankTrials(report);
  return first && finalOf(first) !== undefined ? first : undefined;
}

/** [trial number, final objective] of each trial with a value, in trial order. */
export function objectivePoints(report: TuningReport): Point[] {
  return report.trials.flatMap((trial) => {
    const value = finalOf(trial);
    return value === undefined ? [] : [[trial.number, value] as Point];
  });
}

/** The best objective seen up to each point of `objectivePoints`. */
export function bestSoFar(points: Point[], type: TuningReport['objective']['type']): Point[] {
  let best: number | undefined;
  return points.map(([x, y]) => {
    if (best === undefined || lossOf(y, type) < lossOf(best, type)) best = y;
    return [x, best];
  });
}

/** [epoch, objective] of the epochs whose value is finite. */
export function curvePoints(trial: TuningTrial): Point[] {
  return trial.curve.flatMap((value, index) => (Number.isFinite(value) ? [[index + 1, value] as Point] : []));
}

/** The best-ranked trials that reported at least one epoch, with their rank (1 = best). */
export function bestCurves(report: TuningReport, count = BEST_CURVES): { rank: number; trial: TuningTrial; points: Point[] }[] {
  return rankTrials(report)
    .map((trial, index) => ({ rank: index + 1, trial, points: curvePoints(trial) }))
    .filter(({ trial, points }) => finalOf(trial) !== undefined && points.length > 0)
    .slice(0, count);
}

/** An objective value in at most `digits` significant digits, exponent form when very large or small. */
export function formatValue(value: number, digits = 5): string {
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude >= 1e6 || magnitude < 1e-3)) return value.toExponential(digits - 3);
  return String(Number(value.toPrecision(digits)));
}

export function statusLabel(trial: TuningTrial): string {
  return trial.earlyStopped ? `${trial.status} (early)` : trial.status;
}

/** "minimize validation:loss" */
export function objectiveLabel(report: TuningReport): string {
  return `${report.objective.type.toLowerCase()} ${report.objective.metricName}`;
}

/** Trials that ended (in any way) of the budget. */
export function trialsLabel(report: TuningReport): string {
  const { Completed, Stopped, RetryableError, NonRetryableError } = report.counters;
  return `${Completed + Stopped + RetryableError + NonRetryableError} / ${report.maxNumberOfTrainingJobs} done, up to ${report.maxParallelTrainingJobs} in parallel`;
}

export function counterLabels(report: TuningReport): string[] {
  const { counters } = report;
  const errors = (count: number, kind: string) => `${count} ${kind} ${count === 1 ? 'error' : 'errors'}`;
  return [
    `${counters.Completed} completed`,
    `${counters.InProgress} in progress`,
    `${counters.Stopped} stopped`,
    errors(counters.NonRetryableError, 'non-retryable'),
    errors(counters.RetryableError, 'retryable'),
  ];
}

export interface RenderOptions {
  /** Columns of the terminal (40 at least): no line of the result is longer. */
  width: number;
  color: boolean;
}

/** The text of `kennel tuning-jobs describe NAME`: header, ranking table, and two charts. */
export function renderTuningReport(report: TuningReport, options: RenderOptions): string {
  const width = Math.max(options.width, 40);
  const style = new Style(options.color);
  const sections = [
    renderHeader(report, width, style),
    renderRanking(report, width, style),
    renderObjectiveChart(report, width, style),
    renderCurvesChart(report, width, style),
  ];
  return sections.join('\n\n');
}

function renderHeader(report: TuningReport, width: number, style: Style): string {
  const label = (name: string) => `  ${name.padEnd(10)} `;
  const field = (name: string, value: string) => wrap(value, width, label(name), INDENT);
  return [
    heading(`Tuning job ${report.name}: ${report.status}`, width, style),
    ...field('strategy', report.strategy),
    ...field('objective', objectiveLabel(report)),
    ...field('trials', trialsLabel(report)),
    ...joinFitting(counterLabels(report), ', ', width, label('counters'), INDENT),
    ...(report.failureReason ? field('failure', report.failureReason) : []),
  ].join('\n');
}

const INDENT = ' '.repeat(13);

function renderRanking(report: TuningReport, width: number, style: Style): string {
  const title = heading(`Ranking (best first, ${objectiveLabel(report)})`, width, style);
  if (report.trials.length === 0) return `${title}\n  (no trials yet)`;
  const best = bestTrial(report);
  const ranked = rankTrials(report);
  const names = [...new Set(report.trials.flatMap((trial) => Object.keys(trial.hyperParameters)))];
  const columns: Column[] = [
    { header: '', cells: ranked.map((trial) => (trial === best ? '★' : '')) },
    { header: '#', cells: ranked.map((trial, index) => (finalOf(trial) === undefined ? '-' : String(index + 1))) },
    { header: 'TRIAL', cells: ranked.map((trial) => String(trial.number)) },
    // Trial job names share the tuning job's name as a prefix: cut, they keep their distinct end.
    { header: 'TRAINING JOB', cells: ranked.map((trial) => trial.trainingJobName), minWidth: 14, cutStart: true },
    { header: 'STATUS', cells: ranked.map(statusLabel) },
    { header: 'OBJECTIVE', cells: ranked.map((trial) => (finalOf(trial) === undefined ? '-' : formatValue(finalOf(trial)!))) },
    ...names.map((name) => ({ header: name, cells: ranked.map((trial) => trial.hyperParameters[name] ?? '-'), maxWidth: 16, optional: true })),
  ];
  const { lines, dropped } = layoutTable(columns, width - 2);
  const rows = lines.map((line, index) => {
    const trial = ranked[index - 1];
    const text = `  ${line}`;
    if (index === 0) return style.dim(text);
    if (trial === best) return style.green(text);
    return trial.status === 'Failed' ? style.red(text) : text;
  });
  const notes = dropped.length > 0 ? wrap(`(not shown for lack of width: ${dropped.join(', ')})`, width, '  ', '   ') : [];
  for (const trial of report.trials.filter((t) => t.failureReason)) {
    notes.push(...wrap(`trial ${trial.number} (${trial.trainingJobName}): ${trial.failureReason}`, width, '  ', '    '));
  }
  return [title, ...rows, ...notes].join('\n');
}

function renderObjectiveChart(report: TuningReport, width: number, style: Style): string {
  const title = heading('Objective over trials', width, style);
  const points = objectivePoints(report);
  if (points.length === 0) return `${title}\n${wrap(`(no trial has reported ${report.objective.metricName} yet)`, width, '  ', '   ').join('\n')}`;
  const best = bestTrial(report)!;
  const line = bestSoFar(points, report.objective.type);
  const values = points.map(([, y]) => y);
  const chart = fitChart(width, (plotWidth) =>
    plot(line, {
      width: plotWidth,
      height: 10,
      yRange: [Math.min(...values), Math.max(...values)],
      customXAxisTicks: xTicks(points.map(([x]) => x), plotWidth),
      customYAxisTicks: yTicks(values),
      color: OBJECTIVE_STYLE.line.color,
      // Each trial is a point over the best-so-far line; the best one gets its own colour, turned into ★ by `restyle`.
      points: points.map(([x, y]) => ({ x, y, color: x === best.number ? OBJECTIVE_STYLE.best.color : OBJECTIVE_STYLE.trial.color })),
      formatter: axisLabel,
      xLabel: 'trial',
    }),
    [OBJECTIVE_STYLE.line, OBJECTIVE_STYLE.trial, OBJECTIVE_STYLE.best],
    style,
  );
  const legend = joinFitting(
    [`● a trial's ${report.objective.metricName}`, '━ best so far', `★ best: trial ${best.number}, ${formatValue(finalOf(best)!)}`],
    '   ',
    width,
    '  ',
    '  ',
  );
  return [title, chart, ...legend].join('\n');
}

function renderCurvesChart(report: TuningReport, width: number, style: Style): string {
  const curves = bestCurves(report);
  const title = heading(`Learning curves of the best trials (${report.objective.metricName} per epoch)`, width, style);
  if (curves.length === 0) return `${title}\n${wrap(`(no trial has reported ${report.objective.metricName} per epoch yet)`, width, '  ', '   ').join('\n')}`;
  const styles = CURVE_STYLES.slice(0, curves.length);
  // Drawn worst first, so that where curves cross the best one stays on top.
  const drawn = curves.map((curve, index) => ({ points: curve.points, style: styles[index] })).reverse();
  const chart = fitChart(
    width,
    (plotWidth) =>
      plot(
        drawn.map((curve) => curve.points),
        {
          width: plotWidth,
          height: 12,
          color: drawn.map((curve) => curve.style.color),
          customXAxisTicks: xTicks(curves.flatMap((curve) => curve.points.map(([x]) => x)), plotWidth),
          customYAxisTicks: yTicks(curves.flatMap((curve) => curve.points.map(([, y]) => y))),
          formatter: axisLabel,
          xLabel: 'epoch',
        },
      ),
    styles,
    style,
  );
  const legend = curves.map(({ rank, trial }, index) => {
    const label = `${styles[index].sample} #${rank} trial ${trial.number}: ${formatValue(finalOf(trial)!)}  `;
    return `  ${style.paint(styles[index], label)}${truncate(trial.trainingJobName, width - 2 - label.length)}`;
  });
  return [title, chart, ...legend].join('\n');
}

function heading(text: string, width: number, style: Style): string {
  return wrap(text, width, '', '  ').map(style.bold).join('\n');
}

/** How a series looks: the colour simple-ascii-chart draws it in, and the glyphs `restyle` turns its cells into. */
interface SeriesStyle {
  color: Color;
  /** The SGR code of `color`, as the library writes it. */
  code: string;
  glyphs: Record<string, string>;
  sample: string;
}

const HEAVY = { '━': '━', '┃': '┃', '┏': '┏', '┓': '┓', '┗': '┗', '┛': '┛' };
const CURVE_STYLES: SeriesStyle[] = [
  { color: 'ansiGreen', code: '32', glyphs: HEAVY, sample: '━' },
  { color: 'ansiCyan', code: '36', glyphs: { '━': '═', '┃': '║', '┏': '╔', '┓': '╗', '┗': '╚', '┛': '╝' }, sample: '═' },
  { color: 'ansiMagenta', code: '35', glyphs: { '━': '╌', '┃': '╎', '┏': '┌', '┓': '┐', '┗': '└', '┛': '┘' }, sample: '╌' },
];
const OBJECTIVE_STYLE: Record<'line' | 'trial' | 'best', SeriesStyle> = {
  line: { color: 'ansiGreen', code: '32', glyphs: HEAVY, sample: '━' },
  trial: { color: 'ansiCyan', code: '36', glyphs: { '●': '●' }, sample: '●' },
  best: { color: 'ansiYellow', code: '33', glyphs: { '●': '★' }, sample: '★' },
};

/**
 * simple-ascii-chart draws every series with the same glyphs, so without colour the curves could not be told
 * apart. It does colour each cell on its own (`ESC[<code>m<glyph>ESC[0m`), so each cell is swapped for its
 * series' glyph here, and keeps its colour only when colour is on.
 */
function restyle(chart: string, styles: SeriesStyle[], style: Style): string {
  return chart.replace(/\x1b\[(\d+)m([^\x1b])\x1b\[0m/g, (cell, code: string, glyph: string) => {
    const series = styles.find((s) => s.code === code);
    if (!series) return cell;
    return style.paint(series, series.glyphs[glyph] ?? glyph);
  });
}

/** Renders a chart as wide as fits: the y labels' width depends on the values, so it is measured and the plot narrowed. */
function fitChart(width: number, render: (plotWidth: number) => string, styles: SeriesStyle[], style: Style): string {
  let plotWidth = width - 12;
  let lines: string[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    lines = restyle(render(plotWidth), styles, style)
      .split('\n')
      .map((line) => line.trimEnd())
      .filter((line) => line !== '');
    const over = Math.max(...lines.map((line) => stripAnsi(line).length)) - width;
    if (over <= 0) break;
    plotWidth -= over;
  }
  return lines.join('\n');
}

/** Whole-number ticks (trials, epochs) every 1, 2, 5, 10, 20, ... so that their labels keep about 8 columns apart. */
function xTicks(xs: number[], plotWidth: number): number[] {
  const low = Math.min(...xs);
  const high = Math.max(...xs);
  const most = Math.max(2, Math.floor(plotWidth / 8));
  let step = 1;
  for (let index = 1; (high - low) / step >= most; index++) step = [1, 2, 5][index % 3] * 10 ** Math.floor(index / 3);
  const ticks: number[] = [];
  for (let tick = Math.ceil(low / step) * step; tick <= high; tick += step) ticks.push(tick);
  return ticks;
}

/** Five labels from the lowest value to the highest (one when they are all equal). */
function yTicks(values: number[]): number[] {
  const low = Math.min(...values);
  const high = Math.max(...values);
  return low === high ? [low] : [0, 1, 2, 3, 4].map((step) => low + ((high - low) * step) / 4);
}

function axisLabel(value: number, helpers: { axis: 'x' | 'y' }): string {
  return helpers.axis === 'x' ? String(Math.round(value)) : formatValue(value, 4);
}

interface Column {
  header: string;
  cells: string[];
  minWidth?: number;
  maxWidth?: number;
  /** May be left out when the table does not fit. */
  optional?: boolean;
  /** Cut long cells at their start rather than their end. */
  cutStart?: boolean;
}

/**
 * An aligned table no wider than `width`: columns with a `minWidth` shrink to it, then optional columns are
 * left out from the right, and what room is left goes back to the shrunk columns.
 */
function layoutTable(columns: Column[], width: number): { lines: string[]; dropped: string[] } {
  const natural = (column: Column) => Math.min(Math.max(column.header.length, ...column.cells.map((cell) => cell.length)), column.maxWidth ?? Infinity);
  const widthOf = (column: Column) => Math.min(natural(column), column.minWidth ?? Infinity);
  const total = (shown: Column[]) => shown.reduce((sum, column) => sum + widthOf(column), 0) + 2 * (shown.length - 1);
  const shown = [...columns];
  const dropped: string[] = [];
  while (total(shown) > width && shown.at(-1)?.optional) dropped.unshift(shown.pop()!.header);
  const widths = shown.map(widthOf);
  let room = width - total(shown);
  shown.forEach((column, index) => {
    const grow = Math.max(0, Math.min(room, natural(column) - widths[index]));
    widths[index] += grow;
    room -= grow;
  });
  const rows = [shown.map((column) => column.header), ...columns[0].cells.map((_, row) => shown.map((column) => column.cells[row]))];
  const lines = rows.map((row) =>
    row
      .map((cell, index) => truncate(cell, widths[index], shown[index].cutStart).padEnd(widths[index]))
      .join('  ')
      .trimEnd(),
  );
  return { lines: lines.map((line) => truncate(line, width)), dropped };
}

function truncate(text: string, width: number, atStart = false): string {
  if (text.length <= width) return text;
  if (width <= 0) return '';
  return atStart ? `…${text.slice(text.length - width + 1)}` : `${text.slice(0, width - 1)}…`;
}

/** `items` joined by `separator`, in lines of at most `width` columns: a line breaks between items, never inside one. */
function joinFitting(items: string[], separator: string, width: number, first: string, rest: string): string[] {
  const mark = separator.trimEnd(); // stays at the end of a line when the next item goes to the next line
  const gap = separator.slice(mark.length);
  const lines: string[] = [];
  let line = first;
  let empty = true;
  items.forEach((item, index) => {
    const piece = index < items.length - 1 ? item + mark : item;
    if (!empty && line.length + gap.length + piece.length > width) {
      lines.push(line);
      line = rest;
      empty = true;
    }
    line += (empty ? '' : gap) + piece;
    empty = false;
  });
  lines.push(line);
  return lines.map((text) => truncate(text, width));
}

/** Words of `text` in lines of at most `width` columns, the first after `first`, the others after `rest`. */
function wrap(text: string, width: number, first: string, rest: string): string[] {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (let word of text.split(/\s+/).filter(Boolean)) {
    if (!empty && line.length + 1 + word.length > width) {
      lines.push(line);
      line = rest;
      empty = true;
    }
    // A word longer than a line is cut across lines.
    while (line.length + word.length > width) {
      const room = width - line.length;
      lines.push(line + word.slice(0, room));
      word = word.slice(room);
      line = rest;
    }
    line += (empty ? '' : ' ') + word;
    empty = false;
  }
  lines.push(line);
  return lines;
}

function stripAnsi(text: string): string {
  return text.replace(/\x1b\[[0-9;]*m/g, '');
}

/** ANSI styling that does nothing when colour is off. */
class Style {
  constructor(private readonly enabled: boolean) {}
  private sgr(code: string, text: string): string {
    return this.enabled ? `\x1b[${code}m${text}\x1b[0m` : text;
  }
  bold = (text: string) => this.sgr('1', text);
  dim = (text: string) => this.sgr('2', text);
  green = (text: string) => this.sgr('32', text);
  red = (text: string) => this.sgr('31', text);
  paint = (series: SeriesStyle, text: string) => this.sgr(series.code, text);
}
