import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ExecutionEnvironment } from './execution-environment.ts';
import { functionFolder, invocation, logLines, payloadOf, specFor, started, type FunctionFolder } from './environment.fixture.ts';
import type { EnvironmentSpec, InvocationOutcome } from './types.ts';

const ISO = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`;

/** After a hostile function, a fresh environment of a well-behaved one starts and answers. */
async function freshEnvironmentWorks(folder: FunctionFolder, overrides: Partial<EnvironmentSpec>): Promise<void> {
  const environment = await started(specFor(folder, overrides));
  try {
    assert.deepEqual(payloadOf(await environment.invoke(invocation({ ping: true }))), 'pong');
  } finally {
    await environment.close();
  }
}

/** Starts `handler` from `folder`, runs one invocation and closes the environment. */
async function invokeOnce(folder: FunctionFolder, overrides: Partial<EnvironmentSpec>, payload: unknown = {}): Promise<{ outcome: InvocationOutcome; environment: ExecutionEnvironment }> {
  const environment = await started(specFor(folder, overrides));
  const exits: unknown[] = [];
  environment.onExit((exit) => exits.push(exit));
  try {
    const outcome = await environment.invoke(invocation(payload));
    return { outcome, environment };
  } finally {
    await environment.close();
    assert.equal(exits.length, 1, 'onExit is called once');
  }
}

function assertLostWith(outcome: InvocationOutcome, errorType: string, message: string, reportStatus: RegExp): void {
  assert.equal(outcome.functionError, 'Unhandled');
  assert.equal(outcome.errorType, errorType);
  assert.deepEqual(payloadOf(outcome), { errorMessage: message, errorType });
  assert.equal(outcome.environmentLost, true);
  assert.match(logLines(outcome).at(-1)!, reportStatus);
  assert.equal(logLines(outcome).at(-2), `END RequestId: ${outcome.requestId}`);
}

const NODE_WELL_BEHAVED = { 'well.mjs': `export const handler = async (event) => (event.ping ? 'pong' : event);` };
const PYTHON_WELL_BEHAVED = { 'well.py': 'def handler(event, context):\n    return "pong" if event.get("ping") else event\n' };

describe('hostile handlers', () => {
  it('a handler that exits the process: Runtime.ExitError, the environment is lost, a fresh one works', async () => {
    const folder = await functionFolder({
      ...NODE_WELL_BEHAVED,
      ...PYTHON_WELL_BEHAVED,
      'exits.mjs': `export const handler = async () => { console.log('leaving'); process.exit(1); };`,
      'exits.py': 'import os\n\ndef handler(event, context):\n    print("leaving", flush=True)\n    os._exit(3)\n',
    });
    try {
      for (const [overrides, status] of [
        [{ handler: 'exits.handler' }, 1],
        [{ runtime: 'python3.11', handler: 'exits.handler' }, 3],
      ] as const) {
        const { outcome, environment } = await invokeOnce(folder, overrides);
        const message = `RequestId: ${outcome.requestId} Error: Runtime exited with error: exit status ${status}`;
        assertLostWith(outcome, 'Runtime.ExitError', message, /\tStatus: error\tError Type: Runtime\.ExitError$/);
        const lines = logLines(outcome);
        assert.ok(lines.some((line) => line.endsWith('leaving')), outcome.logs);
        assert.deepEqual(lines.slice(-4, -2), [message, 'Runtime.ExitError']);
        assert.equal(environment.state, 'dead');
        await assert.rejects(environment.invoke(invocation()), /has stopped/);
        await freshEnvironmentWorks(folder, { runtime: overrides.runtime ?? 'nodejs20.x', handler: 'well.handler' });
      }
    } finally {
      await folder.remove();
    }
  });

  it('a handler that loops forever: killed at its timeout with Sandbox.Timedout, as Lambda reports it', async () => {
    const folder = await functionFolder({
      ...NODE_WELL_BEHAVED,
      ...PYTHON_WELL_BEHAVED,
      'loops.mjs': `export const handler = async () => { console.log('spinning'); for (;;) {} };`,
      'loops.py': 'def handler(event, context):\n    print("spinning")\n    while True:\n        pass\n',
    });
    try {
      for (const runtime of ['nodejs20.x', 'python3.11']) {
        const { outcome } = await invokeOnce(folder, { runtime, handler: 'loops.handler', timeoutSeconds: 1 });
        const id = outcome.requestId;
        assertLostWith(outcome, 'Sandbox.Timedout', `RequestId: ${id} Error: Task timed out after 1.00 seconds`, /\tStatus: timeout$/);
        const lines = logLines(outcome);
        assert.ok(lines.some((line) => line.endsWith('spinning')), outcome.logs);
        assert.match(lines.at(-3)!, new RegExp(`^${ISO} ${id} Task timed out after 1\\.00 seconds$`));
        assert.ok(outcome.durationMs >= 1000, `duration ${outcome.durationMs}`);
        await freshEnvironmentWorks(folder, { runtime, handler: 'well.handler' });
      }
    } finally {
      await folder.remove();
    }
  });

  it('a handler that allocates past its MemorySize: Runtime.OutOfMemory, Max Memory Used at the limit', async () => {
    const folder = await functionFolder({
      ...NODE_WELL_BEHAVED,
      ...PYTHON_WELL_BEHAVED,
      // Buffers live outside the V8 heap: only the resident size shows them, as on Lambda.
      'hog.mjs': `const kept = []; export const handler = async () => { for (;;) kept.push(Buffer.alloc(8 * 1024 * 1024, 1)); };`,
      // Allocates and answers at once: over the limit however briefly is over it.
      'hog.py': 'kept = []\n\ndef handler(event, context):\n    for _ in range(48):\n        kept.append(b"\\x01" * (8 * 1024 * 1024))\n    return "survived"\n',
    });
    try {
      for (const runtime of ['nodejs20.x', 'python3.11']) {
        const { outcome } = await invokeOnce(folder, { runtime, handler: 'hog.handler', memorySizeMb: 128 });
        const message = `RequestId: ${outcome.requestId} Error: Runtime exited with error: signal: killed`;
        assertLostWith(outcome, 'Runtime.OutOfMemory', message, /\tMax Memory Used: 128 MB(\tInit Duration: [\d.]+ ms)?\tStatus: error\tError Type: Runtime\.OutOfMemory$/);
        assert.equal(outcome.maxMemoryUsedMb, 128);
        assert.deepEqual(logLines(outcome).slice(-4, -2), [message, 'Runtime.OutOfMemory']);
        await freshEnvironmentWorks(folder, { runtime, handler: 'well.handler', memorySizeMb: 128 });
      }
    } finally {
      await folder.remove();
    }
  });

  it('work a handler leaves running that allocates past MemorySize between invocations: the environment is stopped', async () => {
    const folder = await functionFolder({
      // It starts allocating a while after it has answered: only the watch between invocations can see it.
      'leaks.mjs': `const kept = []; export const handler = async () => { setTimeout(() => setInterval(() => kept.push(Buffer.alloc(8 * 1024 * 1024, 1)), 20), 200); return 'answered'; };`,
    });
    try {
      const environment = await started(specFor(folder, { handler: 'leaks.handler', memorySizeMb: 128 }));
      const exited = new Promise((resolve) => environment.onExit(resolve));
      assert.equal(payloadOf(await environment.invoke(invocation())), 'answered');
      assert.deepEqual(await exited, { exitCode: null, signal: 'SIGKILL' });
      assert.equal(environment.state, 'dead');
      await environment.close();
    } finally {
      await folder.remove();
    }
  });

  it('a handler that fills /tmp past its EphemeralStorage: stopped with Runtime.ExitError that says so, and a fresh environment works', async () => {
    const folder = await functionFolder({
      ...NODE_WELL_BEHAVED,
      ...PYTHON_WELL_BEHAVED,
      'fills.mjs': `import { appendFileSync } from 'node:fs';
        export const handler = async () => { for (;;) { appendFileSync(process.env.TMPDIR + '/fill', Buffer.alloc(4 * 1024 * 1024, 1)); await new Promise((r) => setTimeout(r, 5)); } };`,
      'fills.py': 'import os, time\n\ndef handler(event, context):\n    with open(os.path.join(os.environ["TMPDIR"], "fill"), "wb") as out:\n        while True:\n            out.write(b"\\x01" * (4 * 1024 * 1024))\n            out.flush()\n            time.sleep(0.005)\n',
    });
    try {
      for (const runtime of ['nodejs20.x', 'python3.11']) {
        const { outcome } = await invokeOnce(folder, { runtime, handler: 'fills.handler', ephemeralStorageMb: 16, timeoutSeconds: 30 });
        const message = new RegExp(String.raw`^RequestId: ${outcome.requestId} Error: Runtime exited with error: signal: killed \(its /tmp held \d+ MB, over its EphemeralStorage of 16 MB\)$`);
        assert.equal(outcome.errorType, 'Runtime.ExitError', outcome.logs);
        assert.match((payloadOf(outcome) as { errorMessage: string }).errorMessage, message);
        assert.equal(outcome.environmentLost, true);
        assert.ok(outcome.durationMs < 10_000, `stopped well before its timeout (${outcome.durationMs} ms)`);
        // Each environment has a /tmp of its own, removed with it; this fixture's folder is shared, so it is emptied here.
        await rm(join(folder.tmpDir, 'fill'));
        await freshEnvironmentWorks(folder, { runtime, handler: 'well.handler', ephemeralStorageMb: 16 });
      }
    } finally {
      await folder.remove();
    }
  });

  it('a handler that hides what it writes in a deleted file it keeps open: stopped all the same', async () => {
    const folder = await functionFolder({
      'hides.mjs': `import { openSync, unlinkSync, writeSync } from 'node:fs';
        export const handler = async () => {
          const path = process.env.TMPDIR + '/hidden';
          const fd = openSync(path, 'w');
          unlinkSync(path);
          for (;;) { writeSync(fd, Buffer.alloc(4 * 1024 * 1024, 1)); await new Promise((r) => setTimeout(r, 5)); }
        };`,
    });
    try {
      const { outcome } = await invokeOnce(folder, { handler: 'hides.handler', ephemeralStorageMb: 16, timeoutSeconds: 30 });
      assert.equal(outcome.errorType, 'Runtime.ExitError', outcome.logs);
      assert.match((payloadOf(outcome) as { errorMessage: string }).errorMessage, /its \/tmp held \d+ MB, over its EphemeralStorage of 16 MB/);
      assert.ok(outcome.durationMs < 10_000, `stopped well before its timeout (${outcome.durationMs} ms)`);
    } finally {
      await folder.remove();
    }
  });

  it('a handler that writes garbage to the Runtime API: each gets a 4xx, the invocation says what happened, the environment stays usable', async () => {
    const folder = await functionFolder({
      'garbage.mjs': `
        import { connect } from 'node:net';
        const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
        const base = 'http://' + process.env.AWS_LAMBDA_RUNTIME_API + '/2018-06-01/runtime';
        const junk = () => new Promise((resolve) => {
          const socket = connect(Number(port), host, () => socket.end('\\x16\\x03\\x01 not http at all\\r\\n\\r\\n'));
          let reply = '';
          socket.on('data', (chunk) => (reply += chunk));
          socket.on('close', () => resolve(reply.split('\\r\\n')[0]));
        });
        export const handler = async (event, context) => {
          const own = base + '/invocation/' + context.awsRequestId;
          if (event.mode === 'junk') {
            console.log('raw junk:', await junk());
            console.log('another id:', (await fetch(base + '/invocation/not-mine/response', { method: 'POST', body: '"x"' })).status);
            console.log('steal next:', (await fetch(base + '/invocation/next')).status);
            console.log('unknown path:', (await fetch(base + '/../../etc/passwd')).status);
            console.log('bad error body:', (await fetch(own + '/error', { method: 'POST', body: '{oops' })).status);
            return 'never seen: the bad error body ended the invocation';
          }
          if (event.mode === 'twice') {
            console.log('first answer:', (await fetch(own + '/response', { method: 'POST', body: '"first"' })).status);
            return 'second';
          }
          if (event.mode === 'huge') return 'x'.repeat(7 * 1024 * 1024);
          return 'still fine';
        };`,
    });
    try {
      const environment = await started(specFor(folder, { handler: 'garbage.handler' }));
      try {
        const junk = await environment.invoke(invocation({ mode: 'junk' }));
        assert.equal(junk.errorType, 'Runtime.Unknown', junk.payload.toString());
        assert.deepEqual(payloadOf(junk), { errorMessage: 'The runtime reported an error whose body is not JSON: {oops', errorType: 'Runtime.Unknown' });
        const said = logLines(junk).filter((line) => line.includes('\tINFO\t')).map((line) => line.split('\tINFO\t')[1]);
        assert.deepEqual(said, ['raw junk: HTTP/1.1 400 Bad Request', 'another id: 400', 'steal next: 403', 'unknown path: 404', 'bad error body: 400']);
        assert.equal(junk.environmentLost, false);

        const twice = await environment.invoke(invocation({ mode: 'twice' }));
        assert.equal(twice.functionError, undefined);
        assert.equal(payloadOf(twice), 'first');
        assert.ok(logLines(twice).some((line) => line.endsWith('\tINFO\tfirst answer: 202')), twice.logs);

        const huge = await environment.invoke(invocation({ mode: 'huge' }));
        assert.equal(huge.errorType, 'Function.ResponseSizeTooLarge');
        assert.deepEqual(payloadOf(huge), {
          errorMessage: 'Response payload size exceeded maximum allowed payload size (6291556 bytes).',
          errorType: 'Function.ResponseSizeTooLarge',
        });
        assert.equal(huge.environmentLost, false);

        assert.equal(payloadOf(await environment.invoke(invocation({ mode: 'plain' }))), 'still fine');
        assert.equal(environment.state, 'idle');
      } finally {
        await environment.close();
      }
    } finally {
      await folder.remove();
    }
  });

  it('a Python handler whose answer is over 6 MB: Function.ResponseSizeTooLarge, and the environment stays usable', async () => {
    const folder = await functionFolder({ 'app.py': 'def handler(event, context):\n    return "x" * (7 * 1024 * 1024) if event.get("huge") else "small"\n' });
    try {
      const environment = await started(specFor(folder, { runtime: 'python3.11', handler: 'app.handler' }));
      try {
        const huge = await environment.invoke(invocation({ huge: true }));
        assert.equal(huge.errorType, 'Function.ResponseSizeTooLarge');
        assert.equal(huge.environmentLost, false);
        assert.equal(payloadOf(await environment.invoke(invocation())), 'small');
      } finally {
        await environment.close();
      }
    } finally {
      await folder.remove();
    }
  });

  it('an init that never finishes is stopped at the init limit, and nothing is left running', async () => {
    const folder = await functionFolder({ 'stuck.mjs': `await new Promise(() => setInterval(() => {}, 1000)); export const handler = () => 1;` });
    try {
      const start = await ExecutionEnvironment.start(specFor(folder, { handler: 'stuck.handler' }), { initTimeoutMs: 500 });
      assert.ok(!start.ok);
      assert.equal(start.errorType, 'Sandbox.Timedout');
      assert.equal(start.errorMessage, 'Init timed out after 0.50 seconds');
      assert.match(start.logs, /^INIT_REPORT Init Duration: \d+\.\d\d ms\tPhase: init\tStatus: timeout\n$/m);
    } finally {
      await folder.remove();
    }
  });

  it('a runtime that exits during init: Runtime.ExitError with its exit status', async () => {
    const folder = await functionFolder({ 'quits.js': `console.log('bye'); process.exit(4);` });
    try {
      const start = await ExecutionEnvironment.start(specFor(folder, { handler: 'quits.handler' }));
      assert.ok(!start.ok);
      assert.equal(start.errorType, 'Runtime.ExitError');
      assert.equal(start.errorMessage, 'Runtime exited with error: exit status 4');
      assert.match(start.logs, /\tINFO\tbye\n/);
    } finally {
      await folder.remove();
    }
  });
});
