import type { DomainError } from '../../core/errors.ts';
import { lambdaError } from './lambda-errors.ts';

/**
 * A function's lifecycle as Lambda reports it (Developer Guide, "Lambda function states"):
 * State says whether it can be invoked, LastUpdateStatus whether the last change has
 * landed. A new function is Pending until its code is unpacked and its environment can
 * start, then Active or Failed. An update leaves it Active and running the previous code
 * while LastUpdateStatus is InProgress; a failed update keeps the previous code. An idle
 * function goes Inactive, and an invocation brings it back through Pending.
 */

export const FUNCTION_STATES = ['Pending', 'Active', 'Inactive', 'Failed'] as const;
export type FunctionState = (typeof FUNCTION_STATES)[number];

export const LAST_UPDATE_STATUSES = ['Successful', 'Failed', 'InProgress'] as const;
export type LastUpdateStatus = (typeof LAST_UPDATE_STATUSES)[number];

/** The reasons Kennel reports: those of the StateReasonCode enum a local function can meet. */
export type FailureReasonCode = 'InvalidConfiguration' | 'InternalError' | 'InvalidRuntime' | 'InvalidZipFileException' | 'FunctionError' | 'InsufficientRolePermissions';
export type StateReasonCode = 'Idle' | 'Creating' | 'Restoring' | FailureReasonCode;
/** Lambda reports `Creating` while an update is in progress, though its model's enum leaves it out. */
export type LastUpdateStatusReasonCode = 'Creating' | FailureReasonCode;

/** The state members of a FunctionConfiguration, as GetFunctionConfiguration returns them. */
export interface FunctionStateFields {
  State: FunctionState;
  StateReason?: string;
  StateReasonCode?: StateReasonCode;
  LastUpdateStatus?: LastUpdateStatus;
  LastUpdateStatusReason?: string;
  LastUpdateStatusReasonCode?: LastUpdateStatusReasonCode;
}

export type StateObservation =
  /** The code is unpacked and an environment can start from it: creation, restore or update landed. */
  | { kind: 'code-ready' }
  /** The code or configuration could not be made ready. */
  | { kind: 'code-failed'; reasonCode: FailureReasonCode; reason: string }
  /** UpdateFunctionCode or UpdateFunctionConfiguration was accepted. */
  | { kind: 'update-started' }
  /** The function has not been invoked for long enough to release its resources. */
  | { kind: 'idle' }
  /** An invocation reached an Inactive function. */
  | { kind: 'invoked' };

const CREATING = 'The function is being created.';
const IDLE = 'The function is currently idle.';
const RESTORING = 'The function is being restored.';

/** CreateFunction's answer: Pending until the code is ready. */
export function initialFunctionState(): FunctionStateFields {
  return { State: 'Pending', StateReason: CREATING, StateReasonCode: 'Creating' };
}

/** The next state fields; an observation that does not apply to the current state changes nothing. */
export function nextFunctionState(current: FunctionStateFields, observation: StateObservation): FunctionStateFields {
  const updating = current.LastUpdateStatus === 'InProgress';
  switch (observation.kind) {
    case 'code-ready':
      if (current.State !== 'Pending' && !updating) return current;
      return { State: 'Active', LastUpdateStatus: 'Successful' };
    case 'code-failed': {
      const { reasonCode, reason } = observation;
      const lastUpdate = { LastUpdateStatus: 'Failed', LastUpdateStatusReason: reason, LastUpdateStatusReasonCode: reasonCode } as const;
      if (current.State === 'Pending') return { State: 'Failed', StateReason: reason, StateReasonCode: reasonCode, ...lastUpdate };
      if (!updating) return current;
      return { ...stateOnly(current), ...lastUpdate };
    }
    case 'update-started': {
      const inProgress = { LastUpdateStatus: 'InProgress', LastUpdateStatusReason: CREATING, LastUpdateStatusReasonCode: 'Creating' } as const;
      // A function that has no working code to keep running waits for the new code.
      if (current.State === 'Failed' || current.State === 'Inactive') return { State: 'Pending', StateReason: CREATING, StateReasonCode: 'Creating', ...inProgress };
      return { ...stateOnly(current), ...inProgress };
    }
    case 'idle':
      if (current.State !== 'Active' || updating) return current;
      return { State: 'Inactive', StateReason: IDLE, StateReasonCode: 'Idle', ...lastUpdateOnly(current) };
    case 'invoked':
      if (current.State !== 'Inactive') return current;
      return { State: 'Pending', StateReason: RESTORING, StateReasonCode: 'Restoring', ...lastUpdateOnly(current) };
  }
}

/**
 * Lambda takes one change at a time: UpdateFunctionCode, UpdateFunctionConfiguration,
 * PublishVersion and the like are refused while a change is still landing.
 */
export function canUpdate(state: FunctionStateFields, functionArn: string): void {
  if (state.LastUpdateStatus === 'InProgress') {
    throw lambdaError(
      'Conflict',
      'ResourceConflictException',
      `The operation cannot be performed at this time. An update is in progress for resource: ${functionArn}`,
    );
  }
  if (state.State === 'Pending') throw notInState(state.State);
}

/** Only an Active function runs; during an update it runs the previous code. */
export function canInvoke(state: FunctionStateFields): void {
  if (state.State !== 'Active') throw notInState(state.State);
}

function notInState(state: FunctionState): DomainError {
  return lambdaError('Conflict', 'ResourceConflictException', `The operation cannot be performed at this time. The function is currently in the following state: ${state}`, {
    state,
  });
}

function stateOnly(fields: FunctionStateFields): FunctionStateFields {
  const { State, StateReason, StateReasonCode } = fields;
  return { State, ...(StateReason === undefined ? {} : { StateReason }), ...(StateReasonCode === undefined ? {} : { StateReasonCode }) };
}

function lastUpdateOnly(fields: FunctionStateFields): Omit<FunctionStateFields, 'State'> {
  const { LastUpdateStatus, LastUpdateStatusReason, LastUpdateStatusReasonCode } = fields;
  return {
    ...(LastUpdateStatus === undefined ? {} : { LastUpdateStatus }),
    ...(LastUpdateStatusReason === undefined ? {} : { LastUpdateStatusReason }),
    ...(LastUpdateStatusReasonCode === undefined ? {} : { LastUpdateStatusReasonCode }),
  };
}
