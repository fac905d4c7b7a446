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

/** Lambda's answer to a request whose payload or client context it cannot read. */
function invalidContent(message: string): DomainError {
  return new DomainError('ValidationError', message, { lambdaError: 'InvalidRequestContentException' });
}

/** An empty body is the empty event, as Lambda reads it; anything else must be JSON. */
function eventOf(payload: Uint8Array | undefined): Buffer {
  const bytes = Buffer.from(payload ?? new Uint8Array());
  if (bytes.byteLength === 0) return Buffer.from('{}');
  try {
    JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw invalidContent(`Could not parse request body into json: ${(error as Error).message}`);
  }
  return bytes;
}

/** Lambda's limit on X-Amz-Client-Context, as sent (base64). */
const MAX_CLIENT_CONTEXT_BYTES = 3583;
/** Padding may be left out, as Java's decoder allows; a lone sixth of a byte may not. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/** The client context as the function will get it: base64 of a JSON object, or the request is refused. */
function clientContextOf(value: string): string {
  if (value.length > MAX_CLIENT_CONTEXT_BYTES) throw invalidContent(`Client context must be at most ${MAX_CLIENT_CONTEXT_BYTES} bytes of base64; it is ${value.length}`);
  let parsed: unknown;
  if (BASE64.test(value)) {
    try {
      parsed = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
    } catch {
      // Not JSON: refused below, with what is not.
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalidContent('Client context must be a valid Base64-encoded JSON object.');
  return value;
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
        const clientContext = input.ClientContext === undefined || input.ClientContext === '' ? undefined : clientContextOf(input.ClientContext);
        const requestId = c.get('requestId');
        if (type === 'Event') {
          platform.asyncInvocations.enqueue(input.FunctionName, input.Qualifier, payload, requestId);
          return { StatusCode: 202 };
        }
        const result = await platform.invoker.invoke(input.FunctionName, input.Qualifier, {
          payload,
          tailLogs: input.LogType === 'Tail',
          requestId,
          ...(clientContext !== undefined ? { clientContext } : {}),
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
