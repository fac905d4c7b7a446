import type { DomainError } from '../../core/errors.ts';
import { LATEST, validateQualifier } from './function-names.ts';
import { invalidParameterValue, lambdaError, validationException } from './lambda-errors.ts';

/**
 * A function's resource-based policy as AddPermission, RemovePermission and GetPolicy keep
 * it: one document per version or alias (and one for the unqualified function), written
 * exactly as Lambda writes it so GetPolicy output compares equal, and shaped so that
 * Kennel's IAM evaluator reads it as a resource policy.
 */

export type LambdaPolicyPrincipal = '*' | { Service: string } | { AWS: string };

export interface LambdaPolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Principal: LambdaPolicyPrincipal;
  Action: string;
  Resource: string;
  Condition?: { StringEquals?: Record<string, string>; ArnLike?: Record<string, string> };
}

export interface LambdaResourcePolicy {
  Version: '2012-10-17';
  Id: 'default';
  Statement: LambdaPolicyStatement[];
}

/** AddPermission's members, as the request spells them. */
export interface AddPermissionInput {
  StatementId: string;
  Action: string;
  Principal: string;
  SourceArn?: string;
  SourceAccount?: string;
  PrincipalOrgID?: string;
  FunctionUrlAuthType?: string;
  Qualifier?: string;
}

/** Lambda's limit on one policy document, in bytes of its JSON. */
export const POLICY_MAX_BYTES = 20_480;
export const STATEMENT_ID_MAX_LENGTH = 100;

const STATEMENT_ID = /^[a-zA-Z0-9_-]+$/;
const ACTION = /^(lambda:\*|lambda:[a-zA-Z]+|\*)$/;
const SOURCE_ACCOUNT = /^\d{12}$/;
const SOURCE_ARN = /^arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9-])+:([a-z]{2}(-gov)?-[a-z]+-\d)?:(\d{12})?:(.*)$/;
const PRINCIPAL_ORG_ID = /^o-[a-z0-9]{10,32}$/;
const SERVICE_PRINCIPAL = /^[a-z0-9.-]+\.amazonaws\.com$/;
const IAM_PRINCIPAL_ARN = /^arn:aws:(iam|sts)::\d{12}:.+$/;
const FUNCTION_URL_AUTH_TYPES = ['NONE', 'AWS_IAM'];

/**
 * The policy after AddPermission; the new statement is the last one. `functionArn` is the
 * unqualified ARN: a Qualifier makes the statement's Resource that version or alias.
 */
export function addPermissionStatement(policy: LambdaResourcePolicy | undefined, input: AddPermissionInput, functionArn: string): LambdaResourcePolicy {
  const statement = permissionStatement(input, functionArn);
  if (policy?.Statement.some((existing) => existing.Sid === statement.Sid)) {
    throw lambdaError(
      'AlreadyExists',
      'ResourceConflictException',
      `The statement id (${statement.Sid}) provided already exists. Please provide a new statement id, or remove the existing statement.`,
      { field: 'StatementId' },
    );
  }
  const next: LambdaResourcePolicy = { Version: '2012-10-17', Id: 'default', Statement: [...(policy?.Statement ?? []), statement] };
  const size = policySize(next);
  if (size > POLICY_MAX_BYTES) {
    throw lambdaError('LimitExceeded', 'PolicyLengthExceededException', `The final policy size (${size}) is bigger than the limit (${POLICY_MAX_BYTES}).`, {
      policySize: size,
      limitBytes: POLICY_MAX_BYTES,
    });
  }
  return next;
}

/** The statement AddPermission adds, as its response's `Statement` quotes it. */
export function permissionStatement(input: AddPermissionInput, functionArn: string): LambdaPolicyStatement {
  const { StatementId, Action, Principal, SourceArn, SourceAccount, PrincipalOrgID, FunctionUrlAuthType, Qualifier } = input;
  if (StatementId.length < 1 || StatementId.length > STATEMENT_ID_MAX_LENGTH) {
    throw validationException('StatementId', StatementId, 'statementId', `Member must have length ${StatementId.length < 1 ? 'greater than or equal to 1' : `less than or equal to ${STATEMENT_ID_MAX_LENGTH}`}`);
  }
  if (!STATEMENT_ID.test(StatementId)) {
    throw validationException('StatementId', StatementId, 'statementId', 'Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)');
  }
  if (!ACTION.test(Action)) {
    throw validationException('Action', Action, 'action', 'Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])');
  }
  if (SourceAccount !== undefined && !SOURCE_ACCOUNT.test(SourceAccount)) {
    throw validationException('SourceAccount', SourceAccount, 'sourceAccount', 'Member must satisfy regular expression pattern: \\d{12}');
  }
  if (SourceArn !== undefined && !SOURCE_ARN.test(SourceArn)) {
    throw validationException(
      'SourceArn',
      SourceArn,
      'sourceArn',
      'Member must satisfy regular expression pattern: arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}(-gov)?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)',
    );
  }
  if (PrincipalOrgID !== undefined && !PRINCIPAL_ORG_ID.test(PrincipalOrgID)) {
    throw validationException('PrincipalOrgID', PrincipalOrgID, 'principalOrgID', 'Member must satisfy regular expression pattern: ^o-[a-z0-9]{10,32}$');
  }
  if (FunctionUrlAuthType !== undefined && !FUNCTION_URL_AUTH_TYPES.includes(FunctionUrlAuthType)) {
    throw validationException('FunctionUrlAuthType', FunctionUrlAuthType, 'functionUrlAuthType', 'Member must satisfy enum value set: [NONE, AWS_IAM]');
  }
  if (Qualifier !== undefined) {
    validateQualifier(Qualifier);
    if (Qualifier === LATEST) throw invalidParameterValue('We currently do not support adding policies for $LATEST.', 'Qualifier');
  }
  const stringEquals: Record<string, string> = {};
  if (FunctionUrlAuthType !== undefined) stringEquals['lambda:FunctionUrlAuthType'] = FunctionUrlAuthType;
  if (PrincipalOrgID !== undefined) stringEquals['aws:PrincipalOrgID'] = PrincipalOrgID;
  if (SourceAccount !== undefined) stringEquals['AWS:SourceAccount'] = SourceAccount;
  const condition: NonNullable<LambdaPolicyStatement['Condition']> = {};
  if (Object.keys(stringEquals).length > 0) condition.StringEquals = stringEquals;
  if (SourceArn !== undefined) condition.ArnLike = { 'AWS:SourceArn': SourceArn };
  return {
    Sid: StatementId,
    Effect: 'Allow',
    Principal: policyPrincipal(Principal),
    Action,
    Resource: Qualifier === undefined ? functionArn : `${functionArn}:${Qualifier}`,
    ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
  };
}

/** The policy after RemovePermission; undefined once its last statement is gone, as Lambda then has no policy. */
export function removePermissionStatement(policy: LambdaResourcePolicy | undefined, statementId: string): LambdaResourcePolicy | undefined {
  if (policy === undefined) throw notFound('No policy is associated with the given resource.');
  const remaining = policy.Statement.filter((statement) => statement.Sid !== statementId);
  if (remaining.length === policy.Statement.length) throw notFound(`Statement ${statementId} is not found in resource policy.`);
  return remaining.length === 0 ? undefined : { ...policy, Statement: remaining };
}

/** GetPolicy's `Policy`: the document as a JSON string. */
export function policyText(policy: LambdaResourcePolicy | undefined): string {
  if (policy === undefined) throw notFound('The resource you requested does not exist.');
  return JSON.stringify(policy);
}

/** The size Lambda holds against POLICY_MAX_BYTES: UTF-8 bytes of the compact JSON. */
export function policySize(policy: LambdaResourcePolicy): number {
  return new TextEncoder().encode(JSON.stringify(policy)).length;
}

/** How Lambda writes the Principal it was given: a service, an account (as its root), an IAM ARN, or everyone. */
function policyPrincipal(principal: string): LambdaPolicyPrincipal {
  if (principal === '*') return '*';
  if (SOURCE_ACCOUNT.test(principal)) return { AWS: `arn:aws:iam::${principal}:root` };
  if (SERVICE_PRINCIPAL.test(principal)) return { Service: principal };
  if (IAM_PRINCIPAL_ARN.test(principal)) return { AWS: principal };
  throw invalidParameterValue('The provided principal was invalid. Please check the principal and try again.', 'Principal');
}

function notFound(message: string): DomainError {
  return lambdaError('NotFound', 'ResourceNotFoundException', message);
}
