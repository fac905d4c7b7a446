import type { BuiltInRule, RuleFinding } from '../domain/debugger/rule.ts';
import type { TrainingTrace } from '../domain/debugger/trace.ts';

/** A training job's debugger and profiler results: what the report page and the terminal summary show. */
export interface DebuggerReport {
  jobName: string;
  status: string;
  trace: TrainingTrace;
  findings: RuleReport[];
}

export interface RuleReport {
  /** RuleConfigurationName. */
  configurationName: string;
  rule: Pick<BuiltInRule, 'name' | 'kind' | 'meaning' | 'advice'>;
  finding: RuleFinding;
}

const BLOCKS = '▁▂▃▄▅▆▇█';

/** The values as one line of block characters, `width` wide at most (averaged into buckets); non-finite values are spaces. */
export function sparkline(values: readonly number[], width = 40): string {
  if (values.length === 0) return '';
  const buckets = Math.min(width, values.length);
  const means = Array.from({ length: buckets }, (_, b) => {
    const slice = values.slice(Math.floor((b * values.length) / buckets), Math.floor(((b + 1) * values.length) / buckets)).filter(Number.isFinite);
    return slice.length === 0 ? NaN : slice.reduce((sum, v) => sum + v, 0) / slice.length;
  });
  const finite = means.filter(Number.isFinite);
  const low = Math.min(...finite);
  const high = Math.max(...finite);
  return means.map((v) => (Number.isFinite(v) ? BLOCKS[high === low ? 0 : Math.round(((v - low) / (high - low)) * (BLOCKS.length - 1))] : ' ')).join('');
}

const STATUS_MARK: Record<RuleFinding['status'], string> = { IssuesFound: '✗', NoIssuesFound: '✓', InProgress: '…', Error: '!' };

/** The terminal's short version of the report: the loss as a sparkline, then one line per rule. */
export function debuggerSummary(report: DebuggerReport): string {
  const losses = report.trace.steps.map((step) => step.loss);
  const finite = losses.filter(Number.isFinite);
  const lines = [`${report.jobName}: ${report.status}, ${report.trace.steps.length} steps, ${report.trace.epochs.length} epochs`];
  if (finite.length > 0) lines.push(`loss ${sparkline(losses)} ${finite[0]!.toPrecision(3)} → ${finite.at(-1)!.toPrecision(3)}`);
  for (const { configurationName, finding } of report.findings) {
    const at = finding.step === undefined ? '' : ` at step ${finding.step}`;
    lines.push(`${STATUS_MARK[finding.status]} ${configurationName}: ${finding.status}${at}: ${finding.details}`);
  }
  const issues = report.findings.filter((f) => f.finding.status === 'IssuesFound').length;
  lines.push(issues === 0 ? 'No rule found an issue.' : `${issues} rule${issues === 1 ? '' : 's'} found issues: the report says what each means and what to try.`);
  return lines.join('\n');
}
