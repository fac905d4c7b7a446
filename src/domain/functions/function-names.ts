import { DomainError } from '../../core/errors.ts';
import { invalidParameterValue, lambdaError, validationException } from './lambda-errors.ts';

/**
 * The ways a Lambda request names a function (API reference, "Name formats"):
 * `my-function`, `my-function:v1`, the full ARN
 * `arn:aws:lambda:us-east-1:000000000000:function:my-function[:qualifier]` and the partial ARN
 * `000000000000:function:my-function[:qualifier]`, with an optional `Qualifier` parameter beside.
 */

/** Where the function lives: Kennel serves one account in one region per server. */
export interface LambdaScope {
  region: string;
  accountId: string;
}

export interface FunctionRef {
  functionName: string;
  /** `$LATEST`, a version number or an alias name; absent when the request named none. */
  qualifier?: string;
}

export const LATEST = '$LATEST';
export const FUNCTION_NAME_MAX_LENGTH = 64;
/** A full ARN with a qualifier may be this long (the FunctionName shape's `max`). */
export const FUNCTION_REF_MAX_LENGTH = 140;
export const QUALIFIER_MAX_LENGTH = 128;
export const ALIAS_NAME_MAX_LENGTH = 128;

/** The FunctionName shape's pattern, quoted in Lambda's own validation messages. */
const FUNCTION_NAME_PATTERN_TEXT =
  '(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?';
const QUALIFIER_PATTERN_TEXT = '(|[a-zA-Z0-9$_-]+)';
const ALIAS_PATTERN_TEXT = '(?!^[0-9]+$)([a-zA-Z0-9-_]+)';

const NAME = /^[a-zA-Z0-9_-]+$/;
const NAME_QUALIFIER = /^(\$LATEST|[a-zA-Z0-9_-]+)$/;
const QUALIFIER_CHARACTERS = /^[a-zA-Z0-9$_-]+$/;
const VERSION = /^[0-9]+$/;
const ALIAS = /^(?!^[0-9]+$)[a-zA-Z0-9_-]+$/;
const PARTITION = /^aws[a-zA-Z-]*$/;
const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const ACCOUNT = /^\d{12}$/;

export function isVersionNumber(qualifier: string): boolean {
  return VERSION.test(qualifier);
}

export function isAliasName(qualifier: string): boolean {
  return qualifier.length <= ALIAS_NAME_MAX_LENGTH && ALIAS.test(qualifier);
}

export function functionArn(functionName: string, scope: LambdaScope, qualifier?: string): string {
  const arn = `arn:aws:lambda:${scope.region}:${scope.accountId}:function:${functionName}`;
  return qualifier === undefined ? arn : `${arn}:${qualifier}`;
}

/**
 * Resolves a FunctionName path parameter and the Qualifier query parameter to one
 * function and qualifier. ARNs of another region or account name functions this server
 * cannot hold, so they are NotFound, as Lambda reports a function it does not have: the
 * request is well formed, and a client that retries it elsewhere is right to.
 */
export function parseFunctionName(value: string, qualifier: string | undefined, scope: LambdaScope): FunctionRef {
  if (value.length > FUNCTION_REF_MAX_LENGTH) {
    throw validationException('FunctionName', value, 'functionName', `Member must have length less than or equal to ${FUNCTION_REF_MAX_LENGTH}`);
  }
  const parts = value.split(':');
  let name: string;
  let derived: string | undefined;
  let location: { partition: string; region: string; accountId: string } | undefined;
  if (parts[0] === 'arn' && (parts.length === 7 || parts.length === 8)) {
    const [, partition, service, region, accountId, resourceType] = parts;
    if (!PARTITION.test(partition) || service !== 'lambda' || !REGION.test(region) || !ACCOUNT.test(accountId) || resourceType !== 'function') {
      throw badFunctionName(value);
    }
    [name, derived] = [parts[6], parts[7]];
    location = { partition, region, accountId };
  } else if (ACCOUNT.test(parts[0]) && parts[1] === 'function' && (parts.length === 3 || parts.length === 4)) {
    [name, derived] = [parts[2], parts[3]];
    location = { partition: 'aws', region: scope.region, accountId: parts[0] };
  } else if (parts.length === 1 || parts.length === 2) {
    [name, derived] = [parts[0], parts[1]];
  } else {
    throw badFunctionName(value);
  }
  if (!NAME.test(name) || (derived !== undefined && !NAME_QUALIFIER.test(derived))) throw badFunctionName(value);
  if (name.length > FUNCTION_NAME_MAX_LENGTH) {
    throw validationException('FunctionName', name, 'functionName', `Member must have length less than or equal to ${FUNCTION_NAME_MAX_LENGTH}`);
  }
  const given = qualifier === undefined || qualifier === '' ? undefined : checkQualifierCharacters(qualifier);
  if (derived !== undefined && given !== undefined && derived !== given) {
    throw invalidParameterValue('The derived qualifier from the function name does not match the specified qualifier.', 'Qualifier');
  }
  const resolved = derived ?? given;
  if (resolved !== undefined) validateQualifier(resolved);
  if (location) checkLocation(name, resolved, location, scope);
  return resolved === undefined ? { functionName: name } : { functionName: name, qualifier: resolved };
}

/** A qualifier Lambda can resolve: `$LATEST`, a version number or an alias name. */
export function validateQualifier(qualifier: string): void {
  checkQualifierCharacters(qualifier);
  if (qualifier === LATEST || isVersionNumber(qualifier) || isAliasName(qualifier)) return;
  throw invalidParameterValue(
    `Invalid qualifier ${qualifier}: use $LATEST, a version number such as 3, or an alias name of up to ${ALIAS_NAME_MAX_LENGTH} letters, digits, hyphens and underscores that is not all digits`,
    'Qualifier',
  );
}

/** CreateAlias / UpdateAlias `Name`: letters, digits, `-` and `_`, 1–128 characters, not all digits (that would read as a version). */
export function validateAliasName(name: string): void {
  if (name.length < 1) throw validationException('Name', name, 'name', 'Member must have length greater than or equal to 1');
  if (name.length > ALIAS_NAME_MAX_LENGTH) {
    throw validationException('Name', name, 'name', `Member must have length less than or equal to ${ALIAS_NAME_MAX_LENGTH}`);
  }
  if (!ALIAS.test(name)) throw validationException('Name', name, 'name', `Member must satisfy regular expression pattern: ${ALIAS_PATTERN_TEXT}`);
}

function checkQualifierCharacters(qualifier: string): string {
  if (qualifier.length > QUALIFIER_MAX_LENGTH) {
    throw validationException('Qualifier', qualifier, 'qualifier', `Member must have length less than or equal to ${QUALIFIER_MAX_LENGTH}`);
  }
  if (!QUALIFIER_CHARACTERS.test(qualifier)) {
    throw validationException('Qualifier', qualifier, 'qualifier', `Member must satisfy regular expression pattern: ${QUALIFIER_PATTERN_TEXT}`);
  }
  return qualifier;
}

function checkLocation(
  name: string,
  qualifier: string | undefined,
  location: { partition: string; region: string; accountId: string },
  scope: LambdaScope,
): void {
  if (location.region !== scope.region) {
    throw notFound(`Functions from '${location.region}' are not reachable in this region ('${scope.region}')`);
  }
  if (location.partition !== 'aws' || location.accountId !== scope.accountId) {
    const arn = `arn:${location.partition}:lambda:${location.region}:${location.accountId}:function:${name}${qualifier === undefined ? '' : `:${qualifier}`}`;
    throw notFound(`Function not found: ${arn}`);
  }
}

function notFound(message: string): DomainError {
  return lambdaError('NotFound', 'ResourceNotFoundException', message, { field: 'FunctionName' });
}

function badFunctionName(value: string): DomainError {
  return validationException('FunctionName', value, 'functionName', `Member must satisfy regular expression pattern: ${FUNCTION_NAME_PATTERN_TEXT}`);
}
