import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { parseDurationSeconds } from '../core/durations.ts';
import { DomainError } from '../core/errors.ts';
import type { TimelineRow } from '../domain/serving/load-timeline.ts';
import { parseTrafficShape, sendTimes, type TrafficShape } from '../domain/serving/traffic-shape.ts';
import { parseTrafficSteps } from '../domain/serving/traffic-steps.ts';
import { connection, globalOptions } from './context.ts';
import { loadTimelinePage } from './load-page.ts';
import { describeShape, summaryLines, timelineHeader, timelineLine } from './load-render.ts';
import { runLoad, type LoadProgress, type LoadReport } from './load-runner.ts';

interface LoadFlags {
  shape: string;
  rps?: string;
  from?: string;
  to?: string;
  factor?: string;
  at?: string;
  for?: string;
  file?: string;
  duration?: string;
  interval: string;
  maxInFlight: string;
  timeout: string;
  image?: string;
  function?: string;
  payload: string;
  contentType?: string;
  out?: string;
  json?: boolean;
}

/** The flags each shape takes; any other shape flag is refused rather than silently ignored. */
const SHAPE_FLAGS: Record<string, (keyof LoadFlags)[]> = {
  steady: ['rps', 'duration'],
  ramp: ['from', 'to', 'duration'],
  spike: ['rps', 'factor', 'at', 'for', 'duration'],
  file: ['file', 'duration'],
};
const ALL_SHAPE_FLAGS: (keyof LoadFlags)[] = ['rps', 'from', 'to', 'factor', 'at', 'for', 'file', 'duration'];
/** The shape's members as the flags that set them, for messages. */
const FLAG_OF_MEMBER = { rps: '--rps', fromRps: '--from', toRps: '--to', factor: '--factor', atSeconds: '--at', forSeconds: '--for', durationSeconds: '--duration', steps: '--file' };

export function registerLoad(program: Command): void {
  program
    .command('load <endpoint>')
    .description('Replay a traffic shape against an endpoint (open loop) and write its timeline')
    .option('--shape <shape>', 'steady | ramp | spike | file', 'steady')
    .option('--rps <n>', 'requests per second (steady; the base rate of a spike)')
    .option('--from <n>', 'ramp: requests per second at the start')
    .option('--to <n>', 'ramp: requests per second at the end')
    .option('--factor <n>', 'spike: the rate multiplier inside the spike, e.g. 5')
    .option('--at <duration>', 'spike: when it starts, e.g. 20s')
    .option('--for <duration>', 'spike: how long it lasts, e.g. 30s')
    .option('--file <path>', 'file: JSON [{"atSeconds": 0, "rps": 2}, ...] or CSV lines "seconds,rps"')
    .option('--duration <duration>', 'how long to offer the load: 60s, 2m, 1m30s (file: default the last step, if its rps is 0)')
    .option('--interval <duration>', 'width of a timeline row', '1s')
    .option('--max-in-flight <n>', 'requests outstanding at most; one due beyond it is counted ClientSkipped', '256')
    .option('--timeout <duration>', 'abandon a request unanswered this long (ClientTimeout)', '60s')
    .option('--function <name>', 'send the load to this Lambda function (Invoke) instead; the endpoint is the one whose instances are shown')
    .option('--payload <json>', 'with --function: the event each invocation sends', '{}')
    .option('--image <file>', 'request body (default: a generated sample JPEG)')
    .option('--content-type <type>', 'Content-Type of the body (default from the file name: image/jpeg or image/png)')
    .option('--out <dir>', 'write timeline.json and timeline.html (an offline chart) into this folder')
    .option('--json', 'print the summary as JSON (the live lines go to stderr)')
    .addHelpText(
      'after',
      `
Examples:
  kennel load sample-classifier --shape steady --rps 10 --duration 60s
  kennel load sample-classifier --shape ramp --from 1 --to 20 --duration 2m --out load-ramp
  kennel load sample-classifier --shape spike --rps 4 --factor 5 --at 20s --for 30s --duration 90s
  kennel load sample-classifier --shape file --file shape.csv --json
  kennel load dog-breeds --function classify --payload '{"url":"https://example.com/rex.jpg"}' --shape spike --rps 2 --factor 5 --at 20s --for 30s --duration 90s`,
    )
    .action(async (endpoint: string, flags: LoadFlags, command: Command) => {
      const json = flags.json === true || globalOptions(command).output === 'json';
      const shape = await shapeFromFlags(flags);
      const intervalSeconds = parseDurationSeconds(flags.interval, '--interval');
      const timeoutSeconds = parseDurationSeconds(flags.timeout, '--timeout');
      const maxInFlight = wholeNumber(flags.maxInFlight, '--max-in-flight');
      if (flags.function && flags.image) throw new DomainError('ValidationError', '--image does not apply with --function: give the event with --payload', { field: 'image' });
      if (flags.function) parseEvent(flags.payload);
      const body = flags.image ? await readInput(flags.image, '--image') : flags.function ? new TextEncoder().encode(flags.payload) : undefined;
      const contentType = flags.contentType ?? (flags.image ? contentTypeOf(flags.image) : undefined);
      // Made before the load, so a folder that cannot be written fails now, not after the run.
      const out = flags.out ? resolve(flags.out) : undefined;
      if (out) await mkdir(out, { recursive: true });
      const { url, credentials } = await connection(command);

      const display = new LoadDisplay(json ? process.stderr : process.stdout);
      const abort = new AbortController();
      const stop = () => {
        display.note('Stopping: waiting for the requests in flight (Ctrl+C again to quit at once)');
        abort.abort();
      };
      process.once('SIGINT', stop);
      display.start(`Load on ${flags.function ? `function ${flags.function} (in front of ${endpoint})` : endpoint}: ${describeShape(shape)}, rows of ${intervalSeconds}s, at most ${maxInFlight} in flight`, shape.durationSeconds, sendTimes(shape).length);
      let report: LoadReport;
      try {
        report = await runLoad({
          url,
          endpointName: endpoint,
          ...(flags.function ? { functionName: flags.function } : {}),
          credentials,
          shape,
          intervalSeconds,
          maxInFlight,
          timeoutSeconds,
          body,
          contentType,
          signal: abort.signal,
          onInterval: (row, progress) => display.row(row, progress),
        });
      } finally {
        process.removeListener('SIGINT', stop);
        display.stop();
      }
      const written = out ? await writeTimeline(out, report) : [];
      if (json) {
        const { rows: _rows, ...summary } = report;
        process.stdout.write(JSON.stringify({ ...summary, files: written }, null, 2) + '\n');
      } else {
        process.stdout.write([...summaryLines(report), ...(written.length > 0 ? [`Timeline: ${written.join(', ')}`] : [])].join('\n') + '\n');
      }
    });
}

/** The event must be JSON, as Invoke requires. */
function parseEvent(payload: string): void {
  try {
    JSON.parse(payload);
  } catch {
    throw new DomainError('ValidationError', `--payload: not JSON: ${payload.slice(0, 80)}`, { field: 'payload' });
  }
}

async function shapeFromFlags(flags: LoadFlags): Promise<TrafficShape> {
  const allowed = SHAPE_FLAGS[flags.shape];
  if (!allowed) throw new DomainError('ValidationError', `--shape: "${flags.shape}" is not a shape; use one of ${Object.keys(SHAPE_FLAGS).join(', ')}`, { field: 'shape' });
  for (const flag of ALL_SHAPE_FLAGS) {
    if (flags[flag] !== undefined && !allowed.includes(flag)) {
      throw new DomainError('ValidationError', `--${flag} does not apply to --shape ${flags.shape}, which takes ${allowed.map((f) => `--${f}`).join(', ')}`, { field: flag });
    }
  }
  const needed = (flag: keyof LoadFlags): string => {
    const value = flags[flag];
    if (typeof value !== 'string') throw new DomainError('ValidationError', `--shape ${flags.shape} needs --${flag}`, { field: flag });
    return value;
  };
  const duration = () => parseDurationSeconds(needed('duration'), '--duration');
  switch (flags.shape) {
    case 'steady':
      return parseTrafficShape({ kind: 'steady', rps: number(needed('rps'), '--rps'), durationSeconds: duration() }, FLAG_OF_MEMBER);
    case 'ramp':
      return parseTrafficShape({ kind: 'ramp', fromRps: number(needed('from'), '--from'), toRps: number(needed('to'), '--to'), durationSeconds: duration() }, FLAG_OF_MEMBER);
    case 'spike':
      return parseTrafficShape(
        {
          kind: 'spike',
          rps: number(needed('rps'), '--rps'),
          factor: number(needed('factor'), '--factor'),
          atSeconds: atSeconds(needed('at')),
          forSeconds: parseDurationSeconds(needed('for'), '--for'),
          durationSeconds: duration(),
        },
        FLAG_OF_MEMBER,
      );
    default: {
      const path = needed('file');
      const steps = parseTrafficSteps(await readInput(path, '--file', 'utf8'), path);
      if (flags.duration !== undefined) return parseTrafficShape({ kind: 'steps', steps, durationSeconds: duration() }, FLAG_OF_MEMBER);
      const last = steps.at(-1)!;
      if (last.rps !== 0 || steps.length < 2) {
        throw new DomainError(
          'ValidationError',
          `${path}: the last step (${last.rps} rps at ${last.atSeconds} s) has no end: give --duration, or end the file with a step of 0 rps at the time the load should stop`,
          { field: 'duration' },
        );
      }
      return parseTrafficShape({ kind: 'steps', steps: steps.slice(0, -1), durationSeconds: last.atSeconds }, FLAG_OF_MEMBER);
    }
  }
}

/** `--at 0` is a spike from the start: a duration of zero is allowed here only. */
function atSeconds(text: string): number {
  return /^0+(\.0*)?(s|ms|m|h)?$/.test(text.trim()) ? 0 : parseDurationSeconds(text, '--at');
}

function number(text: string, flag: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new DomainError('ValidationError', `${flag}: "${text}" is not a number`, { field: flag.slice(2) });
  return value;
}

function wholeNumber(text: string, flag: string): number {
  const value = number(text, flag);
  if (!Number.isInteger(value) || value < 1) throw new DomainError('ValidationError', `${flag}: must be a whole number, 1 or more; got ${text}`, { field: flag.slice(2) });
  return value;
}

async function readInput(path: string, flag: string): Promise<Buffer>;
async function readInput(path: string, flag: string, encoding: 'utf8'): Promise<string>;
async function readInput(path: string, flag: string, encoding?: 'utf8'): Promise<Buffer | string> {
  try {
    return encoding ? await readFile(path, encoding) : await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : code === 'EACCES' ? 'cannot be read (permission denied)' : (error as Error).message;
    throw new DomainError('ValidationError', `${flag} ${path}: ${why}`, { field: flag.slice(2) });
  }
}

function contentTypeOf(path: string): string {
  const extension = extname(path).toLowerCase();
  if (extension === '.png') return 'image/png';
  if (extension === '.jpg' || extension === '.jpeg') return 'image/jpeg';
  return 'application/x-image';
}

/** timeline.json (the report, rows included) and timeline.html, each written whole or not at all. */
async function writeTimeline(dir: string, report: LoadReport): Promise<string[]> {
  const files: [string, string][] = [
    [join(dir, 'timeline.json'), JSON.stringify(report, null, 2) + '\n'],
    [join(dir, 'timeline.html'), loadTimelinePage(report)],
  ];
  for (const [path, content] of files) {
    const temp = `${path}.partial-${process.pid}`;
    await writeFile(temp, content);
    await rename(temp, path);
  }
  return files.map(([path]) => path);
}

/**
 * A line per interval as the load runs. On a terminal a progress bar stays under the lines;
 * elsewhere (pipes, CI logs) only the lines are written.
 */
class LoadDisplay {
  private bar: cliProgress.MultiBar | undefined;
  private progress: cliProgress.SingleBar | undefined;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  start(title: string, durationSeconds: number, requests: number): void {
    this.stream.write(`${title}\n${timelineHeader()}\n`);
    if (!this.stream.isTTY) return;
    this.bar = new cliProgress.MultiBar(
      { stream: this.stream, format: '{bar} {value}/{total} s  {scheduled}/{requests} requests due, {inFlight} in flight', barsize: 30, hideCursor: true, clearOnComplete: true },
      cliProgress.Presets.shades_classic,
    );
    this.progress = this.bar.create(Math.ceil(durationSeconds), 0, { scheduled: 0, requests, inFlight: 0 });
  }

  row(row: TimelineRow, progress: LoadProgress): void {
    const line = timelineLine(row) + '\n';
    if (this.bar) {
      this.bar.log(line);
      this.progress?.update(Math.min(Math.floor(progress.elapsedSeconds), Math.ceil(progress.durationSeconds)), {
        scheduled: progress.scheduled,
        requests: progress.total,
        inFlight: progress.inFlight,
      });
    } else this.stream.write(line);
  }

  note(message: string): void {
    if (this.bar) this.bar.log(message + '\n');
    else this.stream.write(message + '\n');
  }

  stop(): void {
    // The bar writes logged lines at its next redraw: one more, so the last rows are not lost.
    this.bar?.update();
    this.bar?.stop();
  }
}
