import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DomainError } from '../core/errors.ts';
import { loadWorkloadSpec } from './spec.ts';

const VALID = `apiVersion: kennel/v1
kind: Workload
dataset:
  name: pets
  path: ./images
trainingJob:
  name: pets-1
  backbone:
    sample: true
  hyperParameters:
    learning_rate: 0.01
    epochs: 3
model:
  name: pets
endpoint:
  name: pets
`;

describe('workload spec files', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kennel-spec-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  const load = async (text: string) => {
    const file = join(dir, 'kennel.yaml');
    await writeFile(file, text);
    return loadWorkloadSpec(file, '/state');
  };

  it('accepts a valid spec and resolves paths against the file and $KENNEL_HOME', async () => {
    const spec = await load(VALID);
    assert.equal(spec.dataset.path, join(dir, 'images'));
    assert.equal(spec.trainingJob.hyperParameters?.learning_rate, 0.01);
    const withHome = await load(VALID.replace('./images', '$KENNEL_HOME/data'));
    assert.equal(withHome.dataset.path, '/state/data');
  });

  it('accepts the dog-breeds example spec shipped in examples/', async () => {
    const file = fileURLToPath(new URL('../../examples/dog-breeds/kennel.yaml', import.meta.url));
    const spec = await loadWorkloadSpec(file, '/state');
    assert.equal(spec.dataset.path, '/state/examples/dog-breeds/dogImages');
    assert.ok('backbone' in spec.trainingJob && 'path' in spec.trainingJob.backbone);
    assert.deepEqual(spec.trainingJob.debugger?.rules?.map((r) => r.rule), ['ExplodingTensor', 'Overfit', 'ClassImbalance', 'ProfilerReport']);
    const [classify] = spec.functions!;
    assert.equal(classify!.name, 'classify');
    assert.equal(classify!.reservedConcurrency, 5);
    assert.equal(classify!.code, join(dirname(file), 'functions', 'classify-node'));
    assert.deepEqual(classify!.role.allow, [{ action: 'sagemaker:InvokeEndpoint', resource: 'arn:aws:sagemaker:us-east-1:000000000000:endpoint/dog-breeds' }]);
  });

  it('accepts the script-mode example spec, with its tuning job', async () => {
    const file = fileURLToPath(new URL('../../examples/dog-breeds/script-mode/kennel.yaml', import.meta.url));
    const spec = await loadWorkloadSpec(file, '/state');
    assert.ok('script' in spec.trainingJob);
    assert.equal(spec.trainingJob.script.sourceDir, dirname(file));
    assert.deepEqual(Object.keys(spec.tuningJob!.ranges), ['learning_rate', 'batch_size']);
    assert.equal(spec.model, undefined);
  });

  const rejected: [string, string, RegExp][] = [
    ['broken YAML', VALID.replace('  name: pets-1', '  name: [pets-1'), /kennel\.yaml:\d+: not valid YAML/],
    ['a missing section', VALID.replace(/model:\n  name: pets\n/, ''), /kennel\.yaml: model: /],
    ['a wrong type, with its line', VALID.replace('epochs: 3', 'epochs: [3]'), /kennel\.yaml:12: trainingJob\.hyperParameters\.epochs: /],
    ['an unknown field', VALID.replace('kind: Workload', 'kind: Workload\nextra: 1'), /extra/],
    ['a wrong apiVersion', VALID.replace('kennel/v1', 'kennel/v9'), /kennel\.yaml:1: apiVersion: /],
    [
      'a function without a role',
      `${VALID}functions:\n  - name: classify\n    runtime: nodejs20.x\n    handler: index.handler\n    code: ./fn\n`,
      /kennel\.yaml(:\d+)?: functions\.0\.role: /,
    ],
    ['a backbone that is neither sample nor a path', VALID.replace('sample: true', 'sample: false'), /trainingJob\.backbone/],
    ['an invalid resource name', VALID.replace('  name: pets-1', '  name: pets_1'), /kennel\.yaml:7: trainingJob\.name: use letters, digits and hyphens/],
    ['a hyperparameter out of range', VALID.replace('learning_rate: 0.01', 'learning_rate: fast'), /kennel\.yaml:11: trainingJob\.hyperParameters\.learning_rate: Hyperparameter learning_rate must be/],
    ['an unknown hyperparameter', VALID.replace('epochs: 3', 'epochz: 3'), /kennel\.yaml:12: trainingJob\.hyperParameters\.epochz: Unknown hyperparameter/],
    ['a tuning job with no range', VALID.replace('trainingJob:', 'tuningJob:\n  name: t\n  objective: { metric: validation:loss }\n  ranges: {}\ntrainingJob:'), /tuningJob\.ranges: give at least one range/],
    ['a tuning range with a bad scaling', VALID.replace('trainingJob:', 'tuningJob:\n  name: t\n  objective: { metric: validation:loss }\n  ranges: { learning_rate: { min: 0.001, max: 0.1, scaling: Log } }\ntrainingJob:'), /tuningJob\.ranges\.learning_rate/],
    ['an unknown debugger rule', VALID.replace('    epochs: 3\n', '    epochs: 3\n  debugger:\n    rules:\n      - rule: Overfitting\n'), /kennel\.yaml:15: trainingJob\.debugger\.rules\.0: There is no built-in debugger rule Overfitting; the rules are VanishingGradient/],
    [
      'a rule parameter of the wrong kind',
      VALID.replace('    epochs: 3\n', '    epochs: 3\n  debugger:\n    rules:\n      - rule: LossNotDecreasing\n        parameters: { num_steps: many }\n'),
      /trainingJob\.debugger\.rules\.0: LossNotDecreasing parameter num_steps must be a whole number/,
    ],
    [
      'a script-mode job with an endpoint',
      VALID.replace('  backbone:\n    sample: true\n', '  script: { image: kennel/python, entryPoint: train.py, sourceDir: . }\n'),
      /model: a script-mode training job's model cannot be served/,
    ],
  ];
  for (const [what, text, message] of rejected) {
    it(`names the file, the place and the problem for ${what}`, async () => {
      await assert.rejects(load(text), (error: unknown) => {
        assert.ok(error instanceof DomainError);
        assert.equal(error.code, 'ValidationError');
        assert.match(error.message, message);
        return true;
      });
    });
  }

  it('names a file that does not exist', async () => {
    await assert.rejects(loadWorkloadSpec(join(dir, 'missing.yaml'), '/state'), /missing\.yaml: cannot read/);
  });
});
