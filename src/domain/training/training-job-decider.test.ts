import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideTrainingJob, type DecidableTrainingJob, type TrainingJobAction } from './training-job-decider.ts';

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
