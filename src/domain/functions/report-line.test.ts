import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { billedDurationMs, endLine, initReportLine, reportLine, startLine, timedOutLine, type ReportLineFields } from './report-line.ts';

const ID = '8f5a1f3c-2b1e-4c61-9d3a-0b6c2d7e9f10';

describe('billedDurationMs', () => {
  const cases: Array<[number, number]> = [
    [0, 1],
    [0.004, 1],
    [0.4, 1],
    [1, 1],
    [1.23, 2],
    [2, 2],
    [2.001, 2], // shown as 2.00 ms: billed as shown
    [2.006, 3], // shown as 2.01 ms
    [999.999, 1000],
    [3000, 3000],
  ];
  for (const [durationMs, billed] of cases) {
    it(`bills ${durationMs} ms as ${billed} ms`, () => assert.equal(billedDurationMs(durationMs), billed));
  }
});

describe('reportLine', () => {
  const base: ReportLineFields = { requestId: ID, durationMs: 1.234, memorySizeMb: 128, maxMemoryUsedMb: 40 };
  const cases: Array<[string, Partial<ReportLineFields>, string]> = [
    ['a warm invocation', {}, `REPORT RequestId: ${ID}\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB`],
    [
      'the first after a cold start',
      { initDurationMs: 123.456 },
      `REPORT RequestId: ${ID}\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tInit Duration: 123.46 ms`,
    ],
    [
      'a timeout',
      { durationMs: 3000, status: 'timeout' },
      `REPORT RequestId: ${ID}\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tStatus: timeout`,
    ],
    [
      'an environment that ran out of memory',
      { maxMemoryUsedMb: 128, status: 'error', errorType: 'Runtime.OutOfMemory' },
      `REPORT RequestId: ${ID}\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\tStatus: error\tError Type: Runtime.OutOfMemory`,
    ],
    ['a whole-millisecond duration', { durationMs: 7 }, `REPORT RequestId: ${ID}\tDuration: 7.00 ms\tBilled Duration: 7 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB`],
  ];
  for (const [name, fields, line] of cases) {
    it(`formats ${name}`, () => assert.equal(reportLine({ ...base, ...fields }), line));
  }
});

describe('the other lines', () => {
  it('formats START, END, INIT_REPORT and the timeout line as Lambda does', () => {
    assert.equal(startLine(ID, '$LATEST'), `START RequestId: ${ID} Version: $LATEST`);
    assert.equal(startLine(ID, '3'), `START RequestId: ${ID} Version: 3`);
    assert.equal(endLine(ID), `END RequestId: ${ID}`);
    assert.equal(
      initReportLine({ initDurationMs: 10000.5, status: 'timeout' }),
      'INIT_REPORT Init Duration: 10000.50 ms\tPhase: init\tStatus: timeout',
    );
    assert.equal(
      initReportLine({ initDurationMs: 45.678, status: 'error', errorType: 'Runtime.ImportModuleError' }),
      'INIT_REPORT Init Duration: 45.68 ms\tPhase: init\tStatus: error\tError Type: Runtime.ImportModuleError',
    );
    assert.equal(timedOutLine('2026-01-02T03:04:05.678Z', ID, 3), `2026-01-02T03:04:05.678Z ${ID} Task timed out after 3.00 seconds`);
    assert.equal(timedOutLine('2026-01-02T03:04:05.678Z', ID, 1), `2026-01-02T03:04:05.678Z ${ID} Task timed out after 1.00 seconds`);
  });
});
