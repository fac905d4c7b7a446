import { randomUUID } from 'node:crypto';
import { DomainError } from '../core/errors.ts';
import { versionKey, type FunctionAlias } from '../domain/functions/function.ts';
import { validateRoutingConfig } from '../domain/functions/alias-routing.ts';
import { lambdaError } from '../domain/functions/lambda-errors.ts';
import { functionArn, validateAliasName } from '../domain/functions/function-names.ts';
import type { ControlDeps } from './deps.ts';
import { LAMBDA_SCOPE, functionNotFound, revisionMismatch, type FunctionService } from './functions.ts';

export interface AliasInput {
  functionVersion?: string;
  description?: string;
  /** AdditionalVersionWeights: another version and its share of invocations; `{}` removes the split. */
  additionalVersionWeights?: Record<string, number>;
}

/** CreateAlias, UpdateAlias, GetAlias, ListAliases and DeleteAlias. */
export class AliasService {
  readonly #deps: ControlDeps;
  readonly #functions: FunctionService;

  constructor(deps: ControlDeps, functions: FunctionService) {
    this.#deps = deps;
    this.#functions = functions;
  }

  create(functionName: string, aliasName: string, input: AliasInput & { functionVersion: string }): FunctionAlias {
    const fn = this.#functions.get(functionName);
    validateAliasName(aliasName);
    const weights = this.#checkTarget(fn.name, input.functionVersion, input.additionalVersionWeights);
    const alias: FunctionAlias = {
      key: versionKey(fn.name, aliasName),
      functionName: fn.name,
      name: aliasName,
      functionVersion: input.functionVersion,
      description: input.description ?? '',
      ...(weights ? { additionalVersionWeights: weights } : {}),
      revisionId: randomUUID(),
    };
    try {
      this.#deps.store.functionAliases.create(alias);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'AlreadyExists') {
        throw lambdaError('AlreadyExists', 'ResourceConflictException', `Alias already exists: ${functionArn(fn.name, LAMBDA_SCOPE, aliasName)}`, { alias: aliasName });
      }
      throw error;
    }
    return alias;
  }

  update(functionName: string, aliasName: string, input: AliasInput, revisionId?: string): FunctionAlias {
    const current = this.#functions.getAlias(functionName, aliasName);
    if (revisionId !== undefined && revisionId !== current.revisionId) throw revisionMismatch('GetAlias');
    const functionVersion = input.functionVersion ?? current.functionVersion;
    const weights = this.#checkTarget(current.functionName, functionVersion, input.additionalVersionWeights ?? current.additionalVersionWeights);
    return this.#deps.store.functionAliases.modify(current.key, (alias) => {
      const { additionalVersionWeights: _dropped, ...rest } = alias;
      return {
        ...rest,
        functionVersion,
        description: input.description ?? alias.description,
        ...(weights ? { additionalVersionWeights: weights } : {}),
        revisionId: randomUUID(),
      };
    });
  }

  get(functionName: string, aliasName: string): FunctionAlias {
    return this.#functions.getAlias(functionName, aliasName);
  }

  list(functionName: string, functionVersion?: string): FunctionAlias[] {
    const fn = this.#functions.get(functionName);
    return this.#deps.store.functionAliases
      .listForFunction(fn.name)
      .filter((alias) => functionVersion === undefined || alias.functionVersion === functionVersion || alias.additionalVersionWeights?.[functionVersion] !== undefined);
  }

  /** Deleting an alias that does not exist succeeds, as on Lambda. */
  delete(functionName: string, aliasName: string): void {
    const fn = this.#functions.get(functionName);
    if (this.#deps.store.functionAliases.delete(versionKey(fn.name, aliasName))) this.#functions.forgetQualifier(fn.name, aliasName);
  }

  /** The alias's target checked, and the weights to store (none when everything goes to the primary version). */
  #checkTarget(functionName: string, functionVersion: string, weights: Record<string, number> | undefined): Record<string, number> | undefined {
    const published = this.#functions.publishedVersions(functionName);
    if (functionVersion !== '$LATEST' && !published.includes(functionVersion)) throw functionNotFound(functionName, functionVersion);
    return validateRoutingConfig(functionVersion, weights === undefined ? undefined : { AdditionalVersionWeights: weights }, {
      publishedVersions: published,
      functionArn: functionArn(functionName, LAMBDA_SCOPE),
    });
  }
}
