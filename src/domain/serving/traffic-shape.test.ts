import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertDomainError } from '../../testing/assert-domain-error.ts';
import { expectedRequests, offeredRpsAt, parseTrafficShape, sendTimes, type TrafficShape } from './traffic-shape.ts';
import { parseTrafficSteps } from './traffic-steps.ts';

const within = (times: number[], from: number, to: number) => times.filter((t) => t >= from && t < to).length;

describe('traffic shapes → send schedule', () => {
  it('steady: rps × duration requests, evenly spaced, all inside the run', () => {
    const times = sendTimes({ kind: 'steady', rps: 10, durationSeconds: 60 });
    assert.equal(times.length, 600);
    assert.equal(times[0], 0, 'the first request goes at once');
    assert.ok(times.at(-1)! < 60);
    for (let i = 1; i < times.length; i++) assert.ok(Math.abs(times[i] - times[i - 1] - 0.1) < 1e-9);
    for (let second = 0; second < 60; second++) assert.equal(within(times, second, second + 1), 10, `second ${second}`);
  });

  it('steady with a fractional count: every whole request that fits', () => {
    assert.equal(sendTimes({ kind: 'steady', rps: 3, durationSeconds: 2.5 }).length, 8); // 7.5 owed: at 0, 1/3, …, 7/3
  });

  it('ramp: the gaps shrink as the rate climbs, and the count is the area under the ramp', () => {
    const shape: TrafficShape = { kind: 'ramp', fromRps: 1, toRps: 20, durationSeconds: 120 };
    const times = sendTimes(shape);
    assert.equal(times.length, Math.ceil(expectedRequests(shape)));
    assert.equal(expectedRequests(shape), 1260);
    for (let i = 2; i < times.length; i++) assert.ok(times[i] - times[i - 1] < times[i - 1] - times[i - 2] + 1e-9, `gap ${i} grew`);
    const perTenSeconds = Array.from({ length: 12 }, (_, w) => within(times, w * 10, w * 10 + 10));
    for (let w = 1; w < perTenSeconds.length; w++) assert.ok(perTenSeconds[w] >= perTenSeconds[w - 1], perTenSeconds.join(' '));
    assert.ok(Math.abs(within(times, 0, 10) - 18) <= 1, 'about (1 + 2.58) / 2 × 10 in the first ten seconds');
    assert.equal(offeredRpsAt(shape, 60), 10.5);
  });

  it('ramp down works too, and from zero', () => {
    const down = sendTimes({ kind: 'ramp', fromRps: 20, toRps: 0, durationSeconds: 10 });
    assert.equal(down.length, 100);
    for (let i = 2; i < down.length; i++) assert.ok(down[i] - down[i - 1] > down[i - 1] - down[i - 2] - 1e-9);
    const up = sendTimes({ kind: 'ramp', fromRps: 0, toRps: 10, durationSeconds: 10 });
    assert.equal(up.length, 50);
    assert.ok(up.every((t) => t >= 0 && t < 10));
  });

  it('spike: ×factor inside its window, the base rate outside', () => {
    const times = sendTimes({ kind: 'spike', rps: 4, factor: 5, atSeconds: 20, forSeconds: 30, durationSeconds: 90 });
    assert.equal(within(times, 0, 20), 80);
    assert.equal(within(times, 20, 50), 600, '4 × 5 rps for 30 s');
    assert.equal(within(times, 50, 90), 160);
    assert.equal(times.length, 840);
    for (let second = 20; second < 50; second++) assert.equal(within(times, second, second + 1), 20);
  });

  it('steps: each rate holds until the next step, nothing before the first', () => {
    const shape: TrafficShape = { kind: 'steps', steps: [{ atSeconds: 5, rps: 2 }, { atSeconds: 10, rps: 0 }, { atSeconds: 12, rps: 10 }], durationSeconds: 14 };
    const times = sendTimes(shape);
    assert.equal(within(times, 0, 5), 0);
    assert.equal(within(times, 5, 10), 10);
    assert.equal(within(times, 10, 12), 0);
    assert.equal(within(times, 12, 14), 20);
    assert.equal(times.length, 30);
    assert.equal(offeredRpsAt(shape, 11), 0);
    assert.equal(offeredRpsAt(shape, 13), 10);
    assert.equal(offeredRpsAt(shape, 14), 0, 'nothing after the end');
  });

  it('is the same schedule every time', () => {
    const shape: TrafficShape = { kind: 'ramp', fromRps: 3, toRps: 7, durationSeconds: 30 };
    assert.deepEqual(sendTimes(shape), sendTimes(shape));
  });
});

describe('traffic shapes refused', () => {
  const cases: [string, unknown, RegExp, string][] = [
    ['a steady rate of zero', { kind: 'steady', rps: 0, durationSeconds: 10 }, /rps: must be more than 0 requests per second/, 'rps'],
    ['a negative duration', { kind: 'steady', rps: 1, durationSeconds: -1 }, /durationSeconds: must be more than 0 seconds/, 'durationSeconds'],
    ['a rate past the limit', { kind: 'steady', rps: 1e6, durationSeconds: 1 }, /rps: must be at most 5000 requests per second/, 'rps'],
    ['a ramp from 0 to 0', { kind: 'ramp', fromRps: 0, toRps: 0, durationSeconds: 10 }, /a ramp from 0 to 0 requests per second sends nothing/, 'toRps'],
    [
      'a spike that ends after the run',
      { kind: 'spike', rps: 4, factor: 5, atSeconds: 80, forSeconds: 30, durationSeconds: 90 },
      /forSeconds: the spike \(from 80 s for 30 s\) must end within the run's 90 s/,
      'forSeconds',
    ],
    ['a spike factor of zero', { kind: 'spike', rps: 4, factor: 0, atSeconds: 1, forSeconds: 1, durationSeconds: 9 }, /factor: must be more than 0/, 'factor'],
    [
      'steps out of order',
      { kind: 'steps', steps: [{ atSeconds: 0, rps: 1 }, { atSeconds: 0, rps: 2 }], durationSeconds: 9 },
      /steps\[1\]\.atSeconds: must be later than the step before it \(0 s\)/,
      'steps.1.atSeconds',
    ],
    ['a last step at the end', { kind: 'steps', steps: [{ atSeconds: 0, rps: 1 }, { atSeconds: 9, rps: 2 }], durationSeconds: 9 }, /durationSeconds: must be after the last step \(at 9 s\)/, 'durationSeconds'],
    ['an unknown kind', { kind: 'wave', durationSeconds: 9 }, /kind/, 'kind'],
    ['a run too big to keep', { kind: 'steady', rps: 5000, durationSeconds: 86_400 }, /sends about 432,000,000 requests, more than the 2,000,000 one run keeps/, 'durationSeconds'],
    ['a run that sends nothing', { kind: 'steady', rps: 0.1, durationSeconds: 5 }, /sends no request at all/, 'rps'],
  ];
  for (const [name, input, message, field] of cases) {
    it(name, () => assertDomainError(() => parseTrafficShape(input), 'ValidationError', { message, field }));
  }

  it('accepts a good shape as it is', () => {
    const shape = { kind: 'spike', rps: 4, factor: 5, atSeconds: 20, forSeconds: 30, durationSeconds: 90 };
    assert.deepEqual(parseTrafficShape(shape), shape);
  });
});

describe('traffic shape files', () => {
  it('reads JSON steps', () => {
    assert.deepEqual(parseTrafficSteps('[{"atSeconds":0,"rps":2},{"atSeconds":10,"rps":8}]', 'shape.json'), [
      { atSeconds: 0, rps: 2 },
      { atSeconds: 10, rps: 8 },
    ]);
  });

  it('reads CSV with a header, comments and blank lines', () => {
    const text = 'seconds,rps\n# warm up\n0, 2\n\n10,8\r\n20,0.5\n';
    assert.deepEqual(parseTrafficSteps(text, 'shape.csv'), [
      { atSeconds: 0, rps: 2 },
      { atSeconds: 10, rps: 8 },
      { atSeconds: 20, rps: 0.5 },
    ]);
  });

  const refused: [string, string, RegExp][] = [
    ['an empty file', '  \n', /^shape: is empty; write a JSON list/],
    ['broken JSON', '[{"atSeconds": 0,', /^shape: is not valid JSON/],
    ['a JSON object instead of a list', '{"atSeconds": 0, "rps": 1}', /^shape: steps: must be a list of \{ "atSeconds": n, "rps": r \} steps/],
    ['a misspelt member', '[{"at": 0, "rps": 1}]', /^shape: steps\[0\]/],
    ['a negative rate', '[{"atSeconds": 0, "rps": -1}]', /^shape: steps\[0\]\.rps: must be 0 or more requests per second/],
    ['an empty list', '[]', /^shape: steps: must hold at least one step/],
    ['a CSV line that is not two numbers', 'seconds,rps\n0,1\n5;3\n', /^shape: line 3: expected two numbers "seconds,rps", got "5;3"/],
    ['CSV steps out of order, named by line', '0,1\n# comment\n10,2\n5,3\n', /^shape: line 4 \(seconds\): must be later than the step before it \(10 s\)/],
    ['a CSV rate past the limit', '0,1\n1,99999\n', /^shape: line 2 \(rps\): must be at most 5000/],
  ];
  for (const [name, text, message] of refused) {
    it(`refuses ${name}`, () => assertDomainError(() => parseTrafficSteps(text, 'shape'), 'ValidationError', { message, field: 'file' }));
  }
});

describe('traffic shape messages in the caller’s words', () => {
  it('names the flag the user typed', () => {
    assertDomainError(() => parseTrafficShape({ kind: 'steady', rps: -2, durationSeconds: 5 }, { rps: '--rps', durationSeconds: '--duration' }), 'ValidationError', {
      message: /^traffic shape: --rps: must be more than 0 requests per second/,
      field: 'rps',
    });
    assertDomainError(() => parseTrafficShape({ kind: 'steady', rps: 0.1, durationSeconds: 5 }, { durationSeconds: '--duration' }), 'ValidationError', {
      message: /lengthen --duration/,
    });
  });
});
