import { DomainError, type ErrorCode } from '../../core/errors.ts';

/**
 * Lambda answers one DomainError code with different exceptions (a malformed member is a
 * ValidationException, a well-formed but unacceptable one an InvalidParameterValueException),
 * and SDK code branches on the exception name. Domain errors carry it in
 * `details.lambdaError` so the REST-JSON codec can put it on the wire unchanged.
 */
export type LambdaErrorType =
  | 'ValidationException'
  | 'InvalidParameterValueException'
  | 'ResourceNotFoundException'
  | 'ResourceConflictException'
  | 'PolicyLengthExceededException'
  | 'CodeStorageExceededException'
  | 'RequestTooLargeException';

export function lambdaError(
  code: ErrorCode,
  lambdaErrorType: LambdaErrorType,
  message: string,
  details: Record<string, unknown> = {},
): DomainError {
  return new DomainError(code, message, { lambdaError: lambdaErrorType, ...details });
}

/** Lambda's wording for a member that breaks its service model: `1 validation error detected: Value 'x' at 'memorySize' failed to satisfy constraint: ...`. */
export function constraintMessage(value: unknown, member: string, constraint: string): string {
  return `1 validation error detected: Value '${String(value)}' at '${member}' failed to satisfy constraint: ${constraint}`;
}

/** A member outside its modelled range or pattern; `field` names it as the request does. */
export function validationException(field: string, value: unknown, member: string, constraint: string): DomainError {
  return lambdaError('ValidationError', 'ValidationException', constraintMessage(value, member, constraint), { field });
}

export function invalidParameterValue(message: string, field?: string): DomainError {
  return lambdaError('ValidationError', 'InvalidParameterValueException', message, field === undefined ? {} : { field });
}

/** The service model's `min`/`max` for an integer member, worded as Lambda words the one that was broken. */
export function checkIntegerRange(field: string, member: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value)) {
    throw validationException(field, value, member, 'Member must be an integer');
  }
  if (value < min) throw validationException(field, value, member, `Member must have value greater than or equal to ${min}`);
  if (value > max) throw validationException(field, value, member, `Member must have value less than or equal to ${max}`);
}
