import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDebuggerConfiguration } from './configuration.ts';
import { evaluateRules, evaluationDue, initialEvaluations, settleEvaluations, stopTrainingTarget, EVALUATION_INTERVAL_MS, type RuleEvaluation } from './evaluation.ts';
import type { TraceStep, TrainingTrace } from './trace.ts';

const IMAGE = 'kennel/debugger-rules';
const spec = parseDebuggerConfiguration(
  {
    rules: [
      { name: 'explode', evaluatorImage: IMAGE, parameters: { rule_to_invoke: 'ExplodingTensor', action_json: '[{"name": "stoptraining"}]' } },
      { name: 'loss', evaluatorImage: IMAGE, parameters: { rule_to_invoke: 'LossNotDecreasing', num_steps: '2' } },
    ],
  },
  'job-a',
);

const step = (n: number, loss: number): TraceStep => ({ step: n, epoch: 1, loss, learningRate: 0.01, dataMs: 0, computeMs: 1, tensors: [], relus: [] });
const trace = (losses: number[]): TrainingTrace => ({ steps: losses.map((loss, i) => step(i, loss)), epochs: [], system: [] });

describe('evaluating a job’s rules as its trace grows (fake clock)', () => {
  it('goes InProgress → IssuesFound at the step the rule fired, asks once for its StopTraining action, and keeps the finding', () => {
    let evaluations: RuleEvaluation[] = initialEvaluations(spec.rules, 0);
    assert.deepEqual(evaluations.map((e) => e.status), ['InProgress', 'InProgress']);

    const healthy = evaluateRules(spec.rules, trace([2, 1.5, 1.2, 1]), evaluations, { ended: false, nowMs: 1000 });
    assert.deepEqual(healthy.evaluations.map((e) => e.status), ['InProgress', 'InProgress']);
    assert.deepEqual(healthy.stopTraining, []);
    evaluations = healthy.evaluations;

    const exploded = evaluateRules(spec.rules, trace([2, 1.5, 1.2, 1, Number.NaN]), evaluations, { ended: false, nowMs: 2000 });
    assert.equal(exploded.evaluations[0]!.status, 'IssuesFound');
    assert.equal(exploded.evaluations[0]!.step, 4);
    assert.equal(exploded.evaluations[0]!.lastModifiedAtMs, 2000);
    assert.deepEqual(exploded.stopTraining, [{ configurationName: 'explode', prefix: 'job-a', details: exploded.evaluations[0]!.details }]);
    evaluations = exploded.evaluations;

    // The rule is done: a later, healthier trace neither changes its finding nor asks again.
    const later = evaluateRules(spec.rules, trace([2, 1.5]), evaluations, { ended: true, nowMs: 3000 });
    assert.equal(later.evaluations[0], evaluations[0]);
    assert.deepEqual(later.stopTraining, []);
  });

  it('settles every rule that found nothing once the job has ended, and leaves an unchanged evaluation as it was', () => {
    const running = evaluateRules(spec.rules, trace([3, 2, 1, 0.5]), initialEvaluations(spec.rules, 0), { ended: false, nowMs: 10 });
    const again = evaluateRules(spec.rules, trace([3, 2, 1, 0.5]), running.evaluations, { ended: false, nowMs: 20 });
    assert.equal(again.evaluations[1], running.evaluations[1], 'nothing changed, so the record is the same object (no write)');
    const ended = evaluateRules(spec.rules, trace([3, 2, 1, 0.5]), again.evaluations, { ended: true, nowMs: 30 });
    assert.deepEqual(ended.evaluations.map((e) => [e.status, e.lastModifiedAtMs]), [['NoIssuesFound', 30], ['NoIssuesFound', 30]]);
  });

  it('evaluates at most once a second while the job runs, and less often when evaluating takes long: at most 5% of the time', () => {
    assert.equal(evaluationDue(undefined, 0), true);
    assert.equal(evaluationDue({ atMs: 1000, tookMs: 2 }, 1000 + EVALUATION_INTERVAL_MS - 1), false);
    assert.equal(evaluationDue({ atMs: 1000, tookMs: 2 }, 1000 + EVALUATION_INTERVAL_MS), true);
    assert.equal(evaluationDue({ atMs: 1000, tookMs: 300 }, 1000 + 5999), false, 'a 300 ms evaluation waits 6 s');
    assert.equal(evaluationDue({ atMs: 1000, tookMs: 300 }, 1000 + 6000), true);
  });

  it('StopTraining stops the one running job its prefix names, and nothing when it names none or several', () => {
    assert.equal(stopTrainingTarget('pets-1', ['pets-1', 'dogs']), 'pets-1');
    assert.equal(stopTrainingTarget('pets-1', ['pets-1', 'pets-10']), undefined, 'SageMaker’s action refuses an ambiguous prefix');
    assert.equal(stopTrainingTarget('cats', ['pets-1']), undefined);
  });

  it('a job that ended before its rules could look is settled: InProgress becomes Stopped, findings stay', () => {
    const [explode, loss] = initialEvaluations(spec.rules, 0);
    const found = { ...explode!, status: 'IssuesFound' as const, details: 'NaN' };
    const settled = settleEvaluations([found, loss!], 50, 'The job ended before the rule could evaluate it.');
    assert.deepEqual(settled.map((e) => [e.status, e.lastModifiedAtMs]), [['IssuesFound', 0], ['Stopped', 50]]);
  });
});
