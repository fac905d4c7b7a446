import { randomUUID } from 'node:crypto';
import { DomainError } from '../core/errors.ts';
import type { EventInvokeConfig, LambdaFunction } from '../domain/functions/function.ts';
import { validateEventInvokeConfig, type EventInvokeConfigInput } from '../domain/functions/async-retry.ts';
import { parseFunctionName } from '../domain/functions/function-names.ts';
import { lambdaError } from '../domain/functions/lambda-errors.ts';
import { addPermissionStatement, policyText, removePermissionStatement, type AddPermissionInput, type LambdaPolicyStatement, type LambdaResourcePolicy } from '../domain/functions/resource-policy.ts';
import type { ControlDeps } from './deps.ts';
import type { ExecutionRoles } from './function-roles.ts';
import { LAMBDA_SCOPE, revisionMismatch, type FunctionService } from './functions.ts';

/**
 * What a function allows and how its async events are handled: the
 * resource-based policy (AddPermission, RemovePermission, GetPolicy), the
 * event invoke configs, and tags.
 */
export class FunctionPolicyService {
  readonly #deps: ControlDeps;
  readonly #functions: FunctionService;
  readonly #roles: Pick<ExecutionRoles, 'mayInvoke'>;

  constructor(deps: ControlDeps, functions: FunctionService, roles: Pick<ExecutionRoles, 'mayInvoke'>) {
    this.#deps = deps;
    this.#functions = functions;
    this.#roles = roles;
  }

  /** Adds the statement to the qualifier's policy and returns it as JSON, as AddPermission answers. */
  addPermission(name: string, qualifier: string | undefined, input: AddPermissionInput, revisionId?: string): string {
    const document = this.#document(name, qualifier);
    this.#checkRevision(document.fn, revisionId);
    // Checked against the whole stored document, which the authorizer reads as one policy: its Sids stay unique.
    const policy = addPermissionStatement(policyOf(document.fn), { ...input, ...(document.qualifier !== undefined ? { Qualifier: document.qualifier } : {}) }, document.fn.arn);
    this.#deps.store.lambdaFunctions.update(document.fn.name, { policy: policyText(policy), revisionId: randomUUID() });
    return JSON.stringify(policy.Statement[policy.Statement.length - 1]);
  }

  removePermission(name: string, qualifier: string | undefined, statementId: string, revisionId?: string): void {
    const document = this.#document(name, qualifier);
    this.#checkRevision(document.fn, revisionId);
    const remaining = merged(document.others, removePermissionStatement(document.own, statementId));
    const policy = remaining === undefined ? undefined : policyText(remaining);
    this.#deps.store.lambdaFunctions.modify(document.fn.name, (fn) => {
      const { policy: _old, ...rest } = fn;
      return { ...rest, ...(policy !== undefined ? { policy } : {}), revisionId: randomUUID() };
    });
  }

  getPolicy(name: string, qualifier?: string): { policy: string; revisionId: string } {
    const { fn, own } = this.#document(name, qualifier);
    if (own === undefined) {
      throw lambdaError('NotFound', 'ResourceNotFoundException', 'The resource you requested does not exist.', { functionName: fn.name });
    }
    return { policy: policyText(own), revisionId: fn.revisionId };
  }

  /**
   * Lambda keeps one policy per version or alias and one for the unqualified function. Kennel
   * stores their statements in one document, each naming its own Resource, so the authorizer
   * reads it whole; AddPermission, RemovePermission and GetPolicy see the qualifier's statements only.
   */
  #document(name: string, qualifier: string | undefined): { fn: LambdaFunction; qualifier?: string; own?: LambdaResourcePolicy; others: LambdaPolicyStatement[] } {
    const { fn } = this.#functions.resolve(name, qualifier);
    const given = parseFunctionName(name, qualifier, LAMBDA_SCOPE).qualifier;
    const resource = given === undefined ? fn.arn : `${fn.arn}:${given}`;
    const statements = policyOf(fn)?.Statement ?? [];
    const own = statements.filter((statement) => statement.Resource === resource);
    return {
      fn,
      ...(given !== undefined ? { qualifier: given } : {}),
      ...(own.length > 0 ? { own: { Version: '2012-10-17', Id: 'default', Statement: own } } : {}),
      others: statements.filter((statement) => statement.Resource !== resource),
    };
  }

  /** PutFunctionEventInvokeConfig replaces the settings; UpdateFunctionEventInvokeConfig (`merge`) changes only those given. */
  putEventInvokeConfig(name: string, qualifier: string | undefined, input: EventInvokeConfigInput, merge = false): EventInvokeConfig {
    const resolved = this.#functions.resolve(name, qualifier);
    const key = eventInvokeQualifier(name, qualifier);
    const change = validateEventInvokeConfig(input, { functionName: resolved.fn.name, scope: LAMBDA_SCOPE });
    for (const destination of [change.onSuccess, change.onFailure]) {
      if (typeof destination === 'string') this.#checkDestination(destination, resolved.settings.roleArn);
    }
    const existing = resolved.fn.eventInvokeConfigs[key];
    // UpdateFunctionEventInvokeConfig changes a configuration; PutFunctionEventInvokeConfig is what makes one.
    if (merge && existing === undefined) throw noEventInvokeConfig(resolved.fn.arn);
    const base: Partial<EventInvokeConfig> = merge ? { ...existing } : {};
    for (const [field, value] of Object.entries(change) as [keyof EventInvokeConfig, unknown][]) {
      if (value === null) delete base[field];
      else if (value !== undefined) (base as Record<string, unknown>)[field] = value;
    }
    const next: EventInvokeConfig = { ...base, lastModifiedMs: this.#deps.clock.now() };
    this.#deps.store.lambdaFunctions.modify(resolved.fn.name, (fn) => ({ ...fn, eventInvokeConfigs: { ...fn.eventInvokeConfigs, [key]: next } }));
    return next;
  }

  getEventInvokeConfig(name: string, qualifier?: string): EventInvokeConfig {
    const { fn } = this.#functions.resolve(name, qualifier);
    const config = fn.eventInvokeConfigs[eventInvokeQualifier(name, qualifier)];
    if (!config) throw noEventInvokeConfig(fn.arn);
    return config;
  }

  deleteEventInvokeConfig(name: string, qualifier?: string): void {
    const { fn } = this.#functions.resolve(name, qualifier);
    const key = eventInvokeQualifier(name, qualifier);
    if (!fn.eventInvokeConfigs[key]) throw noEventInvokeConfig(fn.arn);
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
      throw lambdaError('ValidationError', 'InvalidParameterValueException', 'Tags are not supported on function versions or aliases: use the unqualified function ARN', { field: 'Resource' });
    }
    return this.#functions.get(parsed.functionName);
  }

  /** Lambda sends a destination its records as the function's execution role, so it refuses one the role may not invoke. */
  #checkDestination(arn: string, roleArn: string): void {
    const refused = (why: string) => lambdaError('ValidationError', 'InvalidParameterValueException', `The destination ARN ${arn} is invalid: ${why}`, { field: 'DestinationConfig' });
    let target: LambdaFunction;
    try {
      target = this.#functions.resolve(arn).fn;
    } catch {
      throw refused('the function does not exist.');
    }
    if (!this.#roles.mayInvoke(roleArn, arn, target)) throw refused(`the function's execution role ${roleArn} is not allowed lambda:InvokeFunction on it.`);
  }

  #checkRevision(fn: LambdaFunction, revisionId: string | undefined): void {
    if (revisionId !== undefined && revisionId !== fn.revisionId) throw revisionMismatch('GetPolicy');
  }
}

/** The qualifier an event invoke config belongs to, given in the function name (`my-function:live`) or in Qualifier; $LATEST when neither. */
export function eventInvokeQualifier(name: string, qualifier: string | undefined): string {
  return parseFunctionName(name, qualifier, LAMBDA_SCOPE).qualifier ?? '$LATEST';
}

/** The stored document: the other qualifiers' statements and this one's policy; none once both are empty. */
function merged(others: LambdaPolicyStatement[], own: LambdaResourcePolicy | undefined): LambdaResourcePolicy | undefined {
  const statements = [...others, ...(own?.Statement ?? [])];
  return statements.length === 0 ? undefined : { Version: '2012-10-17', Id: 'default', Statement: statements };
}

function policyOf(fn: LambdaFunction): LambdaResourcePolicy | undefined {
  return fn.policy === undefined ? undefined : (JSON.parse(fn.policy) as LambdaResourcePolicy);
}

function noEventInvokeConfig(functionArn: string): DomainError {
  return lambdaError('NotFound', 'ResourceNotFoundException', `The function ${functionArn} doesn't have an EventInvokeConfig`);
}
