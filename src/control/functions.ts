import { randomUUID } from 'node:crypto';
import { DomainError } from '../core/errors.ts';
import { ACCOUNT_ID, DEFAULT_REGION } from '../domain/iam/arn.ts';
import { versionKey, type FunctionAlias, type FunctionSettings, type FunctionStatus, type FunctionVersion, type LambdaFunction } from '../domain/functions/function.ts';
import { checkCodeStorage, validateFunctionConfig } from '../domain/functions/function-config.ts';
import { functionArn, isVersionNumber, parseFunctionName } from '../domain/functions/function-names.ts';
import { canUpdate, initialFunctionState, nextFunctionState, type FunctionStateFields, type StateObservation } from '../domain/functions/function-state.ts';
import { lambdaError } from '../domain/functions/lambda-errors.ts';
import { SUPPORTED_RUNTIMES } from '../runtime/functions/runtimes.ts';
import type { ControlDeps } from './deps.ts';
import type { CodeSource, FunctionCodeStore } from './function-code.ts';

export const LAMBDA_SCOPE = { region: DEFAULT_REGION, accountId: ACCOUNT_ID } as const;

/** The settings a request may set; the rest keep their value (updates) or Lambda's default (creates). */
export interface FunctionSettingsInput {
  runtime?: string;
  handler?: string;
  roleArn?: string;
  description?: string;
  timeoutSeconds?: number;
  memorySizeMb?: number;
  environment?: Record<string, string>;
  ephemeralStorageMb?: number;
  deadLetterTargetArn?: string;
}

export interface CreateFunctionInput extends FunctionSettingsInput {
  name: string;
  runtime: string;
  handler: string;
  roleArn: string;
  code: CodeSource;
  publish?: boolean;
  tags?: Record<string, string>;
}

/** A function as one qualifier sees it: $LATEST, a version, or the version an alias points to. */
export interface ResolvedFunction {
  fn: LambdaFunction;
  /** What runs: $LATEST's settings or the version's. */
  settings: FunctionSettings;
  /** '$LATEST' or the version number. */
  version: string;
  versionRecord?: FunctionVersion;
  alias?: FunctionAlias;
}

/** The settings as CreateFunction spells them, for the configuration checks. */
function checkSettings(settings: Omit<FunctionSettings, 'code'>): void {
  validateFunctionConfig(
    { MemorySize: settings.memorySizeMb, Timeout: settings.timeoutSeconds, Handler: settings.handler, Runtime: settings.runtime, Role: settings.roleArn, Environment: { Variables: settings.environment } },
    { supportedRuntimes: SUPPORTED_RUNTIMES },
  );
}

/** The record's lifecycle fields in Lambda's member names, as the state decider reads them, and back. */
export function stateFieldsOf(status: FunctionStatus): FunctionStateFields {
  return {
    State: status.state,
    ...(status.stateReason !== undefined ? { StateReason: status.stateReason } : {}),
    ...(status.stateReasonCode !== undefined ? { StateReasonCode: status.stateReasonCode } : {}),
    ...(status.lastUpdateStatus !== undefined ? { LastUpdateStatus: status.lastUpdateStatus } : {}),
    ...(status.lastUpdateStatusReason !== undefined ? { LastUpdateStatusReason: status.lastUpdateStatusReason } : {}),
    ...(status.lastUpdateStatusReasonCode !== undefined ? { LastUpdateStatusReasonCode: status.lastUpdateStatusReasonCode } : {}),
  };
}

/** The function with its lifecycle moved on by one observation; fields the decider leaves out are cleared. */
export function observe<T extends LambdaFunction>(fn: T, observation: StateObservation): T {
  const next = nextFunctionState(stateFieldsOf(fn), observation);
  const { stateReason: _a, stateReasonCode: _b, lastUpdateStatus: _c, lastUpdateStatusReason: _d, lastUpdateStatusReasonCode: _e, ...rest } = fn;
  return {
    ...rest,
    state: next.State,
    ...(next.StateReason !== undefined ? { stateReason: next.StateReason } : {}),
    ...(next.StateReasonCode !== undefined ? { stateReasonCode: next.StateReasonCode } : {}),
    ...(next.LastUpdateStatus !== undefined ? { lastUpdateStatus: next.LastUpdateStatus } : {}),
    ...(next.LastUpdateStatusReason !== undefined ? { lastUpdateStatusReason: next.LastUpdateStatusReason } : {}),
    ...(next.LastUpdateStatusReasonCode !== undefined ? { lastUpdateStatusReasonCode: next.LastUpdateStatusReasonCode } : {}),
  } as T;
}

const DEFAULTS = { description: '', timeoutSeconds: 3, memorySizeMb: 128, environment: {}, ephemeralStorageMb: 512 } as const;

/** Lambda's not-found wording, with the ARN the caller asked for. */
export function functionNotFound(name: string, qualifier?: string): DomainError {
  return lambdaError('NotFound', 'ResourceNotFoundException', `Function not found: ${functionArn(name, LAMBDA_SCOPE, qualifier)}`, { functionName: name });
}

/** The fields of FunctionSettings a version freezes, taken from a record that has them. */
function settingsOf(record: FunctionSettings): FunctionSettings {
  const { runtime, handler, roleArn, description, timeoutSeconds, memorySizeMb, environment, ephemeralStorageMb, deadLetterTargetArn, code } = record;
  return { runtime, handler, roleArn, description, timeoutSeconds, memorySizeMb, environment, ephemeralStorageMb, code, ...(deadLetterTargetArn !== undefined ? { deadLetterTargetArn } : {}) };
}

/** Whether publishing `b` would freeze nothing new over `a`: everything but the description is the same. */
function sameSettings(a: FunctionSettings, b: FunctionSettings): boolean {
  const sortedEnvironment = (settings: FunctionSettings) => JSON.stringify(Object.entries(settings.environment).sort(([x], [y]) => (x < y ? -1 : 1)));
  return (
    a.runtime === b.runtime &&
    a.handler === b.handler &&
    a.roleArn === b.roleArn &&
    a.timeoutSeconds === b.timeoutSeconds &&
    a.memorySizeMb === b.memorySizeMb &&
    a.ephemeralStorageMb === b.ephemeralStorageMb &&
    a.deadLetterTargetArn === b.deadLetterTargetArn &&
    a.code.digest === b.code.digest &&
    sortedEnvironment(a) === sortedEnvironment(b)
  );
}

/**
 * Lambda's functions, versions and aliases. API calls record the desired
 * configuration and return at once; the function reconciler unpacks new code
 * and moves State and LastUpdateStatus along (Pending → Active, InProgress →
 * Successful), which is what the SDK waiters watch.
 */
export class FunctionService {
  readonly #deps: ControlDeps;
  readonly #code: FunctionCodeStore;
  readonly #checkRole: (roleArn: string) => void;
  readonly #kick: () => void;

  constructor(deps: ControlDeps, code: FunctionCodeStore, checkRole: (roleArn: string) => void, kick: () => void) {
    this.#deps = deps;
    this.#code = code;
    this.#checkRole = checkRole;
    this.#kick = kick;
  }

  async create(input: CreateFunctionInput): Promise<{ fn: LambdaFunction; version?: FunctionVersion }> {
    const { functionName } = parseFunctionName(input.name, undefined, LAMBDA_SCOPE);
    if (this.#deps.store.lambdaFunctions.get(functionName)) {
      throw alreadyExists(functionName);
    }
    const settingsInput = { ...DEFAULTS, ...input };
    checkSettings(settingsInput);
    this.#checkRole(input.roleArn);
    const code = await this.#code.accept(input.code);
    checkCodeStorage(this.totalCodeSize(), code.sizeBytes);
    const now = this.#deps.clock.now();
    const initial = initialFunctionState();
    const fn: LambdaFunction = {
      ...settingsOf({ ...settingsInput, code }),
      name: functionName,
      arn: functionArn(functionName, LAMBDA_SCOPE),
      state: initial.State,
      ...(initial.StateReason !== undefined ? { stateReason: initial.StateReason } : {}),
      ...(initial.StateReasonCode !== undefined ? { stateReasonCode: initial.StateReasonCode } : {}),
      createdAtMs: now,
      lastModifiedMs: now,
      revisionId: randomUUID(),
      nextVersion: 1,
      tags: { ...(input.tags ?? {}) },
      eventInvokeConfigs: {},
      provisionedConcurrency: {},
    };
    try {
      this.#deps.store.lambdaFunctions.create(fn);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'AlreadyExists') throw alreadyExists(functionName);
      throw error;
    }
    // Publish is part of this call: the version freezes the code being unpacked, without waiting for it.
    const version = input.publish ? this.#publish(this.get(functionName), {}) : undefined;
    this.#kick();
    return { fn: this.get(functionName), ...(version ? { version } : {}) };
  }

  get(name: string): LambdaFunction {
    const fn = this.#deps.store.lambdaFunctions.get(name);
    if (!fn) throw functionNotFound(name);
    return fn;
  }

  /** The function a name (any of Lambda's formats) and qualifier refer to; aliases resolve to their primary version. */
  resolve(nameOrArn: string, qualifier?: string): ResolvedFunction {
    const parsed = parseFunctionName(nameOrArn, qualifier, LAMBDA_SCOPE);
    const fn = this.get(parsed.functionName);
    const q = parsed.qualifier;
    if (q === undefined || q === '$LATEST') return { fn, settings: settingsOf(fn), version: '$LATEST' };
    if (isVersionNumber(q)) {
      const version = this.#deps.store.functionVersions.get(versionKey(fn.name, q));
      if (!version) throw functionNotFound(fn.name, q);
      return { fn, settings: settingsOf(version), version: q, versionRecord: version };
    }
    const alias = this.getAlias(fn.name, q);
    if (alias.functionVersion === '$LATEST') return { fn, settings: settingsOf(fn), version: '$LATEST', alias };
    const version = this.#deps.store.functionVersions.get(versionKey(fn.name, alias.functionVersion));
    if (!version) throw functionNotFound(fn.name, alias.functionVersion);
    return { fn, settings: settingsOf(version), version: alias.functionVersion, versionRecord: version, alias };
  }

  list(): LambdaFunction[] {
    return this.#deps.store.lambdaFunctions.list();
  }

  /** Bytes of every stored package, as GetAccountSettings reports TotalCodeSize: $LATEST's and every version's. */
  totalCodeSize(): number {
    let total = 0;
    for (const fn of this.list()) {
      total += fn.code.sizeBytes;
      for (const version of this.#deps.store.functionVersions.listForFunction(fn.name)) total += version.code.sizeBytes;
    }
    return total;
  }

  async updateCode(name: string, input: { code: CodeSource; publish?: boolean; revisionId?: string }): Promise<{ fn: LambdaFunction; version?: FunctionVersion }> {
    const current = this.#updatable(name, input.revisionId);
    const code = await this.#code.accept(input.code);
    checkCodeStorage(this.totalCodeSize() - current.code.sizeBytes, code.sizeBytes);
    this.#deps.store.lambdaFunctions.modify(current.name, (fn) => ({ ...this.#updating(fn), code }));
    const version = input.publish ? this.#publish(this.get(current.name), {}) : undefined;
    this.#kick();
    return { fn: this.get(current.name), ...(version ? { version } : {}) };
  }

  updateConfiguration(name: string, patch: FunctionSettingsInput, revisionId?: string): LambdaFunction {
    const current = this.#updatable(name, revisionId);
    const next = { ...settingsOf(current), ...Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) } as FunctionSettings;
    checkSettings(next);
    if (patch.roleArn !== undefined) this.#checkRole(patch.roleArn);
    const fn = this.#deps.store.lambdaFunctions.modify(current.name, (existing) => ({ ...this.#updating(existing), ...settingsOf({ ...next, code: existing.code }) }));
    this.#kick();
    return fn;
  }

  /** Deletes the function with its versions, aliases and queued events; with a qualifier, only that version. */
  delete(name: string, qualifier?: string): void {
    const parsed = parseFunctionName(name, qualifier, LAMBDA_SCOPE);
    const fn = this.get(parsed.functionName);
    const { store } = this.#deps;
    if (parsed.qualifier !== undefined) {
      if (parsed.qualifier === '$LATEST') {
        throw lambdaError('ValidationError', 'InvalidParameterValueException', '$LATEST version cannot be deleted without deleting the function.', { field: 'Qualifier' });
      }
      if (!isVersionNumber(parsed.qualifier)) {
        throw lambdaError('ValidationError', 'InvalidParameterValueException', `Qualifier ${parsed.qualifier} is not a version number: DeleteFunction deletes a version; delete an alias with DeleteAlias.`, { field: 'Qualifier' });
      }
      const users = store.functionAliases.listForFunction(fn.name).filter((alias) => alias.functionVersion === parsed.qualifier || alias.additionalVersionWeights?.[parsed.qualifier!] !== undefined);
      if (users.length > 0) {
        throw lambdaError('Conflict', 'ResourceConflictException', `Unable to delete version because the following aliases reference it: [${users.map((alias) => alias.name).join(', ')}]`);
      }
      if (!store.functionVersions.delete(versionKey(fn.name, parsed.qualifier))) throw functionNotFound(fn.name, parsed.qualifier);
      this.forgetQualifier(fn.name, parsed.qualifier);
      this.#kick();
      return;
    }
    // The function record goes first: once it is gone nothing resolves to the rest, even if a crash leaves some behind.
    store.lambdaFunctions.delete(fn.name);
    for (const alias of store.functionAliases.listForFunction(fn.name)) store.functionAliases.delete(alias.key);
    for (const version of store.functionVersions.listForFunction(fn.name)) store.functionVersions.delete(version.key);
    for (const status of ['queued', 'failed'] as const) {
      for (const event of store.asyncEvents.listByStatus(status)) if (event.functionName === fn.name) store.asyncEvents.delete(event.requestId);
    }
    this.#kick();
  }

  /**
   * Freezes $LATEST as the next version. As on Lambda, when neither code nor
   * configuration changed since the last version, that version is returned
   * instead of a new one.
   */
  publishVersion(name: string, input: { description?: string; codeSha256?: string; revisionId?: string }): FunctionVersion {
    const fn = this.get(name);
    if (input.revisionId !== undefined && input.revisionId !== fn.revisionId) throw revisionMismatch('GetFunction');
    if (input.codeSha256 !== undefined && input.codeSha256 !== fn.code.sha256Base64) {
      throw lambdaError('ValidationError', 'InvalidParameterValueException', `CodeSHA256 (${input.codeSha256}) is different from current CodeSHA256 in $LATEST (${fn.code.sha256Base64}). Please try again with the CodeSHA256 in $LATEST.`, { field: 'CodeSha256' });
    }
    canUpdate(stateFieldsOf(fn), fn.arn);
    return this.#publish(fn, input);
  }

  #publish(fn: LambdaFunction, input: { description?: string }): FunctionVersion {
    const latest = this.#deps.store.functionVersions.listForFunction(fn.name).sort((a, b) => Number(b.version) - Number(a.version))[0];
    if (latest && sameSettings(latest, fn)) return latest;
    // The number is taken before the version is written: a crash in between leaves a gap, never two versions on one number.
    const number = this.#deps.store.lambdaFunctions.modify(fn.name, (existing) => ({ ...existing, nextVersion: existing.nextVersion + 1 })).nextVersion - 1;
    const version: FunctionVersion = {
      ...settingsOf(fn),
      description: input.description ?? fn.description,
      key: versionKey(fn.name, String(number)),
      functionName: fn.name,
      version: String(number),
      publishedAtMs: this.#deps.clock.now(),
      revisionId: randomUUID(),
    };
    this.#deps.store.functionVersions.create(version);
    return version;
  }

  /** $LATEST first, then the published versions in order. */
  listVersions(name: string): { fn: LambdaFunction; versions: FunctionVersion[] } {
    const fn = this.get(name);
    const versions = this.#deps.store.functionVersions.listForFunction(fn.name).sort((a, b) => Number(a.version) - Number(b.version));
    return { fn, versions };
  }

  /** Drops what was configured for a version or alias that is gone: its provisioned concurrency and its async settings. */
  forgetQualifier(functionName: string, qualifier: string): void {
    this.#deps.store.lambdaFunctions.modify(functionName, (fn) => {
      const { [qualifier]: _provisioned, ...provisionedConcurrency } = fn.provisionedConcurrency;
      const { [qualifier]: _async, ...eventInvokeConfigs } = fn.eventInvokeConfigs;
      return { ...fn, provisionedConcurrency, eventInvokeConfigs };
    });
  }

  getAlias(functionName: string, aliasName: string): FunctionAlias {
    const fn = this.get(functionName);
    const alias = this.#deps.store.functionAliases.get(versionKey(fn.name, aliasName));
    if (!alias) throw lambdaError('NotFound', 'ResourceNotFoundException', `Cannot find alias arn: ${functionArn(fn.name, LAMBDA_SCOPE, aliasName)}`, { functionName: fn.name, alias: aliasName });
    return alias;
  }

  /** The function's versions by number, for alias checks. */
  publishedVersions(functionName: string): string[] {
    return this.#deps.store.functionVersions.listForFunction(functionName).map((version) => version.version);
  }

  #updatable(name: string, revisionId: string | undefined): LambdaFunction {
    const fn = this.get(parseFunctionName(name, undefined, LAMBDA_SCOPE).functionName);
    if (revisionId !== undefined && revisionId !== fn.revisionId) throw revisionMismatch('GetFunction');
    canUpdate(stateFieldsOf(fn), fn.arn);
    return fn;
  }

  #updating(fn: LambdaFunction): LambdaFunction {
    return { ...observe(fn, { kind: 'update-started' }), lastModifiedMs: this.#deps.clock.now(), revisionId: randomUUID() };
  }
}

function alreadyExists(functionName: string): DomainError {
  return lambdaError('AlreadyExists', 'ResourceConflictException', `Function already exist: ${functionName}`, { functionName });
}

export function revisionMismatch(getter: 'GetFunction' | 'GetAlias' | 'GetPolicy'): DomainError {
  return new DomainError('Conflict', `The Revision Id provided does not match the latest Revision Id. Call the ${getter} API to retrieve the latest Revision Id`, {
    lambdaError: 'PreconditionFailedException',
  });
}
