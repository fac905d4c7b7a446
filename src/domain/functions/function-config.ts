import { checkIntegerRange, invalidParameterValue, lambdaError, validationException } from './lambda-errors.ts';

/**
 * A function's configuration checked as CreateFunction and UpdateFunctionConfiguration
 * check it, in Lambda's words, so a template or script that AWS would refuse is refused
 * here the same way instead of deploying clean and failing in the account.
 */

export const MEMORY_SIZE_MB = { min: 128, max: 10240 } as const;
export const TIMEOUT_SECONDS = { min: 1, max: 900 } as const;
export const HANDLER_MAX_LENGTH = 128;
/** Lambda measures the Variables map as compact JSON: keys, values, quotes, commas and braces. */
export const ENVIRONMENT_MAX_BYTES = 4096;

/** GetAccountSettings' AccountLimit code sizes, in bytes, as Lambda reports them. */
export const CODE_LIMITS = {
  /** A deployment package uploaded directly (ZipFile). */
  codeSizeZipped: 52_428_800,
  /** A function's code and layers once extracted. */
  codeSizeUnzipped: 262_144_000,
  /** Every deployment package and layer of the account together (75 GB). */
  totalCodeSize: 80_530_636_800,
} as const;

/**
 * The variables Lambda sets in every execution environment and refuses from users
 * (Developer Guide, "Defined runtime environment variables"). TZ, LANG, PATH and the
 * AWS_XRAY_* and AWS_LAMBDA_EXEC_WRAPPER variables are documented as not reserved, so they
 * are not here. `_HANDLER` and `_X_AMZN_TRACE_ID` cannot be written at all: keys must
 * start with a letter.
 */
export const RESERVED_ENVIRONMENT_KEYS: readonly string[] = [
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
];
const RESERVED = new Set(RESERVED_ENVIRONMENT_KEYS);

const HANDLER = /^[^\s]+$/;
/** The EnvironmentVariableName pattern: at least two characters. */
const ENVIRONMENT_KEY = /^[a-zA-Z][a-zA-Z0-9_]+$/;
const ROLE_ARN_PATTERN_TEXT = 'arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+';
const ROLE_ARN = /^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;

/** The members of CreateFunction / UpdateFunctionConfiguration this file checks, as the request spells them. */
export interface FunctionConfigInput {
  MemorySize?: number;
  Timeout?: number;
  Handler?: string;
  Runtime?: string;
  Role?: string;
  Environment?: { Variables?: Readonly<Record<string, string>> };
}

/**
 * Checks every member the request carries and throws the first problem: malformed members
 * (ValidationException) before unacceptable values (InvalidParameterValueException), as
 * Lambda checks a request's shape before its meaning.
 */
export function validateFunctionConfig(input: FunctionConfigInput, options: { supportedRuntimes: readonly string[] }): void {
  if (input.Role !== undefined) validateRoleArn(input.Role);
  if (input.Timeout !== undefined) validateTimeout(input.Timeout);
  if (input.MemorySize !== undefined) validateMemorySize(input.MemorySize);
  if (input.Handler !== undefined) validateHandler(input.Handler);
  if (input.Environment?.Variables !== undefined) validateEnvironmentVariables(input.Environment.Variables);
  if (input.Runtime !== undefined) validateRuntime(input.Runtime, options.supportedRuntimes);
}

export function validateMemorySize(memorySizeMb: number): void {
  checkIntegerRange('MemorySize', 'memorySize', memorySizeMb, MEMORY_SIZE_MB.min, MEMORY_SIZE_MB.max);
}

export function validateTimeout(timeoutSeconds: number): void {
  checkIntegerRange('Timeout', 'timeout', timeoutSeconds, TIMEOUT_SECONDS.min, TIMEOUT_SECONDS.max);
}

export function validateHandler(handler: string): void {
  if (handler.length > HANDLER_MAX_LENGTH) {
    throw validationException('Handler', handler, 'handler', `Member must have length less than or equal to ${HANDLER_MAX_LENGTH}`);
  }
  if (!HANDLER.test(handler)) throw validationException('Handler', handler, 'handler', 'Member must satisfy regular expression pattern: [^\\s]+');
}

export function validateRoleArn(role: string): void {
  if (!ROLE_ARN.test(role)) {
    throw validationException('Role', role, 'role', `Member must satisfy regular expression pattern: ${ROLE_ARN_PATTERN_TEXT}`);
  }
}

/** Lambda lists the runtimes it accepts; Kennel lists those it ships a bootstrap for. */
export function validateRuntime(runtime: string, supportedRuntimes: readonly string[]): void {
  if (supportedRuntimes.includes(runtime)) return;
  throw invalidParameterValue(
    `Value ${runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [${supportedRuntimes.join(', ')}] or be a valid ARN`,
    'Runtime',
  );
}

/**
 * Keys first (a malformed key is a ValidationException that names no value: Lambda treats
 * variables as sensitive), then reserved keys, then the 4 KB total. Lambda's size message
 * ends by quoting the whole map; Kennel quotes its size instead, because the values are
 * often secrets and error messages end up in logs.
 */
export function validateEnvironmentVariables(variables: Readonly<Record<string, string>>): void {
  const keys = Object.keys(variables);
  if (keys.some((key) => !ENVIRONMENT_KEY.test(key))) {
    throw lambdaError(
      'ValidationError',
      'ValidationException',
      "1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]",
      { field: 'Environment.Variables' },
    );
  }
  const reserved = keys.filter((key) => RESERVED.has(key));
  if (reserved.length > 0) {
    throw invalidParameterValue(
      `Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(', ')}`,
      'Environment.Variables',
    );
  }
  const size = environmentSize(variables);
  if (size > ENVIRONMENT_MAX_BYTES) {
    throw invalidParameterValue(
      `Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. Size measured: ${size} bytes of JSON, over the limit of ${ENVIRONMENT_MAX_BYTES}`,
      'Environment.Variables',
    );
  }
}

/** The size Lambda measures: the UTF-8 bytes of the map written as compact JSON. */
export function environmentSize(variables: Readonly<Record<string, string>>): number {
  return new TextEncoder().encode(JSON.stringify(variables)).length;
}

/** A function's code and layers once extracted may not reach CodeSizeUnzipped. */
export function checkUnzippedCodeSize(unzippedBytes: number): void {
  if (unzippedBytes >= CODE_LIMITS.codeSizeUnzipped) {
    throw invalidParameterValue(`Unzipped size must be smaller than ${CODE_LIMITS.codeSizeUnzipped} bytes`, 'Code');
  }
}

/**
 * Refuses new code that would take the account's stored deployment packages past the
 * limit (TotalCodeSize by default). Every published version keeps its package, so
 * deleting old versions is what frees space.
 */
export function checkCodeStorage(totalBytes: number, addingBytes: number, limitBytes: number = CODE_LIMITS.totalCodeSize): void {
  if (totalBytes + addingBytes > limitBytes) {
    throw lambdaError('LimitExceeded', 'CodeStorageExceededException', 'Code storage limit exceeded.', {
      totalCodeSize: totalBytes,
      addingBytes,
      limitBytes,
    });
  }
}
