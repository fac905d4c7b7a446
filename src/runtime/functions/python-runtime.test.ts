import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExecutionEnvironment } from './execution-environment.ts';
import { functionFolder, invocation, logLines, payloadOf, specFor, withFunction } from './environment.fixture.ts';

const PYTHON = { runtime: 'python3.12', handler: 'app.handler' };

describe('the Python runtime', () => {
  it('runs a handler with the event, the context and the function’s variables', async () => {
    const files = {
      'app.py': `
import os

def handler(event, context):
    return {
        "event": event,
        "variable": os.environ["BREED_TABLE"],
        "context": [context.function_name, context.function_version, context.invoked_function_arn, context.memory_limit_in_mb,
                    context.aws_request_id, context.log_group_name, context.log_stream_name],
        "remaining": context.get_remaining_time_in_millis(),
        "client_context": context.client_context,
        "lambda": [os.environ["AWS_EXECUTION_ENV"], os.environ["AWS_DEFAULT_REGION"], os.environ["HOME"] == os.environ["TMPDIR"]],
        "cwd": os.getcwd() == os.environ["LAMBDA_TASK_ROOT"],
    }
`,
    };
    await withFunction(files, { ...PYTHON, environment: { BREED_TABLE: 'breeds-v2' }, memorySizeMb: 128, timeoutSeconds: 5 }, async (environment) => {
      const request = invocation({ breed: 'beagle' }, { clientContext: Buffer.from('{"custom":{"app":"kennel"}}').toString('base64') });
      const outcome = await environment.invoke(request);
      assert.equal(outcome.functionError, undefined, outcome.payload.toString());
      const result = payloadOf(outcome) as Record<string, any>;
      assert.deepEqual(result.event, { breed: 'beagle' });
      assert.equal(result.variable, 'breeds-v2');
      assert.deepEqual(result.context, [
        'dog-breeds',
        '$LATEST',
        request.invokedFunctionArn,
        128,
        request.requestId,
        '/aws/lambda/dog-breeds',
        '2026/01/01/[$LATEST]0123456789abcdef',
      ]);
      assert.ok(result.remaining > 3000 && result.remaining <= 5000, `remaining ${result.remaining}`);
      assert.deepEqual(result.client_context, { custom: { app: 'kennel' } });
      assert.deepEqual(result.lambda, ['AWS_Lambda_python3.12', 'eu-west-1', true]);
      assert.equal(result.cwd, true);
    });
  });

  it('runs a handler in a dotted package module and one named with a path', async () => {
    const files = {
      'pkg/__init__.py': '',
      'pkg/sub/__init__.py': '',
      'pkg/sub/mod.py': 'def fn(event, context):\n    return "dotted"\n',
      'src/app.py': 'def handler(event, context):\n    return "by path"\n',
    };
    const folder = await functionFolder(files);
    try {
      for (const [handler, result] of [
        ['pkg.sub.mod.fn', 'dotted'],
        ['src/app.handler', 'by path'],
      ]) {
        const start = await ExecutionEnvironment.start(specFor(folder, { runtime: 'python3.11', handler }));
        assert.ok(start.ok, `${handler}: ${start.ok ? '' : start.logs}`);
        const outcome = await start.environment.invoke(invocation());
        await start.environment.close();
        assert.equal(payloadOf(outcome), result);
      }
    } finally {
      await folder.remove();
    }
  });

  it('puts print() and logging into the invocation’s log, stderr included', async () => {
    const files = {
      'app.py': `
import logging, sys
print("loading")
logger = logging.getLogger()
logger.setLevel(logging.INFO)

def handler(event, context):
    print("dog", event["name"])
    logger.info("looked up %s", event["name"])
    print("to stderr", file=sys.stderr)
    return None
`,
    };
    const folder = await functionFolder(files);
    try {
      const start = await ExecutionEnvironment.start(specFor(folder, PYTHON));
      assert.ok(start.ok);
      assert.equal(start.logs, 'loading\n');
      const request = invocation({ name: 'Rex' });
      const outcome = await start.environment.invoke(request);
      await start.environment.close();
      assert.equal(outcome.payload.toString(), 'null');
      const lines = logLines(outcome);
      assert.equal(lines[0], `START RequestId: ${request.requestId} Version: $LATEST`);
      assert.deepEqual(lines.slice(1, -2), ['dog Rex', lines[2], 'to stderr']);
      assert.match(lines[2], new RegExp(`^\\[INFO\\]\\t\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\\t${request.requestId}\\tlooked up Rex$`));
      assert.match(lines.at(-1)!, /^REPORT RequestId: .*\tInit Duration: /);
    } finally {
      await folder.remove();
    }
  });

  it('answers an exception with errorMessage, errorType, requestId and stackTrace, and stays usable', async () => {
    const files = {
      'app.py': `
def lookup(name):
    raise KeyError(name)

def handler(event, context):
    return lookup("unknown-breed")
`,
    };
    await withFunction(files, PYTHON, async (environment) => {
      const request = invocation();
      const outcome = await environment.invoke(request);
      assert.equal(outcome.functionError, 'Unhandled');
      assert.equal(outcome.errorType, 'KeyError');
      const error = payloadOf(outcome) as { errorMessage: string; errorType: string; requestId: string; stackTrace: string[] };
      assert.equal(error.errorMessage, "'unknown-breed'");
      assert.equal(error.errorType, 'KeyError');
      assert.equal(error.requestId, request.requestId);
      assert.equal(error.stackTrace.length, 2);
      assert.match(error.stackTrace[0], /app\.py", line 6, in handler\n {4}return lookup\("unknown-breed"\)/);
      assert.match(error.stackTrace[1], /app\.py", line 3, in lookup/);
      const lines = logLines(outcome);
      assert.ok(lines.includes("[ERROR] KeyError: 'unknown-breed'"), outcome.logs);
      assert.ok(lines.includes('Traceback (most recent call last):'));
      assert.equal(outcome.environmentLost, false);
      assert.equal((await environment.invoke(invocation())).errorType, 'KeyError');
    });
  });

  it('answers a result that is not JSON with Runtime.MarshalError', async () => {
    await withFunction({ 'app.py': 'def handler(event, context):\n    return {1, 2}\n' }, PYTHON, async (environment) => {
      const outcome = await environment.invoke(invocation());
      assert.equal(outcome.errorType, 'Runtime.MarshalError');
      assert.match((payloadOf(outcome) as { errorMessage: string }).errorMessage, /^Unable to marshal response: Object of type set is not JSON serializable/);
    });
  });

  it('reports init errors as Lambda does: a missing module, a missing handler, a syntax error', async () => {
    const files = {
      'nohandler.py': 'def other(event, context):\n    return 1\n',
      'broken.py': 'def handler(event, context)\n    return 1\n',
      'needsdep.py': 'import left_pad\n',
      'crashes.py': 'raise ValueError("bad configuration")\n',
    };
    const folder = await functionFolder(files);
    try {
      const cases: Array<[string, string, string | RegExp]> = [
        ['missing.handler', 'Runtime.ImportModuleError', "Unable to import module 'missing': No module named 'missing'"],
        ['needsdep.handler', 'Runtime.ImportModuleError', "Unable to import module 'needsdep': No module named 'left_pad'"],
        ['nohandler.handler', 'Runtime.HandlerNotFound', "Handler 'handler' missing on module 'nohandler'"],
        ['broken.handler', 'Runtime.UserCodeSyntaxError', /^Syntax error in module 'broken': expected ':' \(broken\.py, line 1\)$/],
        ['crashes.handler', 'ValueError', 'bad configuration'],
        ['nodot', 'Runtime.MalformedHandlerName', /^Bad handler 'nodot': /],
      ];
      for (const [handler, errorType, message] of cases) {
        const start = await ExecutionEnvironment.start(specFor(folder, { runtime: 'python3.11', handler }));
        assert.ok(!start.ok, handler);
        assert.equal(start.errorType, errorType, `${handler}: ${start.errorMessage}`);
        if (typeof message === 'string') assert.equal(start.errorMessage, message);
        else assert.match(start.errorMessage, message);
        const payload = JSON.parse(start.payload.toString()) as Record<string, unknown>;
        assert.deepEqual(Object.keys(payload).sort(), ['errorMessage', 'errorType', 'requestId', 'stackTrace']);
        const lines = logLines(start);
        assert.ok(lines.some((line) => line.startsWith(`[ERROR] ${errorType}: `)), start.logs);
        assert.match(lines.at(-1)!, new RegExp(`^INIT_REPORT .*\\tStatus: error\\tError Type: ${errorType.replace('.', '\\.')}$`));
      }
    } finally {
      await folder.remove();
    }
  });
});
