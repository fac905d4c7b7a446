/**
 * The lines Lambda writes into a function's log around each invocation, in
 * Lambda's own format, so tools that read Lambda logs (the CLI's --log-type
 * Tail, log insights queries on REPORT lines) read Kennel's unchanged.
 */

/** How an invocation ended, when it did not end with the runtime's answer. */
export type InvocationStatus = 'timeout' | 'error';

export interface ReportLineFields {
  requestId: string;
  durationMs: number;
  memorySizeMb: number;
  maxMemoryUsedMb: number;
  /** Only on the first invocation of an environment that started cold. */
  initDurationMs?: number;
  /** Set when the environment did not answer: it timed out, ran out of memory or exited. */
  status?: InvocationStatus;
  /** With status 'error': Runtime.ExitError, Runtime.OutOfMemory, ... */
  errorType?: string;
}

export interface InitReportFields {
  initDurationMs: number;
  status: InvocationStatus;
  errorType?: string;
}

/** Durations are shown to the hundredth of a millisecond; billing uses that shown figure, so a line never contradicts itself. */
const shownMs = (ms: number): number => Math.round(ms * 100) / 100;
const formatMs = (ms: number): string => shownMs(ms).toFixed(2);

/** Lambda bills by the millisecond, rounded up, and never less than 1 ms. */
export function billedDurationMs(durationMs: number): number {
  return Math.max(1, Math.ceil(shownMs(durationMs)));
}

export function startLine(requestId: string, functionVersion: string): string {
  return `START RequestId: ${requestId} Version: ${functionVersion}`;
}

export function endLine(requestId: string): string {
  return `END RequestId: ${requestId}`;
}

function statusFields(status: InvocationStatus | undefined, errorType: string | undefined): string[] {
  if (status === undefined) return [];
  return [`Status: ${status}`, ...(errorType === undefined ? [] : [`Error Type: ${errorType}`])];
}

export function reportLine(fields: ReportLineFields): string {
  return [
    `REPORT RequestId: ${fields.requestId}`,
    `Duration: ${formatMs(fields.durationMs)} ms`,
    `Billed Duration: ${billedDurationMs(fields.durationMs)} ms`,
    `Memory Size: ${fields.memorySizeMb} MB`,
    `Max Memory Used: ${fields.maxMemoryUsedMb} MB`,
    ...(fields.initDurationMs === undefined ? [] : [`Init Duration: ${formatMs(fields.initDurationMs)} ms`]),
    ...statusFields(fields.status, fields.errorType),
  ].join('\t');
}

/** The line for an init that failed or timed out; a successful init is reported on the first REPORT line instead. */
export function initReportLine(fields: InitReportFields): string {
  return [`INIT_REPORT Init Duration: ${formatMs(fields.initDurationMs)} ms`, 'Phase: init', ...statusFields(fields.status, fields.errorType)].join('\t');
}

/** '3.00': how Lambda writes a timeout in seconds in its messages. */
export function timeoutSecondsText(timeoutSeconds: number): string {
  return timeoutSeconds.toFixed(2);
}

/** The log line of a timed-out invocation; `isoTime` is when it timed out. */
export function timedOutLine(isoTime: string, requestId: string, timeoutSeconds: number): string {
  return `${isoTime} ${requestId} Task timed out after ${timeoutSecondsText(timeoutSeconds)} seconds`;
}
