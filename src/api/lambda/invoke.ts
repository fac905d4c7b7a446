import type { Context } from 'hono';
import { DomainError } from '../../core/errors.ts';
import type { Platform } from '../../control/platform.ts';
import type { RestJsonOperation } from '../aws/rest-json-protocol.ts';
import type { ApiEnv } from '../env.ts';

interface InvokeInput {
  FunctionName: string;
  InvocationType?: 'RequestResponse' | 'Event' | 'DryRun';
  LogType?: 'None' | 'Tail';
  ClientContext?: string;
  Payload?: Uint8Array;
  Qualifier?: string;
}

/** An empty body is the empty event, as Lambda reads it; anything else must be JSON. */
function eventOf(payload: Uint8Array | undefined): Buffer {
  const bytes = Buffer.from(payload ?? new Uint8Array());
  if (bytes.byteLength === 0) return Buffer.from('{}');
  try {
    JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new DomainError('ValidationError', `Could not parse request body into json: ${(error as Error).message}`, { lambdaError: 'InvalidRequestContentException' });
  }
  return bytes;
}

/**
 * Invoke: RequestResponse runs the function and answers with its result (200,
 * with X-Amz-Function-Error when it failed); Event stores the event and
 * answers 202; DryRun checks that the call would be allowed and answers 204.
 * The invocation's request id is the HTTP request's, as on Lambda.
 */
export function invokeOperations(platform: Platform): Record<string, RestJsonOperation> {
  return {
    Invoke: {
      handler: async (input: InvokeInput, c: Context<ApiEnv>) => {
        const type = input.InvocationType ?? 'RequestResponse';
        if (type === 'DryRun') {
          platform.invoker.target(input.FunctionName, input.Qualifier);
          return { StatusCode: 204 };
        }
        const payload = eventOf(input.Payload);
        const requestId = c.get('requestId');
        if (type === 'Event') {
          platform.asyncInvocations.enqueue(input.FunctionName, input.Qualifier, payload, requestId);
          return { StatusCode: 202 };
        }
        const result = await platform.invoker.invoke(input.FunctionName, input.Qualifier, {
          payload,
          tailLogs: input.LogType === 'Tail',
          requestId,
          ...(input.ClientContext !== undefined ? { clientContext: input.ClientContext } : {}),
        });
        return {
          StatusCode: 200,
          Payload: result.payload,
          ExecutedVersion: result.executedVersion,
          ...(result.functionError !== undefined ? { FunctionError: result.functionError } : {}),
          ...(result.logResult !== undefined ? { LogResult: result.logResult } : {}),
        };
      },
    },
  };
}
