import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encodeTraceRecord, type TraceRecord } from '../../domain/debugger/trace-protocol.ts';
import { TraceFiles, TraceFollower } from './trace-files.ts';

const step = (n: number, loss = 1 / (n + 1)): TraceRecord => ({ type: 'step', step: { step: n, epoch: 1, loss, learningRate: 0.01, dataMs: 0, computeMs: 1, tensors: [], relus: [] } });

describe('trace files', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kennel-traces-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('reads back what a writer appended, skipping a line a crash cut short and one damaged on disk', async () => {
    const traces = new TraceFiles(dir);
    const writer = traces.writer('job-a');
    for (let n = 0; n < 5; n++) writer.append(encodeTraceRecord(step(n)));
    writer.append(encodeTraceRecord(step(5, Number.NaN)));
    await writer.close();
    const file = join(dir, 'job-a.jsonl');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('"step":2,', '"step":"two",'));
    await appendFile(file, '{"type":"step","step":6,"lo');
    const { trace, damagedLines } = await traces.read('job-a');
    assert.deepEqual(trace.steps.map((s) => s.step), [0, 1, 3, 4, 5]);
    assert.ok(Number.isNaN(trace.steps.at(-1)!.loss), 'a NaN loss survives the file');
    assert.equal(damagedLines, 2);
  });

  it('a missing trace is an empty one; a rewrite replaces the file whole; names that are not job names are refused', async () => {
    const traces = new TraceFiles(dir);
    assert.deepEqual((await traces.read('never')).trace, { steps: [], epochs: [], system: [] });
    await traces.rewrite('job-b', [step(0), step(1)]);
    await traces.rewrite('job-b', [step(0)]);
    assert.deepEqual((await traces.read('job-b')).trace.steps.map((s) => s.step), [0]);
    await assert.rejects(traces.read('../../etc/passwd'), /Not a training job name/);
  });

  it('follows a file a script appends to, whole lines only, numbering the lines it refuses', async () => {
    const file = join(dir, 'script.jsonl');
    const follower = new TraceFollower(file, 1024);
    assert.deepEqual(await follower.read(), { records: [], rejected: [] }, 'nothing written yet');
    await writeFile(file, '{"type":"step","step":0,"loss":1}\nnot json\n{"type":"step","step":1,');
    const first = await follower.read();
    assert.deepEqual(first.records.map((r) => r.type === 'step' && r.step.step), [0]);
    assert.deepEqual(first.rejected, [{ line: 2, error: 'not JSON' }]);
    await appendFile(file, '"loss":0.5}\n\n');
    const second = await follower.read();
    assert.deepEqual(second.records.map((r) => r.type === 'step' && r.step.step), [1], 'the line finished later is read once whole');
    assert.deepEqual(second.rejected, []);
    await appendFile(file, `${'x'.repeat(3000)}\n{"type":"step","step":2,"loss":0.1}\nbad\n`);
    const reads = [];
    for (let i = 0; i < 5; i++) reads.push(await follower.read());
    const records = reads.flatMap((r) => r.records);
    const rejected = reads.flatMap((r) => r.rejected);
    assert.deepEqual(records.map((r) => r.type === 'step' && r.step.step), [2], 'the line after a runaway one is still read');
    assert.deepEqual(rejected.map((r) => r.line), [5, 7], 'the runaway line counts once, and the lines after it keep their numbers');
    assert.match(rejected[0]!.error, /over 1024 bytes/);
  });

  it('refuses a trace path that a script replaced with a symbolic link or a FIFO, once, instead of following or blocking on it', async () => {
    const secret = join(dir, 'secret.txt');
    await writeFile(secret, '{"type":"step","step":0,"loss":1}\n');
    const link = join(dir, 'link.jsonl');
    await symlink(secret, link);
    const viaLink = new TraceFollower(link);
    const first = await viaLink.read();
    assert.deepEqual(first.records, []);
    assert.match(first.rejected[0]!.error, /symbolic link, which Kennel does not read/);
    assert.deepEqual(await viaLink.read(), { records: [], rejected: [] }, 'refused once, then left alone');

    const fifo = join(dir, 'fifo.jsonl');
    execFileSync('mkfifo', [fifo]);
    const viaFifo = await new TraceFollower(fifo).read();
    assert.match(viaFifo.rejected[0]!.error, /not a regular file/);
  });
});
