import type { BuiltInRule, RuleFinding } from '../domain/debugger/rule.ts';
import type { TrainingTrace } from '../domain/debugger/trace.ts';
import { sparkline } from './sparkline.ts';

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

const STATUS_MARK: Record<RuleFinding['status'], string> = { IssuesFound: '✗', NoIssuesFound: '✓', InProgress: '…', Error: '!' };

/** The terminal's short version of the report: the loss as a sparkline, then one line per rule. */
export function debuggerSummary(report: DebuggerReport): string {
  const losses = report.trace.steps.map((step) => step.loss);
  const finite = losses.filter(Number.isFinite);
  const lines = [`${report.jobName}: ${report.status}, ${report.trace.steps.length} steps, ${report.trace.epochs.length} epochs`];
  if (finite.length > 0) lines.push(`loss ${sparkline(losses, { scale: 'min-to-max', width: 40 })} ${finite[0]!.toPrecision(3)} → ${finite.at(-1)!.toPrecision(3)}`);
  for (const { configurationName, finding } of report.findings) {
    const at = finding.step === undefined ? '' : ` at step ${finding.step}`;
    lines.push(`${STATUS_MARK[finding.status]} ${configurationName}: ${finding.status}${at}: ${finding.details}`);
  }
  const issues = report.findings.filter((f) => f.finding.status === 'IssuesFound').length;
  lines.push(issues === 0 ? 'No rule found an issue.' : `${issues} rule${issues === 1 ? '' : 's'} found issues: the report says what each means and what to try.`);
  return lines.join('\n');
}
