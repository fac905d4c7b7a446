import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideTrainingJob, runtimeMs, STOP_GRACE_SECONDS, type DecidableTrainingJob, type TrainingJobAction } from './training-job-decider.ts';

const T0 = 1_800_000_000_000;
const job = (patch: Partial<DecidableTrainingJob> = {}): DecidableTrainingJob => ({
  status: 'InProgress',
  startedAtMs: T0,
  spec: { maxRuntimeSeconds: 60 },
  ...patch,
});

describe('decideTrainingJob', () => {
  const cases: [string, DecidableTrainingJob, boolean, number, TrainingJobAction][] = [
    ['a new job that is not running starts', job({ startedAtMs: undefined }), false, T0, { kind: 'start' }],
    ['a job a crash interrupted starts again', job(), false, T0 + 5_000, { kind: 'start' }],
    ['a running job within its runtime is left alone', job(), true, T0 + 59_999, { kind: 'none' }],
    ['a running job at its runtime limit is asked to stop', job(), true, T0 + 60_000, { kind: 'request-stop', reason: 'MaxRuntimeExceeded' }],
    ['a running job past its runtime limit is asked to stop', job(), true, T0 + 3_600_000, { kind: 'request-stop', reason: 'MaxRuntimeExceeded' }],
    ['a running job not yet started is left alone', job({ startedAtMs: undefined }), true, T0 + 3_600_000, { kind: 'none' }],
    ['earlier runs count toward the runtime limit', job({ priorRunMs: 50_000 }), true, T0 + 9_999, { kind: 'none' }],
    ['earlier runs and this one reach the limit together', job({ priorRunMs: 50_000 }), true, T0 + 10_000, { kind: 'request-stop', reason: 'MaxRuntimeExceeded' }],
    [
      'a run still going at the end of the stop grace is abandoned',
      job({ status: 'Stopping', stopRequest: { reason: 'MaxRuntimeExceeded', atMs: T0 } }),
      true,
      T0 + STOP_GRACE_SECONDS * 1000,
      { kind: 'abandon', secondaryStatus: 'MaxRuntimeExceeded' },
    ],
    [
      'a run still going just inside the stop grace is waited for',
      job({ status: 'Stopping', stopRequest: { reason: 'StopRequested', atMs: T0 } }),
      true,
      T0 + STOP_GRACE_SECONDS * 1000 - 1,
      { kind: 'none' },
    ],
    [
      'a stop request waits for the run to end',
      job({ status: 'Stopping', stopRequest: { reason: 'StopRequested', atMs: T0 } }),
      true,
      T0 + 1,
      { kind: 'none' },
    ],
    [
      'a stop request with nothing running ends Stopped',
      job({ status: 'Stopping', stopRequest: { reason: 'StopRequested', atMs: T0 } }),
      false,
      T0 + 1,
      { kind: 'finish-stopped', secondaryStatus: 'Stopped' },
    ],
    [
      'a runtime stop with nothing running ends MaxRuntimeExceeded',
      job({ status: 'Stopping', stopRequest: { reason: 'MaxRuntimeExceeded', atMs: T0 } }),
      false,
      T0 + 1,
      { kind: 'finish-stopped', secondaryStatus: 'MaxRuntimeExceeded' },
    ],
    ['a Stopping job without a request ends Stopped', job({ status: 'Stopping' }), false, T0, { kind: 'finish-stopped', secondaryStatus: 'Stopped' }],
    ['a Completed job is left alone', job({ status: 'Completed' }), false, T0 + 3_600_000, { kind: 'none' }],
    ['a Failed job is left alone', job({ status: 'Failed' }), false, T0, { kind: 'none' }],
    ['a Stopped job is left alone even with its request', job({ status: 'Stopped', stopRequest: { reason: 'StopRequested', atMs: T0 } }), false, T0, { kind: 'none' }],
  ];
  for (const [what, input, running, now, expected] of cases) {
    it(what, () => assert.deepEqual(decideTrainingJob(input, { running }, now), expected));
  }
});

describe('runtimeMs', () => {
  it('adds the current run to the earlier ones, and is zero before any run', () => {
    assert.equal(runtimeMs({}, T0), 0);
    assert.equal(runtimeMs({ startedAtMs: T0 }, T0 + 1500), 1500);
    assert.equal(runtimeMs({ startedAtMs: T0, priorRunMs: 700 }, T0 + 1500), 2200);
    assert.equal(runtimeMs({ startedAtMs: T0 }, T0 - 10), 0, 'a clock that stepped back counts nothing');
  });
});
