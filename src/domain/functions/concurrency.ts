import { CODE_LIMITS } from './function-config.ts';
import { checkIntegerRange, invalidParameterValue } from './lambda-errors.ts';

/**
 * Lambda's concurrency accounting (DESIGN §5, Developer Guide "Lambda function scaling"):
 * the account limit is shared by every function of the account. A function with reserved
 * concurrency R owns R of it, as floor and ceiling; provisioned concurrency of a version or
 * alias is capacity set aside inside the function's reservation, or, for a function without
 * one, taken from the unreserved pool. The unreserved pool serves on-demand executions of
 * every function without a reservation, and may not be configured below a minimum.
 */

export interface ConcurrencySettings {
  accountLimit: number;
  minimumUnreserved: number;
}

export const DEFAULT_CONCURRENCY: ConcurrencySettings = { accountLimit: 1000, minimumUnreserved: 100 };

/** The ThrottleReason enum of Lambda's service model (botocore lambda 2015-03-31). */
export const THROTTLE_REASONS = [
  'ConcurrentInvocationLimitExceeded',
  'FunctionInvocationRateLimitExceeded',
  'ReservedFunctionConcurrentInvocationLimitExceeded',
  'ReservedFunctionInvocationRateLimitExceeded',
  'CallerRateLimitExceeded',
  'ConcurrentSnapshotCreateLimitExceeded',
] as const;
export type ThrottleReason = (typeof THROTTLE_REASONS)[number];

/** Invoke's TooManyRequestsException message for concurrency throttles ("Rate exceeded", lower case, is the control plane's API rate limit). */
export const THROTTLE_MESSAGE = 'Rate Exceeded.';
/** Sent as Retry-After: executions finish within seconds, so a short wait is the useful hint. */
export const THROTTLE_RETRY_AFTER_SECONDS = 1;

/** What the account has configured. */
export interface AccountConcurrency {
  /** Function name → ReservedConcurrentExecutions; absent for a function without a reservation. */
  reserved: ReadonlyMap<string, number>;
  /** Function name → provisioned concurrency configured across its versions and aliases. */
  provisioned?: ReadonlyMap<string, number>;
}

/** What is configured and what runs now, observed. */
export interface ConcurrencyState extends AccountConcurrency {
  /** Function name → executions running, every qualifier and environment kind together. */
  inFlight: ReadonlyMap<string, number>;
  /** Function name → how many of those run on provisioned environments. */
  provisionedBusy?: ReadonlyMap<string, number>;
}

export type Admission =
  | { admit: true; environment: 'provisioned' | 'on-demand' }
  | { admit: false; reason: ThrottleReason; retryAfterSeconds: number; message: string };

/**
 * Whether one more execution of the function may start now. An idle provisioned environment
 * of the invoked version or alias (`idleProvisioned`) always takes it: that capacity is set
 * aside already. Otherwise it runs on demand: inside the reservation less what is set aside
 * for provisioned environments, or in the unreserved pool shared with every function that
 * has no reservation.
 */
export function decideAdmission(
  state: ConcurrencyState,
  settings: ConcurrencySettings,
  functionName: string,
  request: { idleProvisioned?: number } = {},
): Admission {
  if ((request.idleProvisioned ?? 0) > 0) return { admit: true, environment: 'provisioned' };
  const reserved = state.reserved.get(functionName);
  if (reserved !== undefined) {
    const onDemandRoom = reserved - provisionedOf(state, functionName);
    if (onDemand(state, functionName) < onDemandRoom) return { admit: true, environment: 'on-demand' };
    return throttle('ReservedFunctionConcurrentInvocationLimitExceeded');
  }
  let used = 0;
  for (const name of state.inFlight.keys()) if (!state.reserved.has(name)) used += onDemand(state, name);
  if (used < unreservedConcurrency(settings, state)) return { admit: true, environment: 'on-demand' };
  return throttle('ConcurrentInvocationLimitExceeded');
}

/**
 * The pool left to functions without a reservation: the account limit less every
 * reservation and the provisioned concurrency of functions without one. GetAccountSettings
 * reports it as UnreservedConcurrentExecutions.
 */
export function unreservedConcurrency(settings: ConcurrencySettings, account: AccountConcurrency): number {
  let pool = settings.accountLimit;
  for (const value of account.reserved.values()) pool -= value;
  for (const [name, value] of account.provisioned ?? []) if (!account.reserved.has(name)) pool -= value;
  return pool;
}

/**
 * PutFunctionConcurrency: the reservation may not take the unreserved pool below its
 * minimum, nor fall below the provisioned concurrency the function already has configured.
 */
export function checkReservedConcurrency(
  settings: ConcurrencySettings,
  account: AccountConcurrency,
  functionName: string,
  value: number,
): void {
  checkIntegerRange('ReservedConcurrentExecutions', 'reservedConcurrentExecutions', value, 0, Number.MAX_SAFE_INTEGER);
  const reserved = new Map(account.reserved).set(functionName, value);
  if (unreservedConcurrency(settings, { ...account, reserved }) < settings.minimumUnreserved) {
    throw invalidParameterValue(
      `Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${settings.minimumUnreserved}].`,
      'ReservedConcurrentExecutions',
    );
  }
  const provisioned = provisionedOf(account, functionName);
  if (provisioned > value) {
    throw invalidParameterValue(
      `ReservedConcurrentExecutions ${value} should not be lower than function's total provisioned concurrency [${provisioned}].`,
      'ReservedConcurrentExecutions',
    );
  }
}

/**
 * PutProvisionedConcurrencyConfig for one version or alias of the function, replacing
 * `current` (what that qualifier has configured now, 0 for a new config). Provisioned
 * concurrency fits inside the function's reservation if it has one; otherwise it comes
 * from the unreserved pool, which must keep its minimum.
 */
export function checkProvisionedConcurrency(
  settings: ConcurrencySettings,
  account: AccountConcurrency,
  functionName: string,
  config: { requested: number; current: number },
): void {
  checkIntegerRange('ProvisionedConcurrentExecutions', 'provisionedConcurrentExecutions', config.requested, 1, Number.MAX_SAFE_INTEGER);
  const total = provisionedOf(account, functionName) - config.current + config.requested;
  const reserved = account.reserved.get(functionName);
  if (reserved !== undefined) {
    if (total > reserved) {
      throw invalidParameterValue(
        'Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function',
        'ProvisionedConcurrentExecutions',
      );
    }
    return;
  }
  const provisioned = new Map(account.provisioned ?? []).set(functionName, total);
  if (unreservedConcurrency(settings, { ...account, provisioned }) < settings.minimumUnreserved) {
    throw invalidParameterValue(
      `Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${settings.minimumUnreserved}].`,
      'ProvisionedConcurrentExecutions',
    );
  }
}

export interface AccountSettings {
  AccountLimit: {
    TotalCodeSize: number;
    CodeSizeUnzipped: number;
    CodeSizeZipped: number;
    ConcurrentExecutions: number;
    UnreservedConcurrentExecutions: number;
  };
  AccountUsage: { TotalCodeSize: number; FunctionCount: number };
}

/** GetAccountSettings, in Lambda's member names. */
export function accountSettings(
  settings: ConcurrencySettings,
  account: AccountConcurrency,
  usage: { totalCodeSize: number; functionCount: number },
  codeLimits: { codeSizeZipped: number; codeSizeUnzipped: number; totalCodeSize: number } = CODE_LIMITS,
): AccountSettings {
  return {
    AccountLimit: {
      TotalCodeSize: codeLimits.totalCodeSize,
      CodeSizeUnzipped: codeLimits.codeSizeUnzipped,
      CodeSizeZipped: codeLimits.codeSizeZipped,
      ConcurrentExecutions: settings.accountLimit,
      UnreservedConcurrentExecutions: unreservedConcurrency(settings, account),
    },
    AccountUsage: { TotalCodeSize: usage.totalCodeSize, FunctionCount: usage.functionCount },
  };
}

function provisionedOf(account: AccountConcurrency, functionName: string): number {
  return account.provisioned?.get(functionName) ?? 0;
}

function onDemand(state: ConcurrencyState, functionName: string): number {
  return Math.max(0, (state.inFlight.get(functionName) ?? 0) - (state.provisionedBusy?.get(functionName) ?? 0));
}

function throttle(reason: ThrottleReason): Admission {
  return { admit: false, reason, retryAfterSeconds: THROTTLE_RETRY_AFTER_SECONDS, message: THROTTLE_MESSAGE };
}
