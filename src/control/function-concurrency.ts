import { DomainError } from '../core/errors.ts';
import type { LambdaFunction, ProvisionedConcurrency } from '../domain/functions/function.ts';
import { accountSettings, checkProvisionedConcurrency, checkReservedConcurrency, type AccountConcurrency } from '../domain/functions/concurrency.ts';
import { lambdaError } from '../domain/functions/lambda-errors.ts';
import type { ControlDeps } from './deps.ts';
import type { FunctionService } from './functions.ts';

/**
 * Reserved and provisioned concurrency as users configure them (desired
 * state), and the account's settings. The limiter that enforces them at
 * invocation time reads the same records.
 */
export class FunctionConcurrencyService {
  readonly #deps: ControlDeps;
  readonly #functions: FunctionService;
  readonly #kick: () => void;
  /** account() as of a revision of the functions' table: the limiter asks on every Invoke, and reading every function each time grew with their number. */
  #account: { revision: string; account: AccountConcurrency } | undefined;

  constructor(deps: ControlDeps, functions: FunctionService, kick: () => void) {
    this.#deps = deps;
    this.#functions = functions;
    this.#kick = kick;
  }

  /** What the account has configured: each function's reservation and its provisioned concurrency. */
  account(): AccountConcurrency {
    const revision = this.#deps.store.lambdaFunctions.revision();
    if (this.#account?.revision !== revision) this.#account = { revision, account: this.#readAccount() };
    return this.#account.account;
  }

  #readAccount(): AccountConcurrency {
    const reserved = new Map<string, number>();
    const provisioned = new Map<string, number>();
    for (const fn of this.#functions.list()) {
      if (fn.reservedConcurrency !== undefined) reserved.set(fn.name, fn.reservedConcurrency);
      const total = provisionedTotal(fn);
      if (total > 0) provisioned.set(fn.name, total);
    }
    return { reserved, provisioned };
  }

  putReserved(name: string, value: number): number {
    const fn = this.#functions.get(name);
    checkReservedConcurrency(this.#deps.functions.concurrency, this.account(), fn.name, value);
    this.#deps.store.lambdaFunctions.update(fn.name, { reservedConcurrency: value });
    return value;
  }

  getReserved(name: string): number | undefined {
    return this.#functions.get(name).reservedConcurrency;
  }

  deleteReserved(name: string): void {
    const fn = this.#functions.get(name);
    this.#deps.store.lambdaFunctions.modify(fn.name, ({ reservedConcurrency: _removed, ...rest }) => rest);
  }

  putProvisioned(name: string, qualifier: string, requested: number): ProvisionedConcurrency {
    const resolved = this.#functions.resolve(name, qualifier);
    if (resolved.version === '$LATEST') {
      throw lambdaError('ValidationError', 'InvalidParameterValueException', 'Provisioned Concurrency Configs cannot be applied to unpublished function versions.', { field: 'Qualifier' });
    }
    const fn = resolved.fn;
    checkProvisionedConcurrency(this.#deps.functions.concurrency, this.account(), fn.name, { requested, current: fn.provisionedConcurrency[qualifier]?.requested ?? 0 });
    const now = this.#deps.clock.now();
    const config: ProvisionedConcurrency = { requested, lastModifiedMs: now, status: 'IN_PROGRESS', allocated: 0, available: 0 };
    this.#deps.store.lambdaFunctions.modify(fn.name, (existing) => ({
      ...existing,
      provisionedConcurrency: { ...existing.provisionedConcurrency, [qualifier]: { ...(existing.provisionedConcurrency[qualifier] ?? config), requested, lastModifiedMs: now, status: 'IN_PROGRESS' } },
    }));
    this.#kick();
    return this.getProvisioned(fn.name, qualifier);
  }

  getProvisioned(name: string, qualifier: string): ProvisionedConcurrency {
    const fn = this.#functions.resolve(name, qualifier).fn;
    const config = fn.provisionedConcurrency[qualifier];
    if (!config) throw provisionedNotFound();
    return config;
  }

  deleteProvisioned(name: string, qualifier: string): void {
    const fn = this.#functions.resolve(name, qualifier).fn;
    if (!fn.provisionedConcurrency[qualifier]) throw provisionedNotFound();
    this.#deps.store.lambdaFunctions.modify(fn.name, (existing) => {
      const { [qualifier]: _removed, ...rest } = existing.provisionedConcurrency;
      return { ...existing, provisionedConcurrency: rest };
    });
    this.#kick();
  }

  listProvisioned(name: string): { qualifier: string; config: ProvisionedConcurrency }[] {
    const fn = this.#functions.get(name);
    return Object.entries(fn.provisionedConcurrency).map(([qualifier, config]) => ({ qualifier, config }));
  }

  accountSettings(): ReturnType<typeof accountSettings> {
    return accountSettings(this.#deps.functions.concurrency, this.account(), {
      totalCodeSize: this.#functions.totalCodeSize(),
      functionCount: this.#functions.list().length,
    });
  }
}

function provisionedTotal(fn: LambdaFunction): number {
  return Object.values(fn.provisionedConcurrency).reduce((sum, config) => sum + config.requested, 0);
}

function provisionedNotFound(): DomainError {
  return new DomainError('NotFound', 'No Provisioned Concurrency Config found for this function', { lambdaError: 'ProvisionedConcurrencyConfigNotFoundException' });
}
