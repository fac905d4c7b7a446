import assert from 'node:assert/strict';
import { refusal } from '../../testing/assert-domain-error.ts';
import { describe, it } from 'node:test';
import { DomainError } from '../../core/errors.ts';
import { canInvoke, canUpdate, initialFunctionState, nextFunctionState, type FunctionStateFields, type StateObservation } from './function-state.ts';

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:dogs';
const creating = initialFunctionState();
const active: FunctionStateFields = { State: 'Active', LastUpdateStatus: 'Successful' };
const updating: FunctionStateFields = { State: 'Active', LastUpdateStatus: 'InProgress', LastUpdateStatusReason: 'The function is being created.', LastUpdateStatusReasonCode: 'Creating' };
const badZip = { kind: 'code-failed', reasonCode: 'InvalidZipFileException', reason: 'Could not unzip uploaded file. Please check your file, then try to upload again.' } as const;
const failed: FunctionStateFields = {
  State: 'Failed',
  StateReason: badZip.reason,
  StateReasonCode: 'InvalidZipFileException',
  LastUpdateStatus: 'Failed',
  LastUpdateStatusReason: badZip.reason,
  LastUpdateStatusReasonCode: 'InvalidZipFileException',
};
const inactive: FunctionStateFields = { State: 'Inactive', StateReason: 'The function is currently idle.', StateReasonCode: 'Idle', LastUpdateStatus: 'Successful' };
const restoring: FunctionStateFields = { State: 'Pending', StateReason: 'The function is being restored.', StateReasonCode: 'Restoring', LastUpdateStatus: 'Successful' };

describe('initialFunctionState', () => {
  it('is Pending, Creating, as CreateFunction answers', () => {
    assert.deepEqual(creating, { State: 'Pending', StateReason: 'The function is being created.', StateReasonCode: 'Creating' });
  });
});

describe('nextFunctionState', () => {
  const cases: [string, FunctionStateFields, StateObservation, FunctionStateFields][] = [
    ['created code unpacks: Active', creating, { kind: 'code-ready' }, active],
    ['created code is no zip: Failed, with the reason in both places', creating, badZip, failed],
    [
      'an unknown runtime',
      creating,
      { kind: 'code-failed', reasonCode: 'InvalidRuntime', reason: 'The runtime nodejs4.3 is not supported.' },
      {
        State: 'Failed',
        StateReason: 'The runtime nodejs4.3 is not supported.',
        StateReasonCode: 'InvalidRuntime',
        LastUpdateStatus: 'Failed',
        LastUpdateStatusReason: 'The runtime nodejs4.3 is not supported.',
        LastUpdateStatusReasonCode: 'InvalidRuntime',
      },
    ],
    ['an update starts: still Active, update InProgress', active, { kind: 'update-started' }, updating],
    ['the update lands', updating, { kind: 'code-ready' }, active],
    [
      'the update fails: the previous code keeps running',
      updating,
      badZip,
      { State: 'Active', LastUpdateStatus: 'Failed', LastUpdateStatusReason: badZip.reason, LastUpdateStatusReasonCode: 'InvalidZipFileException' },
    ],
    [
      'a failed function is fixed by an update, through Pending',
      failed,
      { kind: 'update-started' },
      {
        State: 'Pending',
        StateReason: 'The function is being created.',
        StateReasonCode: 'Creating',
        LastUpdateStatus: 'InProgress',
        LastUpdateStatusReason: 'The function is being created.',
        LastUpdateStatusReasonCode: 'Creating',
      },
    ],
    ['an idle function goes Inactive', active, { kind: 'idle' }, inactive],
    ['not while an update lands', updating, { kind: 'idle' }, updating],
    ['an invocation restores it', inactive, { kind: 'invoked' }, restoring],
    ['and it comes back Active', restoring, { kind: 'code-ready' }, active],
    ['an invocation of an Active function changes nothing', active, { kind: 'invoked' }, active],
    ['a late code-ready changes nothing', active, { kind: 'code-ready' }, active],
    ['a late failure changes nothing', active, badZip, active],
  ];
  for (const [name, current, observation, expected] of cases) {
    it(name, () => assert.deepEqual(nextFunctionState(current, observation), expected));
  }

  it('a failed function, updated with good code, becomes Active', () => {
    const fixed = [{ kind: 'update-started' } as const, { kind: 'code-ready' } as const].reduce(nextFunctionState, failed);
    assert.deepEqual(fixed, active);
  });
});

describe('canUpdate', () => {
  it('allows an update of an Active, Failed or Inactive function', () => {
    for (const state of [active, failed, inactive]) canUpdate(state, ARN);
  });
  it('refuses one while an update is in progress, in Lambda words', () => {
    const error = refusal(() => canUpdate(updating, ARN));
    assert.equal(error.code, 'Conflict');
    assert.equal(error.details.lambdaError, 'ResourceConflictException');
    assert.equal(error.message, `The operation cannot be performed at this time. An update is in progress for resource: ${ARN}`);
  });
  it('refuses one while the function is being created', () => {
    assert.equal(refusal(() => canUpdate(creating, ARN)).message, 'The operation cannot be performed at this time. The function is currently in the following state: Pending');
  });
});

describe('canInvoke', () => {
  it('runs an Active function, during an update too', () => {
    canInvoke(active);
    canInvoke(updating);
  });
  const cases: [FunctionStateFields, string][] = [
    [creating, 'Pending'],
    [failed, 'Failed'],
    [inactive, 'Inactive'],
    [restoring, 'Pending'],
  ];
  for (const [state, name] of cases) {
    it(`refuses a function in state ${name}${state.StateReasonCode ? ` (${state.StateReasonCode})` : ''}`, () => {
      const error = refusal(() => canInvoke(state));
      assert.equal(error.code, 'Conflict');
      assert.equal(error.details.lambdaError, 'ResourceConflictException');
      assert.equal(error.message, `The operation cannot be performed at this time. The function is currently in the following state: ${name}`);
    });
  }
});
