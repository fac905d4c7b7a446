import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { invocation, payloadOf, SECRET, withFunction } from './environment.fixture.ts';
import { describeIsolation } from './sandbox.ts';

const isolation = await describeIsolation();
const withoutLandlock = isolation.landlock.available ? false : 'the kernel has no Landlock';

/** Tries each of Kennel's state files from inside the function; answers what happened to each. */
const NODE_PROBE = `
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
const state = join(process.env.LAMBDA_TASK_ROOT, '..', '..', '..');
const attempt = (action) => { try { const value = action(); return 'allowed: ' + String(value).slice(0, 40); } catch (error) { return error.code ?? error.message; } };
export const handler = async (event) => {
  if (event.child) return attempt(() => execFileSync('/bin/cat', [join(state, 'credentials')], { stdio: ['ignore', 'pipe', 'pipe'] }).toString());
  return {
    credentials: attempt(() => readFileSync(join(state, 'credentials'), 'utf8')),
    database: attempt(() => readFileSync(join(state, 'kennel.db'), 'utf8')),
    secretsKey: attempt(() => readFileSync(join(state, 'secrets.key'), 'utf8')),
    listing: attempt(() => readdirSync(state).join(',')),
    shadow: attempt(() => readFileSync('/etc/shadow', 'utf8')),
    throughProc: attempt(() => readFileSync('/proc/self/root' + join(state, 'credentials'), 'utf8')),
    ownCode: attempt(() => readFileSync(join(process.env.LAMBDA_TASK_ROOT, 'index.mjs'), 'utf8').length > 0),
    writeCode: attempt(() => writeFileSync(join(process.env.LAMBDA_TASK_ROOT, 'planted.js'), 'x')),
    writeTmp: attempt(() => { writeFileSync(join(process.env.TMPDIR, 'scratch'), 'x'); return readFileSync(join(process.env.TMPDIR, 'scratch'), 'utf8'); }),
  };
};`;

const PYTHON_PROBE = `
import os, subprocess
state = os.path.join(os.environ["LAMBDA_TASK_ROOT"], "..", "..", "..")

def attempt(action):
    try:
        return "allowed: " + str(action())[:40]
    except Exception as error:
        return type(error).__name__

def write_tmp():
    with open(os.path.join(os.environ["TMPDIR"], "scratch"), "w") as out:
        out.write("x")
    return open(os.path.join(os.environ["TMPDIR"], "scratch")).read()

def handler(event, context):
    if event.get("child"):
        run = subprocess.run(["/bin/cat", os.path.join(state, "credentials")], capture_output=True, text=True)
        return "exit %d: %s" % (run.returncode, run.stdout or run.stderr.strip())
    return {
        "credentials": attempt(lambda: open(os.path.join(state, "credentials")).read()),
        "database": attempt(lambda: open(os.path.join(state, "kennel.db")).read()),
        "secretsKey": attempt(lambda: open(os.path.join(state, "secrets.key")).read()),
        "listing": attempt(lambda: ",".join(os.listdir(state))),
        "shadow": attempt(lambda: open("/etc/shadow").read()),
        "throughProc": attempt(lambda: open("/proc/self/root" + os.path.realpath(os.path.join(state, "credentials"))).read()),
        "ownCode": attempt(lambda: "true" if open(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "index.py")).read() else "false"),
        "writeCode": attempt(lambda: open(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "planted.py"), "w").write("x")),
        "writeTmp": attempt(write_tmp),
    }
`;

function expectRefused(result: unknown, refusal: RegExp): void {
  const answers = result as Record<string, string>;
  for (const key of ['credentials', 'database', 'secretsKey', 'listing', 'shadow', 'throughProc', 'writeCode']) {
    assert.match(answers[key], refusal, `${key}: ${answers[key]}`);
    assert.ok(!answers[key].includes(SECRET.slice(0, 20)), `${key} leaked`);
  }
  assert.equal(answers.ownCode, 'allowed: true');
  assert.equal(answers.writeTmp, 'allowed: x');
}

describe('filesystem isolation', () => {
  it('describes the isolation in effect', () => {
    assert.match(isolation.summary, /^Function sandboxes: /);
    if (isolation.landlock.available) assert.ok(isolation.landlock.abi >= 1);
  });

  it('Landlock keeps a Node.js function out of the state folder around its code, and its child processes too', { skip: withoutLandlock }, async () => {
    await withFunction({ 'index.mjs': NODE_PROBE }, {}, async (environment) => {
      assert.deepEqual(environment.isolation, ['landlock', 'node-permissions']);
      // Node's permission model answers first; Landlock stands behind it.
      expectRefused(payloadOf(await environment.invoke(invocation())), /^(ERR_ACCESS_DENIED|EACCES)$/);
      const child = payloadOf(await environment.invoke(invocation({ child: true }))) as string;
      assert.match(child, /^Command failed: \/bin\/cat .*\n\/bin\/cat: .*credentials: Permission denied/s);
      assert.ok(!child.includes(SECRET.slice(0, 20)));
    });
  });

  it('Landlock keeps a Python function out of the state folder around its code, and its child processes too', { skip: withoutLandlock }, async () => {
    await withFunction({ 'index.py': PYTHON_PROBE }, { runtime: 'python3.11', handler: 'index.handler' }, async (environment) => {
      assert.deepEqual(environment.isolation, ['landlock']);
      expectRefused(payloadOf(await environment.invoke(invocation())), /^PermissionError$/);
      assert.match(payloadOf(await environment.invoke(invocation({ child: true }))) as string, /^exit 1: .*Permission denied$/);
    });
  });

  it('without Landlock, Node’s permission model still refuses the reads, and child processes altogether', async () => {
    await withFunction(
      { 'index.mjs': NODE_PROBE },
      {},
      async (environment) => {
        assert.deepEqual(environment.isolation, ['node-permissions']);
        expectRefused(payloadOf(await environment.invoke(invocation())), /^ERR_ACCESS_DENIED$/);
        assert.equal(payloadOf(await environment.invoke(invocation({ child: true }))), 'ERR_ACCESS_DENIED');
      },
      { landlock: false },
    );
  });

  it('without Landlock, the audit hook still refuses a Python function’s reads, and child processes altogether', async () => {
    await withFunction(
      { 'index.py': PYTHON_PROBE },
      { runtime: 'python3.11', handler: 'index.handler' },
      async (environment) => {
        assert.deepEqual(environment.isolation, ['audit-hook']);
        expectRefused(payloadOf(await environment.invoke(invocation())), /^PermissionError$/);
        const child = await environment.invoke(invocation({ child: true }));
        assert.equal(child.errorType, 'PermissionError');
      },
      { landlock: false },
    );
  });
});

describe('signals', () => {
  const scoped = isolation.landlock.available && isolation.landlock.abi >= 6 ? false : 'the kernel’s Landlock cannot scope signals (ABI 6)';

  it('a function cannot signal processes outside its sandbox, Kennel’s included', { skip: scoped }, async () => {
    const bystander = spawn('sleep', ['30'], { stdio: 'ignore' });
    const nodeKill = `export const handler = async ({ pid }) => { try { process.kill(pid, 'SIGKILL'); return 'killed'; } catch (error) { return error.code; } };`;
    const pythonKill = 'import os\n\ndef handler(event, context):\n    try:\n        os.kill(event["pid"], 9)\n        return "killed"\n    except OSError as error:\n        return type(error).__name__\n';
    try {
      await withFunction({ 'index.mjs': nodeKill }, {}, async (environment) => {
        assert.equal(payloadOf(await environment.invoke(invocation({ pid: bystander.pid }))), 'EPERM');
        assert.equal(payloadOf(await environment.invoke(invocation({ pid: process.pid }))), 'EPERM');
      });
      await withFunction({ 'app.py': pythonKill }, { runtime: 'python3.11', handler: 'app.handler' }, async (environment) => {
        assert.equal(payloadOf(await environment.invoke(invocation({ pid: bystander.pid }))), 'PermissionError');
      });
      assert.equal(bystander.exitCode, null, 'the bystander is still running');
    } finally {
      bystander.kill();
    }
  });
});

describe('the function’s environment variables', () => {
  it('hold the function’s variables and Lambda’s, never Kennel’s own, and Lambda’s reserved names win', async () => {
    const kennel = { KENNEL_HOME: '/secret/state', AWS_ACCESS_KEY_ID: 'AKIASERVER', AWS_SECRET_ACCESS_KEY: 'server-secret', NODE_EXTRA_CA_CERTS: '/etc/ssl/x.pem' };
    Object.assign(process.env, kennel);
    try {
      await withFunction(
        { 'index.mjs': `export const handler = async () => process.env;` },
        {
          environment: {
            BREED_TABLE: 'breeds',
            AWS_ACCESS_KEY_ID: 'ASIAFUNCTION',
            AWS_REGION: 'mars-1',
            AWS_LAMBDA_FUNCTION_NAME: 'impostor',
            _X_AMZN_TRACE_ID: 'forged',
            TZ: 'Europe/Paris',
            NODE_OPTIONS: '--enable-source-maps --allow-fs-read=/ --experimental-permission',
          },
        },
        async (environment, own) => {
          const env = payloadOf(await environment.invoke(invocation())) as Record<string, string>;
          for (const name of Object.keys(kennel).filter((key) => key !== 'AWS_ACCESS_KEY_ID')) assert.equal(env[name], undefined, name);
          assert.equal(env.AWS_ACCESS_KEY_ID, 'ASIAFUNCTION', 'injected credentials are the caller’s, not the server’s');
          assert.equal(env.BREED_TABLE, 'breeds');
          assert.equal(env.AWS_REGION, 'eu-west-1');
          assert.equal(env.AWS_DEFAULT_REGION, 'eu-west-1');
          assert.equal(env.AWS_LAMBDA_FUNCTION_NAME, 'dog-breeds');
          assert.match(env._X_AMZN_TRACE_ID, /^Root=1-/);
          assert.equal(env.TZ, 'Europe/Paris', 'TZ, LANG and PATH are the function’s to change, as on Lambda');
          assert.equal(env.NODE_OPTIONS, '--enable-source-maps');
          assert.equal(env.HOME, env.TMPDIR);
          assert.ok(env.TMPDIR.endsWith('/tmp') && own.tmpDir.endsWith('/tmp'));
          assert.deepEqual(
            Object.keys(env)
              .filter((name) => !['BREED_TABLE', 'AWS_ACCESS_KEY_ID', 'TZ', 'NODE_OPTIONS'].includes(name))
              .sort(),
            [
              'AWS_DEFAULT_REGION',
              'AWS_EXECUTION_ENV',
              'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
              'AWS_LAMBDA_FUNCTION_NAME',
              'AWS_LAMBDA_FUNCTION_VERSION',
              'AWS_LAMBDA_INITIALIZATION_TYPE',
              'AWS_LAMBDA_LOG_GROUP_NAME',
              'AWS_LAMBDA_LOG_STREAM_NAME',
              'AWS_LAMBDA_RUNTIME_API',
              'AWS_REGION',
              'HOME',
              'LAMBDA_RUNTIME_DIR',
              'LAMBDA_TASK_ROOT',
              'LANG',
              'PATH',
              'TMPDIR',
              '_HANDLER',
              '_X_AMZN_TRACE_ID',
            ],
          );
        },
      );
    } finally {
      for (const name of Object.keys(kennel)) delete process.env[name];
    }
  });

  it('are reported for a Python function too, with the tmp folder as HOME', async () => {
    await withFunction({ 'app.py': 'import os\n\ndef handler(event, context):\n    return dict(os.environ)\n' }, { runtime: 'python3.13', handler: 'app.handler' }, async (environment) => {
      const env = payloadOf(await environment.invoke(invocation())) as Record<string, string>;
      assert.equal(env.AWS_EXECUTION_ENV, 'AWS_Lambda_python3.13');
      assert.equal(env.HOME, env.TMPDIR);
      assert.equal(env.KENNEL_HOME, undefined);
      assert.equal(env.LANG, 'en_US.UTF-8');
      assert.equal(env.TZ, ':UTC');
    });
  });
});
