import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertDomainError } from '../../testing/assert-domain-error.ts';
import { parseDebuggerConfiguration, recordingSettings, type DebuggerInput, type RuleConfigurationInput } from './configuration.ts';

const IMAGE = '503895931360.dkr.ecr.us-east-1.amazonaws.com/sagemaker-debugger-rules:latest';

const rule = (name: string, parameters: Record<string, string>, evaluatorImage = IMAGE): RuleConfigurationInput => ({ name, evaluatorImage, parameters });

describe('debugger configuration, as CreateTrainingJob sends it', () => {
  it('reads the SageMaker SDK’s rule configurations: the rule from rule_to_invoke, StopTraining from action_json', () => {
    const spec = parseDebuggerConfiguration(
      {
        rules: [
          rule('VanishingGradient', { rule_to_invoke: 'VanishingGradient', threshold: '0.0001' }),
          rule('loss', { rule_to_invoke: 'LossNotDecreasing', action_json: '[{"name": "stoptraining", "training_job_prefix": "dogs-"}, {"name": "email", "endpoint": "a@b.c"}]' }),
          rule('overfit', { rule_to_invoke: 'Overfit', action_json: '[{"name": "StopTraining"}]' }),
        ],
        profilerRules: [rule('LowCPUUtilization', { rule_to_invoke: 'LowCPUUtilization' }, 'kennel/debugger-rules')],
      },
      'dogs-1',
    );
    assert.deepEqual(spec.rules.map((r) => [r.name, r.kind, r.rule, r.stopTrainingPrefix]), [
      ['VanishingGradient', 'debug', 'VanishingGradient', undefined],
      ['loss', 'debug', 'LossNotDecreasing', 'dogs-'],
      ['overfit', 'debug', 'Overfit', 'dogs-1'],
    ]);
    assert.deepEqual(spec.profilerRules.map((r) => [r.name, r.kind, r.rule]), [['LowCPUUtilization', 'profiler', 'LowCPUUtilization']]);

    // What smdebug_rulesconfig's ActionList.serialize() writes, escaped quotes and all, and a lone Action's.
    const sdk = parseDebuggerConfiguration(
      {
        rules: [
          rule('listed', { rule_to_invoke: 'Overfit', action_json: '[{\\"name\\": \\"stoptraining\\", \\"training_job_prefix\\": \\"dogs-1\\"}, {\\"name\\": \\"email\\", \\"endpoint\\": \\"a@b.c\\"}]' }),
          rule('alone', { rule_to_invoke: 'Overfit', action_json: '{\\"name\\": \\"stoptraining\\"}' }),
        ],
      },
      'dogs-2',
    );
    assert.deepEqual(sdk.rules.map((r) => r.stopTrainingPrefix), ['dogs-1', 'dogs-2']);
    assert.equal(spec.rules[0]!.parameters.threshold, '0.0001', 'RuleParameters are kept as sent');
  });

  it('accepts the parameters SageMaker’s own rule configurations send, that name what its hook records', () => {
    const spec = parseDebuggerConfiguration(
      {
        rules: [
          rule('loss', { rule_to_invoke: 'LossNotDecreasing', mode: 'TRAIN', tensor_regex: '.*', use_losses_collection: 'True', num_steps: '20' }),
          rule('classes', { rule_to_invoke: 'ClassImbalance', samples: '500', argmax: 'True', labels_regex: '.*labels', predictions_regex: '.*predictions' }),
          rule('init', { rule_to_invoke: 'PoorWeightInitialization', activation_inputs_regex: '.*relu_input', base_trial: 'main' }),
        ],
      },
      'job',
    );
    assert.equal(spec.rules.length, 3);
  });

  const refusals: [string, DebuggerInput, RegExp][] = [
    ['no rule_to_invoke', { rules: [rule('r', {})] }, /rule_to_invoke/],
    ['an unknown rule', { rules: [rule('r', { rule_to_invoke: 'NoSuchRule' })] }, /no built-in debugger rule NoSuchRule.*VanishingGradient/],
    ['a profiler rule among the debugger rules', { rules: [rule('r', { rule_to_invoke: 'StepOutlier' })] }, /StepOutlier is a profiler rule/],
    ['an unknown parameter', { rules: [rule('r', { rule_to_invoke: 'Overfit', patiense: '2' })] }, /Overfit has no parameter patiense; its parameters are start_step, patience, ratio_threshold/],
    ['a parameter of the wrong kind', { rules: [rule('r', { rule_to_invoke: 'Overfit', patience: 'two' })] }, /Overfit parameter patience must be a whole number/],
    ['a custom rule image', { rules: [rule('r', { rule_to_invoke: 'Mine' }, '864354269164.dkr.ecr.us-east-1.amazonaws.com/sagemaker-debugger-rule-evaluator:latest')] }, /custom rules .* are not supported/],
    ['an image that runs no rules', { rules: [rule('r', { rule_to_invoke: 'Overfit' }, 'python:3.11')] }, /not a rule image Kennel knows/],
    ['action_json that is not JSON', { rules: [rule('r', { rule_to_invoke: 'Overfit', action_json: 'stop' })] }, /action_json is not JSON/],
    ['an unknown action', { rules: [rule('r', { rule_to_invoke: 'Overfit', action_json: '[{"name": "reboot"}]' })] }, /not a stoptraining, email or sms action/],
    ['an action that is not an object', { rules: [rule('r', { rule_to_invoke: 'Overfit', action_json: '"stoptraining"' })] }, /not a stoptraining, email or sms action/],
    ['the same name twice', { rules: [rule('r', { rule_to_invoke: 'Overfit' })], profilerRules: [rule('r', { rule_to_invoke: 'StepOutlier' })] }, /RuleConfigurationName r is used twice/],
    ['a profiling interval SageMaker does not offer', { profiler: { disabled: false, intervalMs: 300 } }, /one of 100, 200, 500, 1000, 5000, 60000, not 300/],
    ['profiler rules with the profiler disabled', { profiler: { disabled: true }, profilerRules: [rule('p', { rule_to_invoke: 'StepOutlier' })] }, /need the profiler/],
    ['a save_interval that is not a count', { hook: { s3OutputPath: 's3://b/t', hookParameters: { save_interval: '0' }, collections: [] } }, /save_interval must be a whole number of steps, 1 or more/],
    ['21 rules', { rules: Array.from({ length: 21 }, (_, i) => rule(`r${i}`, { rule_to_invoke: 'Overfit' })) }, /holds 21 rules; at most 20/],
  ];
  for (const [what, input, message] of refusals) {
    it(`refuses ${what}, saying what is wrong`, () => {
      assertDomainError(() => parseDebuggerConfiguration(input, 'job'), 'ValidationError', { message });
    });
  }

  it('records tensors when there is a hook or a debugger rule, at the smallest interval asked for, and samples the system unless disabled', () => {
    assert.deepEqual(recordingSettings(undefined), { steps: true, saveFirstSteps: 0, saveFirstEvery: 1, profilingIntervalMs: 500 }, 'the profiler is on by default: the system and each step’s timing');
    assert.deepEqual(recordingSettings(parseDebuggerConfiguration({ profiler: { disabled: true } }, 'j')), { steps: false, saveFirstSteps: 0, saveFirstEvery: 1 });
    const hooked = parseDebuggerConfiguration(
      { hook: { s3OutputPath: 's3://b/t', hookParameters: { save_interval: '50' }, collections: [{ name: 'gradients', parameters: { save_interval: '20' } }] }, profiler: { disabled: false, intervalMs: 100 } },
      'j',
    );
    assert.deepEqual(recordingSettings(hooked), { steps: true, saveInterval: 20, saveFirstSteps: 0, saveFirstEvery: 1, profilingIntervalMs: 100 });
    const ruled = parseDebuggerConfiguration({ rules: [rule('init', { rule_to_invoke: 'PoorWeightInitialization', steps: '12' })] }, 'j');
    assert.deepEqual(recordingSettings(ruled), { steps: true, saveInterval: 100, saveFirstSteps: 12, saveFirstEvery: 2, profilingIntervalMs: 500 }, 'PoorWeightInitialization has its patience’s worth of its first steps saved: 5 of 12, every second');
    const patient = parseDebuggerConfiguration({ rules: [rule('init', { rule_to_invoke: 'PoorWeightInitialization', steps: '10', patience: '10' })] }, 'j');
    assert.equal(recordingSettings(patient).saveFirstEvery, 1, 'a patience of all ten steps needs each of them');
  });
});
