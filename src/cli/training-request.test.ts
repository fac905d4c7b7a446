import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { debuggerFromWire } from '../api/sagemaker/debugger-wire.ts';
import { parseDebuggerConfiguration } from '../domain/debugger/configuration.ts';
import { assertDomainError } from '../testing/assert-domain-error.ts';
import { debuggerRequestMembers, parseRuleFlags } from './training-request.ts';

describe('rules from the CLI flags and the spec, as CreateTrainingJob members', () => {
  it('reads --rule and --stop-on, splits debugger from profiler rules, and names a repeated rule apart', () => {
    const rules = parseRuleFlags(['LossNotDecreasing:num_steps=20', 'StepOutlier', 'LossNotDecreasing:diff_percent=5'], ['ExplodingTensor', 'StepOutlier']);
    const members = debuggerRequestMembers({ rules, saveInterval: 50, profilingIntervalMs: 200 }, 's3://b/out');
    assert.deepEqual(members.DebugHookConfig, { S3OutputPath: 's3://b/out', HookParameters: { save_interval: '50' } });
    assert.deepEqual(members.ProfilerConfig, { S3OutputPath: 's3://b/out', ProfilingIntervalInMilliseconds: 200 });
    assert.deepEqual(
      members.DebugRuleConfigurations!.map((c) => [c.RuleConfigurationName, c.RuleParameters]),
      [
        ['LossNotDecreasing', { rule_to_invoke: 'LossNotDecreasing', num_steps: '20' }],
        ['LossNotDecreasing-2', { rule_to_invoke: 'LossNotDecreasing', diff_percent: '5' }],
        ['ExplodingTensor', { rule_to_invoke: 'ExplodingTensor', action_json: '[{"name":"stoptraining"}]' }],
      ],
    );
    assert.deepEqual(members.ProfilerRuleConfigurations!.map((c) => [c.RuleConfigurationName, c.RuleParameters?.action_json]), [['StepOutlier', '[{"name":"stoptraining"}]']]);
    // What the CLI sends is what the server accepts.
    const spec = parseDebuggerConfiguration(debuggerFromWire(members)!, 'job');
    assert.deepEqual(spec.rules.map((r) => r.stopTrainingPrefix), [undefined, undefined, 'job']);
  });

  it('writes a spec’s boolean parameters as SageMaker writes them, and asks for nothing when no rule is given', () => {
    const members = debuggerRequestMembers({ rules: [{ rule: 'ExplodingTensor', parameters: { only_nan: true } }] });
    assert.equal(members.DebugRuleConfigurations![0]!.RuleParameters?.only_nan, 'True');
    assert.deepEqual(debuggerRequestMembers({ rules: [] }), {});
  });

  it('refuses a malformed --rule, naming it', () => {
    assertDomainError(() => parseRuleFlags([':x=1']), 'ValidationError', { message: /--rule expects a rule name/ });
    assertDomainError(() => parseRuleFlags(['Overfit:patience']), 'ValidationError', { message: /--rule Overfit: a parameter is name=value \(got "patience"\)/ });
  });
});
