import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isDomainError } from '../../core/errors.ts';
import { runScript, scriptCommand, type OutputStream, type RunScriptOptions } from './script-process.ts';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

type Line = [OutputStream, string];

/** Runs a fixture, collecting its lines; `onLine` sees each as it comes. */
async function run(program: string, options: Partial<RunScriptOptions> & { onLine?: (stream: OutputStream, line: string) => void } = {}) {
  const lines: Line[] = [];
  const exit = await runScript({
    interpreter: program.endsWith('.py') ? 'python' : 'node',
    program,
    args: [],
    env: {},
    cwd: FIXTURES,
    ...options,
    onLine: (stream, line) => {
      lines.push([stream, line]);
      options.onLine?.(stream, line);
    },
  });
  return { exit, lines };
}

/** The pid a spawn-child.py run printed. */
function childPid(lines: readonly Line[]): number {
  const line = lines.find(([, text]) => text.startsWith('child='));
  assert.ok(line, 'spawn-child.py printed its child');
  return Number(line[1].slice('child='.length));
}

describe('scriptCommand', () => {
  it('runs Python as python3 from PATH unless KENNEL_PYTHON names another, and Node as this Node.js', () => {
    assert.deepEqual(scriptCommand('python', 'train.py', ['--epochs', '1'], {}), { file: 'python3', args: ['train.py', '--epochs', '1'] });
    assert.deepEqual(scriptCommand('python', 'train.py', [], { KENNEL_PYTHON: '/opt/venv/bin/python' }), { file: '/opt/venv/bin/python', args: ['train.py'] });
    assert.deepEqual(scriptCommand('node', 'train.mjs', ['-a', 'x'], {}), { file: process.execPath, args: ['train.mjs', '-a', 'x'] });
  });
});

describe('runScript', () => {
  it('streams output line by line, whatever the writes and bytes', async () => {
    const { exit, lines } = await run('output.mjs', { maxLineChars: 1000 });
    assert.deepEqual(exit, { exitCode: 0, signal: null, killedAfterGrace: false });
    assert.deepEqual(lines, [
      ['stdout', 'partial'],
      ['stdout', 'café'],
      ['stdout', 'bad\uFFFD'],
      ['stdout', 'windows'],
      ['stdout', `${'x'.repeat(1000)}… [line cut at 1000 characters]`],
      ['stderr', 'to stderr'],
      ['stdout', 'no newline at the end'],
    ]);
  });

  it('gives the script the contract environment, PATH, HOME, LANG and PYTHONUNBUFFERED, and nothing else of the server’s', async () => {
    process.env.KENNEL_TEST_SECRET = 'must not leak';
    try {
      const { lines } = await run('print-env.mjs', { env: { SM_MODEL_DIR: '/m', SM_HP_EPOCHS: '3' } });
      const expected = ['PYTHONUNBUFFERED', 'SM_HP_EPOCHS', 'SM_MODEL_DIR', 'PATH', ...['HOME', 'LANG'].filter((name) => process.env[name] !== undefined)];
      assert.deepEqual(JSON.parse(lines[0][1]), expected.sort());
    } finally {
      delete process.env.KENNEL_TEST_SECRET;
    }
  });

  it('reports how a failing script exited, with everything it printed', async () => {
    const { exit, lines } = await run('fail.py');
    assert.deepEqual(exit, { exitCode: 1, signal: null, killedAfterGrace: false });
    assert.deepEqual(lines[0], ['stdout', 'epoch=1 loss=0.9']);
    assert.deepEqual(lines.at(-1), ['stderr', 'ValueError: bad data in the training channel']);
    assert.ok(lines.some(([stream, line]) => stream === 'stderr' && line === 'Traceback (most recent call last):'));
  });

  it('stops a script on abort with SIGTERM to its process group, children included', async () => {
    const controller = new AbortController();
    const { exit, lines } = await run('spawn-child.py', {
      signal: controller.signal,
      onLine: (_, line) => {
        if (line.startsWith('child=')) controller.abort();
      },
    });
    assert.deepEqual(exit, { exitCode: null, signal: 'SIGTERM', stoppedBy: 'abort', killedAfterGrace: false });
    assert.equal(existsSync(`/proc/${childPid(lines)}`), false, 'the child the script started is gone, not left as an orphan or a zombie');
  });

  it('kills a script that ignores SIGTERM once the grace period is over', async () => {
    const controller = new AbortController();
    const { exit } = await run('ignore-sigterm.py', {
      signal: controller.signal,
      stopGraceMs: 200,
      onLine: (_, line) => {
        if (line === 'ready') controller.abort();
      },
    });
    assert.deepEqual(exit, { exitCode: null, signal: 'SIGKILL', stoppedBy: 'abort', killedAfterGrace: true });
  });

  it('kills what a script left running when it exits', async () => {
    const { exit, lines } = await run('spawn-child.py', { args: ['--then', 'exit'] });
    assert.deepEqual(exit, { exitCode: 0, signal: null, killedAfterGrace: false });
    assert.equal(existsSync(`/proc/${childPid(lines)}`), false);
  });

  it('stops a script that runs past its timeout, saying so', async () => {
    const { exit } = await run('spawn-child.py', { timeoutMs: 300 });
    assert.deepEqual(exit, { exitCode: null, signal: 'SIGTERM', stoppedBy: 'timeout', killedAfterGrace: false });
  });

  it('does not start a script whose signal is already aborted', async () => {
    const { exit, lines } = await run('spawn-child.py', { signal: AbortSignal.abort() });
    assert.deepEqual(exit, { exitCode: null, signal: null, stoppedBy: 'abort', killedAfterGrace: false });
    assert.deepEqual(lines, []);
  });

  it('stops the script and rejects with what onLine threw', async () => {
    const failure = new Error('log store is full');
    let pid = 0;
    await assert.rejects(
      run('spawn-child.py', {
        onLine: (_, line) => {
          pid = Number(line.slice('child='.length));
          throw failure;
        },
      }),
      failure,
    );
    assert.equal(existsSync(`/proc/${pid}`), false);
  });

  it('says how to fix an interpreter that is not there', async () => {
    process.env.KENNEL_PYTHON = '/nonexistent/python3';
    try {
      await assert.rejects(run('train.py'), (error: unknown) => {
        assert.ok(isDomainError(error));
        assert.equal(error.code, 'ServiceUnavailable');
        assert.match(error.message, /the interpreter \/nonexistent\/python3 was not found\. Install Python 3 .* or set KENNEL_PYTHON/);
        return true;
      });
    } finally {
      delete process.env.KENNEL_PYTHON;
    }
  });

  it('refuses a working folder that is not there', async () => {
    await assert.rejects(run('train.py', { cwd: join(FIXTURES, 'missing') }), /working folder .*missing does not exist/);
  });
});
