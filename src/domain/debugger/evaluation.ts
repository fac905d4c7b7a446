import { describeError } from '../../core/errors.ts';
import { builtInRule } from './built-in-rules.ts';
import { ruleParameters, type RuleConfiguration } from './configuration.ts';
import type { RuleStatus } from './rule.ts';
import type { TrainingTrace } from './trace.ts';

/** SageMaker's RuleEvaluationStatus. */
export type RuleEvaluationStatus = RuleStatus | 'Stopping' | 'Stopped';

/** Where one rule configuration stands: DescribeTrainingJob's DebugRuleEvaluationStatuses and ProfilerRuleEvaluationStatuses. */
export interface RuleEvaluation {
  configurationName: string;
  kind: RuleConfiguration['kind'];
  status: RuleEvaluationStatus;
  /** The step at which the rule found its issue. */
  step?: number;
  details: string;
  lastModifiedAtMs: number;
}

export interface RuleEvaluationOutcome {
  evaluations: RuleEvaluation[];
  /** Rules that found an issue just now and whose action stops training: the job-name prefixes to stop. */
  stopTraining: { configurationName: string; prefix: string; details: string }[];
}

/** The evaluations of a job that has just been created: every rule waits for its first steps. */
export function initialEvaluations(configurations: readonly RuleConfiguration[], nowMs: number): RuleEvaluation[] {
  return configurations.map((configuration) => ({
    configurationName: configuration.name,
    kind: configuration.kind,
    status: 'InProgress',
    details: 'Waiting for the job to record its first steps.',
    lastModifiedAtMs: nowMs,
  }));
}

/**
 * Evaluates every rule over the trace so far. A rule that has found an issue or could not be
 * evaluated is done, as SageMaker's rule job ends there, and keeps its finding; the others are
 * evaluated again, and once the job has `ended` each settles. An evaluation changes its
 * lastModifiedAtMs only when its status or details change.
 */
export function evaluateRules(
  configurations: readonly RuleConfiguration[],
  trace: TrainingTrace,
  previous: readonly RuleEvaluation[],
  context: { ended: boolean; nowMs: number },
): RuleEvaluationOutcome {
  const stopTraining: RuleEvaluationOutcome['stopTraining'] = [];
  const evaluations = configurations.map((configuration): RuleEvaluation => {
    const before = previous.find((evaluation) => evaluation.configurationName === configuration.name);
    if (before && (before.status === 'IssuesFound' || before.status === 'Error')) return before;
    let found: Omit<RuleEvaluation, 'configurationName' | 'kind' | 'lastModifiedAtMs'>;
    try {
      found = builtInRule(configuration.rule, configuration.kind).evaluate(trace, ruleParameters(configuration), { ended: context.ended });
    } catch (error) {
      found = { status: 'Error', details: `The rule could not be evaluated: ${describeError(error)}` };
    }
    if (found.status === 'IssuesFound' && configuration.stopTrainingPrefix !== undefined) {
      stopTraining.push({ configurationName: configuration.name, prefix: configuration.stopTrainingPrefix, details: found.details });
    }
    const unchanged = before && before.status === found.status && before.details === found.details && before.step === found.step;
    return unchanged ? before : { configurationName: configuration.name, kind: configuration.kind, ...found, lastModifiedAtMs: context.nowMs };
  });
  return { evaluations, stopTraining };
}

/** Rules are evaluated at most this often while a job runs, and once more when it ends... */
export const EVALUATION_INTERVAL_MS = 1000;
/** ...and, on a trace so long that evaluating it takes a while, with this many times as long in between: at most 5% of the server's thread. */
const EVALUATION_SPACING = 20;

export interface LastEvaluation {
  atMs: number;
  /** How long it took. */
  tookMs: number;
}

export function evaluationDue(last: LastEvaluation | undefined, nowMs: number): boolean {
  return last === undefined || nowMs - last.atMs >= Math.max(EVALUATION_INTERVAL_MS, EVALUATION_SPACING * last.tookMs);
}

/**
 * The job a StopTraining action stops, as SageMaker's action picks it: the one running job
 * whose name starts with the prefix. With none, or more than one, it stops nothing (the
 * prefix must name one job).
 */
export function stopTrainingTarget(prefix: string, runningJobNames: readonly string[]): string | undefined {
  const matches = runningJobNames.filter((name) => name.startsWith(prefix));
  return matches.length === 1 ? matches[0] : undefined;
}

/**
 * The evaluations of a job that has ended without its rules' last look (it failed before it
 * recorded anything, or was stopped before it ran): a rule still InProgress is Stopped, as
 * SageMaker's rule jobs stop with their training job.
 */
export function settleEvaluations(evaluations: readonly RuleEvaluation[], nowMs: number, details: string): RuleEvaluation[] {
  return evaluations.map((evaluation) => (evaluation.status === 'InProgress' ? { ...evaluation, status: 'Stopped', details, lastModifiedAtMs: nowMs } : evaluation));
}
