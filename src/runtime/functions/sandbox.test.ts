import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isDomainError } from '../../core/errors.ts';
import { ExecutionEnvironment } from './execution-environment.ts';
import { functionFolder, KENNEL_NODE_MODULES, specFor, type FunctionFolder } from './environment.fixture.ts';
import { runtimeFamily, SUPPORTED_RUNTIMES } from './runtimes.ts';
import { describeIsolation, outermost, planLaunch, type LaunchRequest } from './sandbox.ts';

describe('runtimes', () => {
  it('maps each supported runtime to its bootstrap and nothing else', () => {
    assert.deepEqual(
      SUPPORTED_RUNTIMES.map((runtime) => runtimeFamily(runtime)),
      ['nodejs', 'nodejs', 'nodejs', 'python', 'python', 'python', 'python', 'python', 'python'],
    );
    for (const other of ['nodejs16.x', 'python2.7', 'java21', 'provided.al2023', 'nodejs20.x ']) assert.equal(runtimeFamily(other), undefined, other);
  });

  it('refuses to start an unsupported runtime, naming the supported ones', async () => {
    const folder = await functionFolder({});
    try {
      await assert.rejects(ExecutionEnvironment.start(specFor(folder, { runtime: 'java21' })), (error) => {
        assert.ok(isDomainError(error) && error.code === 'ValidationError');
        assert.match(error.message, /^Runtime java21 is not supported; use one of nodejs18\.x, nodejs20\.x, .*python3\.13\.$/);
        return true;
      });
    } finally {
      await folder.remove();
    }
  });
});

describe('without Python', () => {
  const serverEnv = { KENNEL_PYTHON: '/nonexistent/python3' };

  it('refuses to start a Python function, saying how to fix it, and runs Node.js functions without Landlock', async () => {
    const folder = await functionFolder({ 'app.py': 'def handler(e, c):\n    return 1\n', 'index.mjs': 'export const handler = async () => 1;' });
    try {
      await assert.rejects(ExecutionEnvironment.start(specFor(folder, { runtime: 'python3.11', handler: 'app.handler' }), { serverEnv }), (error) => {
        assert.ok(isDomainError(error) && error.code === 'ServiceUnavailable');
        assert.match(error.message, /^Cannot run Python functions: \/nonexistent\/python3 was not found\. Install Python 3 .*KENNEL_PYTHON/);
        return true;
      });
      const start = await ExecutionEnvironment.start(specFor(folder), { serverEnv });
      assert.ok(start.ok);
      assert.deepEqual(start.environment.isolation, ['node-permissions']);
      await start.environment.close();
      const report = await describeIsolation(serverEnv);
      assert.equal(report.landlock.available, false);
      assert.match(report.summary, /Python functions under none: Python functions cannot run/);
    } finally {
      await folder.remove();
    }
  });
});

describe('outermost', () => {
  it('keeps one path per tree, and each path once', () => {
    assert.deepEqual(outermost(['/usr', '/usr/lib', '/usr', '/lib64', '/lib', '/usr/local/bin', '/proc/self', '/proc/stat']), [
      '/usr',
      '/lib64',
      '/lib',
      '/proc/self',
      '/proc/stat',
    ]);
  });
});

describe('planLaunch', () => {
  let folder: FunctionFolder;
  before(async () => (folder = await functionFolder({})));
  after(() => folder.remove());
  const request = (overrides: Partial<LaunchRequest> = {}): LaunchRequest => ({
    spec: specFor(folder, { readableDirs: [KENNEL_NODE_MODULES], memorySizeMb: 512 }),
    runtimeApi: '127.0.0.1:9001',
    marker: 'kennel-end-x',
    resolveHook: false,
    useLandlock: true,
    initializationType: 'on-demand',
    ...overrides,
  });

  it('with Landlock: the launcher, an empty environment at spawn, the function’s on stdin, Node’s heap under MemorySize', async (t) => {
    if (!(await describeIsolation()).landlock.available) return t.skip('the kernel has no Landlock');
    const launch = await planLaunch(request());
    assert.deepEqual(launch.isolation, ['landlock', 'node-permissions']);
    assert.deepEqual(launch.env, {});
    assert.deepEqual(launch.args.slice(0, 3), ['-I', '-S', launch.args[2]]);
    assert.ok(launch.args[2].endsWith('/bootstraps/landlock.py'));
    const separator = launch.args.indexOf('--');
    const rules = launch.args.slice(3, separator);
    assert.ok(rules.includes(folder.codeDir) && rules[rules.indexOf(folder.tmpDir) - 1] === '--rw');
    assert.ok(!rules.some((path) => path === folder.stateDir || folder.stateDir.startsWith(`${path}/`)), 'nothing above the code is readable');
    const node = launch.args.slice(separator + 1);
    assert.equal(node[0], process.execPath);
    assert.ok(node.includes('--max-old-space-size=460'));
    assert.ok(node.includes('--allow-child-process'));
    const env = Object.fromEntries(launch.stdin!.split('\0').filter(Boolean).map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
    assert.equal(env.AWS_LAMBDA_RUNTIME_API, '127.0.0.1:9001');
    assert.ok(env.NODE_PATH.endsWith('/node_modules'), 'a readable node_modules is where require looks');
  });

  it('without Landlock: Node’s permission model alone, and no child processes', async () => {
    const launch = await planLaunch(request({ useLandlock: false, resolveHook: true }));
    assert.deepEqual(launch.isolation, ['node-permissions']);
    assert.equal(launch.file, process.execPath);
    assert.ok(!launch.args.includes('--allow-child-process'));
    assert.equal(launch.args.at(-1), 'resolve-hook');
    assert.equal(launch.stdin, undefined);
    assert.equal(launch.env._HANDLER, 'index.handler');
  });
});
