import { randomUUID } from 'node:crypto';
import { DomainError } from '../core/errors.ts';
import type { EventInvokeConfig, LambdaFunction } from '../domain/functions/function.ts';
import { validateEventInvokeConfig } from '../domain/functions/async-retry.ts';
import { parseFunctionName } from '../domain/functions/function-names.ts';
import { addPermissionStatement, removePermissionStatement, type PermissionInput } from '../domain/functions/resource-policy.ts';
import type { ControlDeps } from './deps.ts';
import { LAMBDA_SCOPE, revisionMismatch, type FunctionService } from './functions.ts';

export type EventInvokeConfigInput = Omit<EventInvokeConfig, 'lastModifiedMs'>;

/**
 * What a function allows and how its async events are handled: the
 * resource-based policy (AddPermission, RemovePermission, GetPolicy), the
 * event invoke configs, and tags.
 */
export class FunctionPolicyService {
  readonly #deps: ControlDeps;
  readonly #functions: FunctionService;

  constructor(deps: ControlDeps, functions: FunctionService) {
    this.#deps = deps;
    this.#functions = functions;
  }

  addPermission(name: string, qualifier: string | undefined, input: PermissionInput, revisionId?: string): string {
    const resolved = this.#functions.resolve(name, qualifier);
    this.#checkRevision(resolved.fn, revisionId);
    const resource = qualifier === undefined ? resolved.fn.arn : `${resolved.fn.arn}:${qualifier}`;
    const { policy, statement } = addPermissionStatement(resolved.fn.policy, input, resource);
    this.#deps.store.lambdaFunctions.update(resolved.fn.name, { policy, revisionId: randomUUID() });
    return statement;
  }

  removePermission(name: string, qualifier: string | undefined, statementId: string, revisionId?: string): void {
    const resolved = this.#functions.resolve(name, qualifier);
    this.#checkRevision(resolved.fn, revisionId);
    const policy = removePermissionStatement(resolved.fn.policy, statementId);
    this.#deps.store.lambdaFunctions.modify(resolved.fn.name, (fn) => {
      const { policy: _old, ...rest } = fn;
      return { ...rest, ...(policy !== undefined ? { policy } : {}), revisionId: randomUUID() };
    });
  }

  getPolicy(name: string, qualifier?: string): { policy: string; revisionId: string } {
    const { fn } = this.#functions.resolve(name, qualifier);
    if (fn.policy === undefined) {
      throw new DomainError('NotFound', 'The resource you requested does not exist.', { functionName: fn.name });
    }
    return { policy: fn.policy, revisionId: fn.revisionId };
  }

  /** PutFunctionEventInvokeConfig replaces the settings; UpdateFunctionEventInvokeConfig (`merge`) changes only those given. */
  putEventInvokeConfig(name: string, qualifier: string | undefined, input: EventInvokeConfigInput, merge = false): EventInvokeConfig {
    const resolved = this.#functions.resolve(name, qualifier);
    const key = qualifier ?? '$LATEST';
    const existing = resolved.fn.eventInvokeConfigs[key];
    const next: EventInvokeConfig = { ...(merge && existing ? existing : {}), ...withoutUndefined(input), lastModifiedMs: this.#deps.clock.now() };
    validateEventInvokeConfig(next, this.#functionExists);
    this.#deps.store.lambdaFunctions.modify(resolved.fn.name, (fn) => ({ ...fn, eventInvokeConfigs: { ...fn.eventInvokeConfigs, [key]: next } }));
    return next;
  }

  getEventInvokeConfig(name: string, qualifier?: string): EventInvokeConfig {
    const { fn } = this.#functions.resolve(name, qualifier);
    const config = fn.eventInvokeConfigs[qualifier ?? '$LATEST'];
    if (!config) throw new DomainError('NotFound', `The function ${fn.arn} doesn't have an EventInvokeConfig`, { functionName: fn.name });
    return config;
  }

  deleteEventInvokeConfig(name: string, qualifier?: string): void {
    const { fn } = this.#functions.resolve(name, qualifier);
    const key = qualifier ?? '$LATEST';
    if (!fn.eventInvokeConfigs[key]) throw new DomainError('NotFound', `The function ${fn.arn} doesn't have an EventInvokeConfig`, { functionName: fn.name });
    this.#deps.store.lambdaFunctions.modify(fn.name, (record) => {
      const { [key]: _removed, ...rest } = record.eventInvokeConfigs;
      return { ...record, eventInvokeConfigs: rest };
    });
  }

  listEventInvokeConfigs(name: string): { qualifier: string; config: EventInvokeConfig }[] {
    const fn = this.#functions.get(name);
    return Object.entries(fn.eventInvokeConfigs).map(([qualifier, config]) => ({ qualifier, config }));
  }

  tag(arn: string, tags: Record<string, string>): void {
    const fn = this.#taggable(arn);
    this.#deps.store.lambdaFunctions.modify(fn.name, (record) => ({ ...record, tags: { ...record.tags, ...tags } }));
  }

  untag(arn: string, keys: readonly string[]): void {
    const fn = this.#taggable(arn);
    this.#deps.store.lambdaFunctions.modify(fn.name, (record) => ({ ...record, tags: Object.fromEntries(Object.entries(record.tags).filter(([key]) => !keys.includes(key))) }));
  }

  listTags(arn: string): Record<string, string> {
    return this.#taggable(arn).tags;
  }

  /** Tags belong to the function: Lambda takes only the unqualified ARN. */
  #taggable(arn: string): LambdaFunction {
    const parsed = parseFunctionName(arn, undefined, LAMBDA_SCOPE);
    if (parsed.qualifier !== undefined) {
      throw new DomainError('ValidationError', 'Tags are not supported on function versions or aliases: use the unqualified function ARN', { field: 'Resource' });
    }
    return this.#functions.get(parsed.functionName);
  }

  #functionExists = (arn: string): boolean => {
    try {
      this.#functions.resolve(arn);
      return true;
    } catch {
      return false;
    }
  };

  #checkRevision(fn: LambdaFunction, revisionId: string | undefined): void {
    if (revisionId !== undefined && revisionId !== fn.revisionId) throw revisionMismatch('GetPolicy');
  }
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
