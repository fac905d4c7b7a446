import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { JobLogs } from './job-logs.ts';

describe('job logs', () => {
  let dir: string;
  let logs: JobLogs;
  let clock = 1000;
  const now = () => clock++;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kennel-logs-'));
    logs = new JobLogs(dir);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('keeps every line, any character included, and follows the log by offset', async () => {
    const writer = logs.writer('job-a', now);
    writer.append('first');
    writer.append('a "quoted"\ttab, a \\ and ünïcødé 🐕');
    await writer.flush();
    const page = await logs.read('job-a');
    assert.deepEqual(page.events.map((event) => event.message), ['first', 'a "quoted"\ttab, a \\ and ünïcødé 🐕']);
    assert.deepEqual(page.events.map((event) => event.atMs), [1000, 1001]);
    writer.append('third');
    await writer.close();
    const rest = await logs.read('job-a', page.next);
    assert.deepEqual(rest.events.map((event) => event.message), ['third']);
    assert.deepEqual(await logs.read('job-a', rest.next), { events: [], next: rest.next });
  });

  it('pages with a limit', async () => {
    const writer = logs.writer('job-b', now);
    for (let i = 0; i < 5; i++) writer.append(`line ${i}`);
    await writer.close();
    const first = await logs.read('job-b', 0, 2);
    const second = await logs.read('job-b', first.next, 10);
    assert.deepEqual([...first.events, ...second.events].map((event) => event.message), ['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
  });

  it('skips a line cut short by a crash and a damaged one, and leaves a line still being written for later', async () => {
    const writer = logs.writer('job-c', now);
    writer.append('before');
    await writer.close();
    await appendFile(join(dir, 'job-c.log'), '{"t":5,"m":"cut sh\n}garbage{\n{"t":6,"m":"after"}\n{"t":7,"m":"half');
    const page = await logs.read('job-c');
    assert.deepEqual(page.events.map((event) => event.message), ['before', 'after']);
    await appendFile(join(dir, 'job-c.log'), ' written"}\n');
    assert.deepEqual((await logs.read('job-c', page.next)).events, [{ atMs: 7, message: 'half written' }]);
  });

  it('reads a job with no log as empty, and refuses what is not a job name', async () => {
    assert.deepEqual(await logs.read('never-ran'), { events: [], next: 0 });
    await assert.rejects(logs.read('../etc/passwd'), /Not a training job name/);
    await assert.rejects(logs.read('job-a', -1), /non-negative integer/);
  });
});
