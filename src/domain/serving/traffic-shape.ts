import { z } from 'zod';
import { DomainError } from '../../core/errors.ts';
import { formatIssuePath } from '../../core/zod-issues.ts';

/**
 * The traffic a load test offers an endpoint, as requests per second over time. A shape is
 * data; `sendTimes` turns it into the schedule of request start times, the same on every run.
 */
export type TrafficShape = SteadyShape | RampShape | SpikeShape | StepsShape;

export interface SteadyShape {
  kind: 'steady';
  rps: number;
  durationSeconds: number;
}

/** From `fromRps` to `toRps`, linearly, over the whole duration. */
export interface RampShape {
  kind: 'ramp';
  fromRps: number;
  toRps: number;
  durationSeconds: number;
}

/** `rps`, multiplied by `factor` from `atSeconds` for `forSeconds`. */
export interface SpikeShape {
  kind: 'spike';
  rps: number;
  factor: number;
  atSeconds: number;
  forSeconds: number;
  durationSeconds: number;
}

/** Each step's rate holds from its `atSeconds` until the next step (the last one until the end). */
export interface StepsShape {
  kind: 'steps';
  steps: TrafficStep[];
  durationSeconds: number;
}

export interface TrafficStep {
  atSeconds: number;
  rps: number;
}

/** Past this a single Node process cannot keep a schedule honestly; it is a guard against typos too. */
export const MAX_RPS = 5000;
export const MAX_DURATION_SECONDS = 24 * 3600;
/** Every request is kept for the timeline: about 100 bytes each. */
export const MAX_REQUESTS = 2_000_000;

const rps = z.number().finite().nonnegative(`must be 0 or more requests per second`).max(MAX_RPS, `must be at most ${MAX_RPS} requests per second`);
const positiveRps = z.number().finite().positive('must be more than 0 requests per second').max(MAX_RPS, `must be at most ${MAX_RPS} requests per second`);
const seconds = z.number().finite().nonnegative('must be 0 or more seconds');
const durationSeconds = z
  .number()
  .finite()
  .positive('must be more than 0 seconds')
  .max(MAX_DURATION_SECONDS, `must be at most ${MAX_DURATION_SECONDS} seconds (a day)`);

export const trafficStepsSchema = z
  .array(z.strictObject({ atSeconds: seconds, rps }), 'must be a list of { "atSeconds": n, "rps": r } steps')
  .min(1, 'must hold at least one step')
  .superRefine((steps, context) => {
    for (let i = 1; i < steps.length; i++) {
      if (steps[i].atSeconds <= steps[i - 1].atSeconds) {
        context.addIssue({
          code: 'custom',
          path: [i, 'atSeconds'],
          message: `must be later than the step before it (${steps[i - 1].atSeconds} s): steps are in time order, one per moment`,
        });
      }
    }
  });

const shapeSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('steady'), rps: positiveRps, durationSeconds }),
    z.strictObject({ kind: z.literal('ramp'), fromRps: rps, toRps: rps, durationSeconds }),
    z.strictObject({
      kind: z.literal('spike'),
      rps: positiveRps,
      factor: z.number().finite().positive('must be more than 0 (5 means five times the rate)'),
      atSeconds: seconds,
      forSeconds: z.number().finite().positive('must be more than 0 seconds'),
      durationSeconds,
    }),
    z.strictObject({ kind: z.literal('steps'), steps: trafficStepsSchema, durationSeconds }),
  ])
  .superRefine((shape, context) => {
    const fail = (path: string, message: string) => context.addIssue({ code: 'custom', path: [path], message });
    if (shape.kind === 'ramp' && shape.fromRps === 0 && shape.toRps === 0) fail('toRps', 'a ramp from 0 to 0 requests per second sends nothing');
    if (shape.kind === 'spike') {
      if (shape.atSeconds + shape.forSeconds > shape.durationSeconds) {
        fail('forSeconds', `the spike (from ${shape.atSeconds} s for ${shape.forSeconds} s) must end within the run's ${shape.durationSeconds} s`);
      }
      if (shape.rps * shape.factor > MAX_RPS) fail('factor', `the spike's rate (${shape.rps} × ${shape.factor}) must be at most ${MAX_RPS} requests per second`);
    }
    if (shape.kind === 'steps') {
      const last = shape.steps.at(-1)!;
      if (last.atSeconds >= shape.durationSeconds) {
        fail('durationSeconds', `must be after the last step (at ${last.atSeconds} s), or that step never runs`);
      }
    }
  });

/**
 * A shape from untrusted input (flags, a file), refused with what is wrong and where. `labels`
 * names the members as the caller's user knows them (`{ durationSeconds: '--duration' }`).
 */
export function parseTrafficShape(input: unknown, labels: Partial<Record<string, string>> = {}): TrafficShape {
  const parsed = shapeSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.slice(0, 5).map((issue) => {
      const [member, ...rest] = issue.path;
      const label = typeof member === 'string' && labels[member] ? labels[member] + formatIssuePath(['', ...rest]) : formatIssuePath(issue.path) || '(top level)';
      return `${label}: ${issue.message}`;
    });
    throw new DomainError('ValidationError', `traffic shape: ${problems.join('; ')}`, { field: parsed.error.issues[0]?.path.join('.') });
  }
  const shape = parsed.data as TrafficShape;
  const expected = expectedRequests(shape);
  const label = (member: string) => labels[member] ?? member;
  if (expected > MAX_REQUESTS) {
    throw new DomainError(
      'ValidationError',
      `traffic shape: it sends about ${Math.round(expected).toLocaleString('en')} requests, more than the ${MAX_REQUESTS.toLocaleString('en')} one run keeps; shorten ${label('durationSeconds')} or lower the rate`,
      { field: 'durationSeconds' },
    );
  }
  if (expected < 1) {
    throw new DomainError('ValidationError', `traffic shape: it sends no request at all; raise the rate or lengthen ${label('durationSeconds')}`, { field: 'rps' });
  }
  return shape;
}

/** A piece of the shape where the rate changes linearly (or not at all). */
export interface RateSegment {
  startSeconds: number;
  endSeconds: number;
  startRps: number;
  endRps: number;
}

/** The shape as consecutive segments covering [0, durationSeconds). */
export function rateSegments(shape: TrafficShape): RateSegment[] {
  const flat = (startSeconds: number, endSeconds: number, rate: number): RateSegment => ({ startSeconds, endSeconds, startRps: rate, endRps: rate });
  switch (shape.kind) {
    case 'steady':
      return [flat(0, shape.durationSeconds, shape.rps)];
    case 'ramp':
      return [{ startSeconds: 0, endSeconds: shape.durationSeconds, startRps: shape.fromRps, endRps: shape.toRps }];
    case 'spike': {
      const end = shape.atSeconds + shape.forSeconds;
      return [flat(0, shape.atSeconds, shape.rps), flat(shape.atSeconds, end, shape.rps * shape.factor), flat(end, shape.durationSeconds, shape.rps)].filter(
        (segment) => segment.endSeconds > segment.startSeconds,
      );
    }
    case 'steps': {
      const segments = shape.steps[0].atSeconds > 0 ? [flat(0, shape.steps[0].atSeconds, 0)] : [];
      shape.steps.forEach((step, index) => {
        const end = Math.min(shape.steps[index + 1]?.atSeconds ?? shape.durationSeconds, shape.durationSeconds);
        if (end > step.atSeconds) segments.push(flat(step.atSeconds, end, step.rps));
      });
      return segments;
    }
  }
}

/** The offered rate at `seconds` after the start; 0 outside the run. */
export function offeredRpsAt(shape: TrafficShape, seconds: number): number {
  const segment = rateSegments(shape).find((s) => seconds >= s.startSeconds && seconds < s.endSeconds);
  if (!segment) return 0;
  const along = (seconds - segment.startSeconds) / (segment.endSeconds - segment.startSeconds);
  return segment.startRps + (segment.endRps - segment.startRps) * along;
}

/** The integral of the rate over the run: how many requests the shape offers, before rounding. */
export function expectedRequests(shape: TrafficShape): number {
  return rateSegments(shape).reduce((sum, s) => sum + ((s.startRps + s.endRps) / 2) * (s.endSeconds - s.startSeconds), 0);
}

/**
 * When each request starts, in seconds after the start, ascending. Request k starts at the moment
 * the integral of the rate reaches k, so the first goes at once and the count over any window
 * follows the rate: a steady 10 rps for 60 s is 600 requests 100 ms apart, a ramp's gaps shrink as
 * its rate climbs.
 */
export function sendTimes(shape: TrafficShape): number[] {
  const times: number[] = [];
  let before = 0; // requests owed before the segment: the integral up to its start
  for (const segment of rateSegments(shape)) {
    const length = segment.endSeconds - segment.startSeconds;
    const slope = (segment.endRps - segment.startRps) / length;
    const area = ((segment.startRps + segment.endRps) / 2) * length;
    for (let k = Math.ceil(before); k < before + area; k++) {
      const along = offsetForCount(segment.startRps, slope, k - before);
      const at = segment.startSeconds + along;
      if (at < segment.endSeconds) times.push(at);
    }
    before += area;
  }
  return times;
}

/** The time u at which a rate r(u) = a + b·u has accumulated n requests: a·u + b·u²/2 = n. */
function offsetForCount(a: number, b: number, n: number): number {
  if (n <= 0) return 0;
  if (Math.abs(b) < 1e-12) return n / a;
  // The root of the quadratic written to stay exact when b is small next to a.
  return (2 * n) / (a + Math.sqrt(a * a + 2 * b * n));
}
