/**
 * Bringing one provisioned concurrency config (a version or alias) to its requested number
 * of initialised environments, as a pure decider: the reconciler reports what it observes,
 * starts and stops what the plan says, and reports again. The status reads as
 * GetProvisionedConcurrencyConfig reports it: IN_PROGRESS while environments initialise,
 * READY once the requested number are ready, FAILED once initialisation keeps failing.
 */

export type ProvisionedConcurrencyStatus = 'IN_PROGRESS' | 'READY' | 'FAILED';

/** The config's environments as observed now. */
export interface ProvisionedEnvironments {
  initialising: number;
  ready: number;
  /** Environments whose initialisation failed since the previous decision; they are gone. */
  failed: number;
  /** The last initialisation error, for the status reason. */
  lastInitError?: string;
}

export interface ProvisionedPlanState {
  status: ProvisionedConcurrencyStatus;
  statusReason?: string;
  /** Initialisation failures since an environment last became ready. */
  consecutiveFailures: number;
  /** Ready environments at the previous decision: more now means initialisation works. */
  ready: number;
  /** No replacement starts before this time after a failure, so a broken init is not retried in a tight loop. */
  retryAtMs?: number;
}

export interface ProvisionedPlanSettings {
  maxConsecutiveInitFailures: number;
  initRetryDelayMs: number;
}

export const DEFAULT_PROVISIONED_PLAN_SETTINGS: ProvisionedPlanSettings = { maxConsecutiveInitFailures: 3, initRetryDelayMs: 10_000 };

export interface ProvisionedPlan {
  status: ProvisionedConcurrencyStatus;
  statusReason?: string;
  /** Environments to start now. */
  start: number;
  /** Environments to stop now (the request went down); initialising ones first. */
  stop: number;
  /** AllocatedProvisionedConcurrentExecutions: environments set aside, ready or initialising. */
  allocated: number;
  /** AvailableProvisionedConcurrentExecutions: environments ready to serve. */
  available: number;
  nextState: ProvisionedPlanState;
}

/** A config just put (or put again, which is how a FAILED config is retried). */
export function initialProvisionedPlanState(): ProvisionedPlanState {
  return { status: 'IN_PROGRESS', consecutiveFailures: 0, ready: 0 };
}

export function decideProvisionedPlan(
  requested: number,
  observed: ProvisionedEnvironments,
  state: ProvisionedPlanState,
  nowMs: number,
  settings: ProvisionedPlanSettings = DEFAULT_PROVISIONED_PLAN_SETTINGS,
): ProvisionedPlan {
  const running = observed.ready + observed.initialising;
  const stop = Math.max(0, running - requested);
  const allocated = Math.min(requested, running);
  const available = Math.min(requested, observed.ready);
  const progressed = observed.ready > state.ready;
  const consecutiveFailures = (progressed ? 0 : state.consecutiveFailures) + observed.failed;
  const retryAtMs = observed.failed > 0 ? nowMs + settings.initRetryDelayMs : state.retryAtMs;

  if (state.status === 'FAILED' || consecutiveFailures >= settings.maxConsecutiveInitFailures) {
    const statusReason =
      state.status === 'FAILED' && state.statusReason !== undefined
        ? state.statusReason
        : `Provisioned environments failed to initialise ${consecutiveFailures} times in a row` +
          `${observed.lastInitError === undefined ? '' : ` (last error: ${observed.lastInitError})`}. ` +
          "Fix the function's initialisation code, then put the provisioned concurrency config again.";
    return {
      status: 'FAILED',
      statusReason,
      start: 0,
      stop,
      allocated,
      available,
      nextState: { status: 'FAILED', statusReason, consecutiveFailures, ready: observed.ready },
    };
  }

  const waiting = retryAtMs !== undefined && nowMs < retryAtMs;
  const start = waiting ? 0 : Math.max(0, requested - running);
  const status: ProvisionedConcurrencyStatus = observed.ready >= requested ? 'READY' : 'IN_PROGRESS';
  return {
    status,
    start,
    stop,
    allocated,
    available,
    nextState: {
      status,
      consecutiveFailures,
      ready: observed.ready,
      ...(waiting ? { retryAtMs } : {}),
    },
  };
}
