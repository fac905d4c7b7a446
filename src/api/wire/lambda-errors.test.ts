import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Context } from 'hono';
import { DomainError, ERROR_CODES, type ErrorCode } from '../../core/errors.ts';
import { loadServiceModel } from '../aws/service-model.ts';
import type { ApiEnv } from '../env.ts';
import { CONTROL_MAX_BYTES } from '../middleware/payload-limit/index.ts';
import { AWS_AUTH_ERRORS } from './aws-auth-errors.ts';
import { CODE_UPLOAD_MAX_BYTES, INVOKE_EVENT_MAX_BYTES, INVOKE_MAX_BYTES, lambdaError, lambdaMaxBodyBytes, lambdaProtocolError, lambdaWire } from './lambda-errors.ts';

const model = loadServiceModel('lambda');
const modelStatus = (type: string) => (model.shapes[type] as { error?: { httpStatusCode?: number } } | undefined)?.error?.httpStatusCode;

const EXPECTED: Record<ErrorCode, [string, number]> = {
  ValidationError: ['InvalidParameterValueException', 400],
  NotFound: ['ResourceNotFoundException', 404],
  AlreadyExists: ['ResourceConflictException', 409],
  Conflict: ['ResourceConflictException', 409],
  LimitExceeded: ['TooManyRequestsException', 429],
  PayloadTooLarge: ['RequestTooLargeException', 413],
  UnsupportedMediaType: ['UnsupportedMediaTypeException', 415],
  ModelError: ['InvalidParameterValueException', 400],
  UrlRefused: ['InvalidParameterValueException', 400],
  UrlFetchFailed: ['InvalidParameterValueException', 400],
  ServiceUnavailable: ['ResourceNotReadyException', 502],
  MissingAuthenticationToken: ['MissingAuthenticationTokenException', 403],
  UnrecognizedClient: ['UnrecognizedClientException', 403],
  IncompleteSignature: ['IncompleteSignatureException', 400],
  InvalidSignature: ['InvalidSignatureException', 403],
  ExpiredToken: ['ExpiredTokenException', 403],
  AccessDenied: ['AccessDeniedException', 403],
  MalformedPolicyDocument: ['InvalidParameterValueException', 400],
  Offline: ['InvalidParameterValueException', 400],
  Internal: ['ServiceException', 500],
};

function withHeaders(headers: Record<string, string>): Context<ApiEnv> {
  return { req: { header: (name: string) => headers[name.toLowerCase()] } } as unknown as Context<ApiEnv>;
}

describe('Lambda errors', () => {
  it('maps every DomainError code to its Lambda exception, with the status the model declares', () => {
    for (const code of ERROR_CODES) {
      const [type, status] = EXPECTED[code];
      const error = lambdaError(new DomainError(code, `a ${code}`));
      assert.equal(error.type, type, code);
      assert.equal(error.status, status, code);
      assert.equal(error.message, `a ${code}`);
      assert.deepEqual(error.fields, { Type: status < 500 ? 'User' : 'Service' }, code);
      const declared = modelStatus(type);
      if (declared !== undefined) assert.equal(status, declared, `${type} in the model`);
    }
    for (const [code, { type, status }] of Object.entries(AWS_AUTH_ERRORS)) assert.deepEqual([lambdaError(new DomainError(code as ErrorCode, 'x')).type, status], [type, status]);
  });

  it("carries a throttle's Reason in the body and retryAfterSeconds as Retry-After, in whole seconds", () => {
    const throttle = lambdaError(new DomainError('LimitExceeded', 'Rate Exceeded.', { reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', retryAfterSeconds: 1.2 }));
    assert.deepEqual(throttle, {
      status: 429,
      type: 'TooManyRequestsException',
      message: 'Rate Exceeded.',
      fields: { Type: 'User', Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' },
      headers: { 'Retry-After': '2' },
    });
    assert.equal(lambdaError(new DomainError('LimitExceeded', 'x')).headers, undefined);
  });

  it('takes the exception its details name, then the one the operation declares, then the code\'s', () => {
    const named = (code: ErrorCode, type: string, declared?: string) => lambdaError(new DomainError(code, 'm', { lambdaError: type }), declared);
    assert.deepEqual([named('LimitExceeded', 'CodeStorageExceededException').type, named('LimitExceeded', 'CodeStorageExceededException').status], ['CodeStorageExceededException', 400]);
    assert.deepEqual([named('Conflict', 'PreconditionFailedException').type, named('Conflict', 'PreconditionFailedException').status], ['PreconditionFailedException', 412]);
    const service = named('ServiceUnavailable', 'ServiceException');
    assert.deepEqual([service.type, service.status, service.fields?.Type], ['ServiceException', 500, 'Service']);
    assert.equal(named('NotFound', 'ProvisionedConcurrencyConfigNotFoundException', 'ResourceNotFoundException').type, 'ProvisionedConcurrencyConfigNotFoundException');
    assert.equal(named('NotFound', 'NoSuchThingException').type, 'ResourceNotFoundException');
    assert.equal(lambdaError(new DomainError('NotFound', 'm'), 'ProvisionedConcurrencyConfigNotFoundException').type, 'ProvisionedConcurrencyConfigNotFoundException');
    assert.equal(lambdaError(new DomainError('NotFound', 'm'), 'NoSuchThingException').type, 'ResourceNotFoundException');
  });

  it("answers the protocol's own refusals in Lambda's words", () => {
    assert.deepEqual(lambdaProtocolError({ kind: 'UnknownOperation', message: 'No Lambda operation at GET /x' }), {
      status: 404,
      type: 'UnknownOperationException',
      message: 'No Lambda operation at GET /x',
      fields: { Type: 'User' },
    });
    const unreadable = lambdaProtocolError({ kind: 'UnreadableBody', message: 'Unexpected end of JSON input' });
    assert.deepEqual([unreadable.status, unreadable.type, unreadable.message], [400, 'InvalidRequestContentException', 'Could not parse request body into json: Unexpected end of JSON input']);
    const invalid = lambdaProtocolError({ kind: 'InvalidInput', message: '1 validation error detected: ...' });
    assert.deepEqual([invalid.status, invalid.type], [400, 'ValidationException']);
  });

  it('names each body limit as Lambda does', () => {
    const tooLarge = (operationName: string, maxBytes: number, contentLength?: number) => {
      const error = lambdaProtocolError({ kind: 'BodyTooLarge', operationName, maxBytes, ...(contentLength === undefined ? {} : { contentLength }) });
      return [error.status, error.type, error.message];
    };
    assert.deepEqual(tooLarge('Invoke', INVOKE_MAX_BYTES), [413, 'RequestTooLargeException', 'Request must be smaller than 6291456 bytes for the InvokeFunction operation']);
    assert.deepEqual(tooLarge('Invoke', INVOKE_EVENT_MAX_BYTES, 2_000_000), [
      413,
      'RequestEntityTooLargeException',
      '2000000 byte payload is too large for the Event invocation type (limit 1048576 bytes)',
    ]);
    assert.equal(tooLarge('Invoke', INVOKE_EVENT_MAX_BYTES)[2], 'The payload is too large for the Event invocation type (limit 1048576 bytes)');
    assert.deepEqual(tooLarge('CreateFunction', CODE_UPLOAD_MAX_BYTES), [413, 'RequestEntityTooLargeException', 'Request must be smaller than 69905067 bytes for the CreateFunction operation']);
  });

  it('limits Invoke by its invocation type, code uploads to a base64 50 MB package, the rest to the control-plane limit', () => {
    assert.equal(lambdaMaxBodyBytes('Invoke', withHeaders({})), 6_291_456);
    assert.equal(lambdaMaxBodyBytes('Invoke', withHeaders({ 'x-amz-invocation-type': 'RequestResponse' })), 6_291_456);
    assert.equal(lambdaMaxBodyBytes('Invoke', withHeaders({ 'x-amz-invocation-type': 'Event' })), 1_048_576);
    assert.equal(lambdaMaxBodyBytes('CreateFunction', withHeaders({})), CODE_UPLOAD_MAX_BYTES);
    assert.equal(lambdaMaxBodyBytes('UpdateFunctionCode', withHeaders({})), CODE_UPLOAD_MAX_BYTES);
    assert.equal(CODE_UPLOAD_MAX_BYTES, Math.ceil((50 * 1024 * 1024 * 4) / 3));
    assert.equal(lambdaMaxBodyBytes('TagResource', withHeaders({})), CONTROL_MAX_BYTES);
    assert.deepEqual(Object.keys(lambdaWire).sort(), ['errorFor', 'maxBodyBytes', 'protocolError']);
  });
});
