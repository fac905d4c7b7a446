import assert from 'node:assert/strict';
import type { ClassificationBody, InvokeEndpointResult } from '../control/endpoints.ts';
import { isScriptServing, type OnnxServing, type Serving } from '../domain/serving/model-serving.ts';
import type { ClassifierInstance, Instance } from '../runtime/serving/instance-types.ts';

/** The record (a model, a deployed variant) as an ONNX-served one; fails the test if it is an inference script's. */
export function onnxServed<T extends Serving>(record: T): T & OnnxServing {
  assert.ok(!isScriptServing(record), 'an ONNX-served model was expected, not an inference script');
  return record as T & OnnxServing;
}

/** The classifier's answer in an invocation result; fails the test if a script answered. */
export function classified(result: InvokeEndpointResult): ClassificationBody {
  assert.equal(result.kind, 'classification', 'the built-in classifier was expected to answer');
  return result.body as ClassificationBody;
}

export function classifierInstance(instance: Instance): ClassifierInstance {
  assert.equal(instance.kind, 'classifier');
  return instance as ClassifierInstance;
}
