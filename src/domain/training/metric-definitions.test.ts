import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertDomainError } from '../../testing/assert-domain-error.ts';
import { compileMetricDefinitions, scrapeMetrics } from './metric-definitions.ts';

describe('metric definitions', () => {
  const metrics = compileMetricDefinitions([
    { name: 'train:loss', regex: 'loss=([0-9.eE+-]+)' },
    { name: 'epoch', regex: 'epoch=(\\d+)' },
    { name: 'test:loss', regex: 'Testing Loss: ([0-9.]+)' },
  ]);

  it('takes each metric from the first capture group of its first match on the line', () => {
    assert.deepEqual(scrapeMetrics('epoch=1 loss=0.5 loss=0.25', metrics), [
      { name: 'train:loss', value: 0.5 },
      { name: 'epoch', value: 1 },
    ]);
    assert.deepEqual(scrapeMetrics('Testing Loss: 0.731', metrics), [{ name: 'test:loss', value: 0.731 }]);
    assert.deepEqual(scrapeMetrics('epoch=3 loss=1e-3', metrics), [
      { name: 'train:loss', value: 0.001 },
      { name: 'epoch', value: 3 },
    ]);
    assert.deepEqual(scrapeMetrics('nothing to see', metrics), []);
  });

  it('skips a capture that is not a finite number', () => {
    assert.deepEqual(scrapeMetrics('loss=-', metrics), []);
    assert.deepEqual(scrapeMetrics('loss=1.2.3', metrics), []);
    assert.deepEqual(scrapeMetrics('Testing Loss: .', metrics), []);
    const nan = compileMetricDefinitions([{ name: 'loss', regex: 'loss=(\\S+)' }]);
    assert.deepEqual(scrapeMetrics('loss=nan', nan), []);
    assert.deepEqual(scrapeMetrics('loss=1e999', nan), []);
    assert.deepEqual(scrapeMetrics('loss= 0.5', compileMetricDefinitions([{ name: 'loss', regex: 'loss=(.*)' }])), [{ name: 'loss', value: 0.5 }]);
  });

  it('understands the Python spellings SageMaker regexes use', () => {
    const python = compileMetricDefinitions([
      { name: 'named', regex: 'acc(?P<sep>[:=])\\s*(?P<value>[0-9.]+)' },
      { name: 'ignoring case', regex: '(?i)VALID LOSS ([0-9.]+)' },
      { name: 'bracket', regex: '[]x]=([0-9]+)' },
      { name: 'anchored', regex: '\\Aval=([0-9]+)\\Z' },
      { name: 'backreference', regex: '^(?P<v>[0-9]+)(?P<q>["\'])(?P=q)' },
    ]);
    assert.deepEqual(scrapeMetrics('acc: 0.9', python), []);
    assert.deepEqual(scrapeMetrics('valid loss 0.4', python), [{ name: 'ignoring case', value: 0.4 }]);
    assert.deepEqual(scrapeMetrics(']=12', python), [{ name: 'bracket', value: 12 }]);
    assert.deepEqual(scrapeMetrics('val=5', python), [{ name: 'anchored', value: 5 }]);
    assert.deepEqual(scrapeMetrics('x val=5', python), []);
    assert.deepEqual(scrapeMetrics('7""', python), [{ name: 'backreference', value: 7 }]);
    assert.deepEqual(scrapeMetrics('7"\'', python), []);
  });

  it('refuses a regex that is invalid, has no capture group, or a name defined twice', () => {
    const field = 'AlgorithmSpecification.MetricDefinitions';
    assertDomainError(() => compileMetricDefinitions([{ name: 'loss', regex: 'loss=([0-9.]+' }]), 'ValidationError', { message: /\[0\] \(loss\): Regex "loss=\(\[0-9\.\]\+" is not a valid regular expression/, field });
    assertDomainError(() => compileMetricDefinitions([{ name: 'ok', regex: 'a=(\\d)' }, { name: 'loss', regex: 'loss=[0-9.]+' }]), 'ValidationError', { message: /\[1\] \(loss\): .*has no capture group/, field });
    assertDomainError(() => compileMetricDefinitions([{ name: 'loss', regex: '(?:x)=\\d' }]), 'ValidationError', { message: /no capture group/ });
    assertDomainError(() => compileMetricDefinitions([{ name: 'loss', regex: '(?x) a (\\d)' }]), 'ValidationError', { message: /inline flag \(\?x\) has no JavaScript equivalent/ });
    assertDomainError(() => compileMetricDefinitions([{ name: 'loss', regex: 'a(\\d)' }, { name: 'loss', regex: 'b(\\d)' }]), 'ValidationError', { message: /the metric loss is defined twice/, field });
    const tuning = 'TrainingJobDefinition.AlgorithmSpecification.MetricDefinitions';
    assertDomainError(() => compileMetricDefinitions([{ name: 'loss', regex: '(' }], tuning), 'ValidationError', { message: /^TrainingJobDefinition\.AlgorithmSpecification\.MetricDefinitions\[0\] \(loss\)/, field: tuning });
  });
});
