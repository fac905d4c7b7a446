import type { ErrorCode } from '../../core/errors.ts';

/** An error as it goes on the wire: status, the `x-amzn-ErrorType` value and a JSON body. */
export interface WireError {
  status: number;
  type: string;
  body: Record<string, unknown>;
}

export type WireErrorMapper = (code: ErrorCode, message: string, details: Readonly<Record<string, unknown>>) => WireError;
