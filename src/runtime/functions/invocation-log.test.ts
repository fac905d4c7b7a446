import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvocationLog, MAX_LINE_CHARS, MAX_LOG_CHARS } from './invocation-log.ts';

const MARKER = 'kennel-end-0123456789abcdef';
const bytes = (text: string) => Buffer.from(text, 'utf8');

describe('InvocationLog', () => {
  it('splits each stream into lines, whatever the chunks, and keeps two streams’ partial lines apart', () => {
    const log = new InvocationLog(MARKER);
    const stdout = log.stream();
    const stderr = log.stream();
    stdout.push(bytes('par'));
    stderr.push(bytes('from stderr\n'));
    stdout.push(bytes('tial\ncaf'));
    stdout.push(Buffer.from([0xc3]));
    stdout.push(Buffer.from([0xa9, 0x0a]));
    stdout.push(bytes('no newline at the end'));
    log.end();
    assert.deepEqual(log.take(), ['from stderr', 'partial', 'café', 'no newline at the end']);
    assert.deepEqual(log.take(), []);
  });

  it('takes the marker out of the log, even at the end of a line without its newline, and says it has come', async () => {
    const log = new InvocationLog(MARKER);
    const out = log.stream();
    out.push(bytes(`one\nhalf a line${MARKER} req-1\n`));
    assert.equal(await log.waitForMarker('req-1', 60_000), 'end');
    assert.deepEqual(log.take(), ['one', 'half a line']);
    assert.equal(log.markersSeen, true);
  });

  it('wakes a waiter when the marker comes later, and tells an exiting runtime from one that goes on', async () => {
    const log = new InvocationLog(MARKER);
    const out = log.stream();
    const waiting = log.waitForMarker('req-2', 60_000);
    out.push(bytes(`late line\n${MARKER} req-2 exit\n`));
    assert.equal(await waiting, 'exit');
    assert.deepEqual(log.take(), ['late line']);
  });

  it('gives up on a marker that does not come: a runtime that writes none', async () => {
    const log = new InvocationLog(MARKER);
    log.stream().push(bytes('output of a third-party runtime\n'));
    assert.equal(await log.waitForMarker('req-3', 1), undefined);
    assert.equal(log.markersSeen, false);
    assert.deepEqual(log.take(), ['output of a third-party runtime']);
  });

  it('does not take a marker for another request as this one’s', async () => {
    const log = new InvocationLog(MARKER);
    log.stream().push(bytes(`${MARKER} req-old\n`));
    assert.equal(await log.waitForMarker('req-new', 1), undefined);
  });

  it('cuts endless lines and stops keeping lines past the log limit, saying how many it dropped', () => {
    const log = new InvocationLog(MARKER);
    const out = log.stream();
    out.push(bytes(`${'x'.repeat(MAX_LINE_CHARS + 10)}\n`));
    const [cut] = log.take();
    assert.equal(cut, `${'x'.repeat(MAX_LINE_CHARS)}… [line cut at ${MAX_LINE_CHARS} characters]`);
    const line = 'y'.repeat(1000);
    const count = Math.ceil(MAX_LOG_CHARS / 1001) + 5;
    for (let index = 0; index < count; index += 1) out.push(bytes(`${line}\n`));
    const kept = log.take();
    assert.match(kept.at(-1)!, /^\[\d+ more lines were not kept: the log is over \d+ characters\]$/);
    assert.equal(kept.length - 1 + Number(/\[(\d+)/.exec(kept.at(-1)!)![1]), count);
  });
});
