import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExecutionEnvironment } from './execution-environment.ts';
import { functionFolder, invocation, KENNEL_NODE_MODULES, logLines, payloadOf, specFor, withFunction } from './environment.fixture.ts';

const ISO = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`;

describe('the Node.js runtime', () => {
  it('runs an async ES module handler with the event, the context and the function’s variables', async () => {
    const files = {
      'index.mjs': `
        export const handler = async (event, context) => ({
          event,
          variable: process.env.BREED_TABLE,
          context: {
            functionName: context.functionName, functionVersion: context.functionVersion,
            invokedFunctionArn: context.invokedFunctionArn, memoryLimitInMB: context.memoryLimitInMB,
            awsRequestId: context.awsRequestId, logGroupName: context.logGroupName, logStreamName: context.logStreamName,
            callbackWaitsForEmptyEventLoop: context.callbackWaitsForEmptyEventLoop,
            remaining: context.getRemainingTimeInMillis(), clientContext: context.clientContext,
          },
          lambda: [process.env.AWS_LAMBDA_FUNCTION_NAME, process.env.AWS_REGION, process.env.AWS_EXECUTION_ENV, process.env.TZ, process.env._HANDLER],
          cwd: process.cwd(), taskRoot: process.env.LAMBDA_TASK_ROOT,
        });`,
    };
    await withFunction(files, { handler: 'index.handler', environment: { BREED_TABLE: 'breeds-v2' }, memorySizeMb: 256, timeoutSeconds: 10 }, async (environment, folder) => {
      const clientContext = Buffer.from(JSON.stringify({ custom: { app: 'kennel' } })).toString('base64');
      const request = invocation({ breed: 'beagle' }, { clientContext });
      const outcome = await environment.invoke(request);
      assert.equal(outcome.functionError, undefined, outcome.payload.toString());
      const result = payloadOf(outcome) as Record<string, any>;
      assert.deepEqual(result.event, { breed: 'beagle' });
      assert.equal(result.variable, 'breeds-v2');
      const { remaining, ...context } = result.context;
      assert.ok(remaining > 8000 && remaining <= 10_000, `remaining time ${remaining}`);
      assert.deepEqual(context, {
        functionName: 'dog-breeds',
        functionVersion: '$LATEST',
        invokedFunctionArn: request.invokedFunctionArn,
        memoryLimitInMB: '256',
        awsRequestId: request.requestId,
        logGroupName: '/aws/lambda/dog-breeds',
        logStreamName: '2026/01/01/[$LATEST]0123456789abcdef',
        callbackWaitsForEmptyEventLoop: true,
        clientContext: { custom: { app: 'kennel' } },
      });
      assert.deepEqual(result.lambda, ['dog-breeds', 'eu-west-1', 'AWS_Lambda_nodejs20.x', ':UTC', 'index.handler']);
      assert.equal(result.cwd, result.taskRoot);
      assert.ok(result.taskRoot.endsWith('/code') && folder.codeDir.endsWith('/code'));
    });
  });

  it('runs CommonJS (.js and .cjs), callback handlers, nested paths, and .js as an ES module when its package says so', async () => {
    const files = {
      'callback.js': `exports.handler = (event, context, callback) => { setTimeout(() => callback(null, { style: 'callback', n: event.n }), 5); };`,
      'legacy.cjs': `module.exports.handler = (event, context) => { context.succeed({ style: 'context.succeed' }); };`,
      'sync.js': `exports.handler = () => 'ignored: a sync handler that does not call back answers null';`,
      'src/app.js': `exports.handler = async () => ({ style: 'nested' }); exports.deep = { inside: async () => 'deeper' };`,
      'esm/package.json': '{"type":"module"}',
      'esm/index.js': `export const handler = async () => ({ style: 'esm .js', require: typeof require });`,
    };
    const folder = await functionFolder(files);
    try {
      const expected: Array<[string, unknown]> = [
        ['callback.handler', { style: 'callback', n: 7 }],
        ['legacy.handler', { style: 'context.succeed' }],
        ['sync.handler', null],
        ['src/app.handler', { style: 'nested' }],
        ['src/app.deep.inside', 'deeper'],
        ['esm/index.handler', { style: 'esm .js', require: 'undefined' }],
      ];
      for (const [handler, result] of expected) {
        const start = await ExecutionEnvironment.start(specFor(folder, { handler }));
        assert.ok(start.ok, `${handler}: ${start.ok ? '' : start.logs}`);
        const outcome = await start.environment.invoke(invocation({ n: 7 }));
        await start.environment.close();
        assert.deepEqual(payloadOf(outcome), result, handler);
      }
    } finally {
      await folder.remove();
    }
  });

  it('writes console output in Lambda’s format, stderr included, between START and END, and a REPORT line', async () => {
    const files = {
      'index.js': `
        console.log('loading');
        exports.handler = async (event) => {
          console.log('dog %s', event.name, { age: 3 });
          console.info('info'); console.warn('warn'); console.error('error'); console.debug('debug');
          process.stderr.write('raw stderr\\n');
          process.stdout.write('raw stdout\\n');
          return 'done';
        };`,
    };
    const folder = await functionFolder(files);
    try {
      const start = await ExecutionEnvironment.start(specFor(folder, { handler: 'index.handler', functionVersion: '7', memorySizeMb: 192 }));
      assert.ok(start.ok);
      assert.match(start.logs, new RegExp(`^${ISO}\\tundefined\\tINFO\\tloading\\n$`));
      const request = invocation({ name: 'Rex' });
      const outcome = await start.environment.invoke(request);
      await start.environment.close();
      const id = request.requestId;
      const lines = logLines(outcome);
      assert.equal(lines[0], `START RequestId: ${id} Version: 7`);
      const body = lines.slice(1, -2).map((line) => line.replace(new RegExp(`^${ISO}\\t`), '<time>\t'));
      assert.deepEqual(body, [
        `<time>\t${id}\tINFO\tdog Rex { age: 3 }`,
        `<time>\t${id}\tINFO\tinfo`,
        `<time>\t${id}\tWARN\twarn`,
        `<time>\t${id}\tERROR\terror`,
        `<time>\t${id}\tDEBUG\tdebug`,
        'raw stderr',
        'raw stdout',
      ]);
      assert.equal(lines.at(-2), `END RequestId: ${id}`);
      assert.match(
        lines.at(-1)!,
        new RegExp(`^REPORT RequestId: ${id}\\tDuration: \\d+\\.\\d\\d ms\\tBilled Duration: \\d+ ms\\tMemory Size: 192 MB\\tMax Memory Used: \\d+ MB\\tInit Duration: \\d+\\.\\d\\d ms$`),
      );
      assert.equal(outcome.initDurationMs, start.initDurationMs);
      assert.equal(outcome.billedDurationMs, Math.max(1, Math.ceil(Math.round(outcome.durationMs * 100) / 100)));
      assert.ok(outcome.maxMemoryUsedMb > 10 && outcome.maxMemoryUsedMb < 192, `Max Memory Used ${outcome.maxMemoryUsedMb}`);
    } finally {
      await folder.remove();
    }
  });

  it('reuses a warm environment: the second invocation reports no Init Duration and sees what the first left', async () => {
    const files = { 'index.mjs': `let calls = 0; export const handler = async () => ({ calls: ++calls });` };
    await withFunction(files, {}, async (environment) => {
      const first = await environment.invoke(invocation());
      assert.equal(environment.state, 'idle');
      const second = await environment.invoke(invocation());
      assert.deepEqual([payloadOf(first), payloadOf(second)], [{ calls: 1 }, { calls: 2 }]);
      assert.ok(first.initDurationMs !== undefined && first.initDurationMs > 0);
      assert.equal(second.initDurationMs, undefined);
      assert.match(logLines(first).at(-1)!, /\tInit Duration: /);
      assert.doesNotMatch(logLines(second).at(-1)!, /Init Duration/);
      assert.equal(second.environmentLost, false);
    });
  });

  it('reports no Init Duration for an environment initialised ahead of demand (provisioned concurrency)', async () => {
    const files = { 'index.mjs': `export const handler = async () => process.env.AWS_LAMBDA_INITIALIZATION_TYPE;` };
    await withFunction(
      files,
      {},
      async (environment) => {
        const first = await environment.invoke(invocation());
        assert.equal(payloadOf(first), 'provisioned-concurrency');
        assert.equal(first.initDurationMs, undefined);
        assert.doesNotMatch(first.logs, /Init Duration/);
      },
      { initializationType: 'provisioned-concurrency' },
    );
  });

  it('refuses a second invocation while one runs', async () => {
    const files = { 'index.mjs': `export const handler = (event) => new Promise((resolve) => setTimeout(() => resolve(event), 50));` };
    await withFunction(files, {}, async (environment) => {
      const running = environment.invoke(invocation({ n: 1 }));
      assert.equal(environment.state, 'busy');
      await assert.rejects(environment.invoke(invocation({ n: 2 })), (error: Error & { code?: string }) => error.code === 'Conflict' && /one invocation at a time/.test(error.message));
      assert.deepEqual(payloadOf(await running), { n: 1 });
    });
  });

  it('answers a handler’s error with Lambda’s error shape and logs it as an Invoke Error', async () => {
    const files = { 'index.mjs': `export const handler = async () => { const error = new TypeError('no such breed'); throw error; };` };
    await withFunction(files, {}, async (environment) => {
      const request = invocation();
      const outcome = await environment.invoke(request);
      assert.equal(outcome.functionError, 'Unhandled');
      assert.equal(outcome.errorType, 'TypeError');
      const error = payloadOf(outcome) as { errorType: string; errorMessage: string; trace: string[] };
      assert.equal(error.errorType, 'TypeError');
      assert.equal(error.errorMessage, 'no such breed');
      assert.equal(error.trace[0], 'TypeError: no such breed');
      assert.match(error.trace[1], /index\.mjs:1:/);
      assert.ok(logLines(outcome).some((line) => new RegExp(`\\t${request.requestId}\\tERROR\\tInvoke Error \\t\\{"errorType":"TypeError","errorMessage":"no such breed"`).test(line)));
      assert.equal(outcome.environmentLost, false);
      assert.equal((await environment.invoke(invocation())).errorType, 'TypeError', 'the environment stays usable');
    });
  });

  it('reports an uncaught exception and an unhandled rejection for the invocation, and the runtime exits, as Lambda’s does', async () => {
    const files = {
      'throws.mjs': `export const handler = async () => { setTimeout(() => { throw new RangeError('late'); }, 1); await new Promise(() => {}); };`,
      'rejects.mjs': `export const handler = async () => { Promise.reject(new Error('nobody waits')); await new Promise(() => {}); };`,
    };
    const folder = await functionFolder(files);
    try {
      for (const [handler, errorType, message] of [
        ['throws.handler', 'RangeError', 'late'],
        ['rejects.handler', 'Runtime.UnhandledPromiseRejection', 'Error: nobody waits'],
      ]) {
        const start = await ExecutionEnvironment.start(specFor(folder, { handler }));
        assert.ok(start.ok);
        const outcome = await start.environment.invoke(invocation());
        assert.equal(outcome.errorType, errorType, outcome.payload.toString());
        assert.equal((payloadOf(outcome) as { errorMessage: string }).errorMessage, message);
        assert.equal(outcome.environmentLost, true);
        assert.equal(start.environment.state, 'dead');
        assert.ok(logLines(outcome).some((line) => /\tERROR\t(Uncaught Exception|Unhandled Promise Rejection) \t/.test(line)), outcome.logs);
        await start.environment.close();
      }
    } finally {
      await folder.remove();
    }
  });

  it('reports init errors as Lambda does: a missing module, a missing export, a syntax error', async () => {
    const files = {
      'noexport.mjs': `export const other = 1;`,
      'broken.js': `exports.handler = async () => { return 1 +; };`,
      'needsdep.js': `require('left-pad'); exports.handler = async () => 1;`,
      'print.mjs': `console.log('before the failure'); export const handler = 1;`,
    };
    const folder = await functionFolder(files);
    try {
      const cases: Array<[string, string, RegExp]> = [
        ['missing.handler', 'Runtime.ImportModuleError', /^Error: Cannot find module 'missing'\nRequire stack:\n- /],
        ['needsdep.handler', 'Runtime.ImportModuleError', /^Error: Cannot find module 'left-pad'/],
        ['noexport.handler', 'Runtime.HandlerNotFound', /^noexport\.handler is undefined or not exported$/],
        ['print.handler', 'Runtime.HandlerNotFound', /^print\.handler is not a function$/],
        ['broken.handler', 'Runtime.UserCodeSyntaxError', /^SyntaxError: Unexpected token/],
        ['nodot', 'Runtime.MalformedHandlerName', /^Bad handler$/],
      ];
      for (const [handler, errorType, message] of cases) {
        const start = await ExecutionEnvironment.start(specFor(folder, { handler }));
        assert.ok(!start.ok, handler);
        assert.equal(start.errorType, errorType, `${handler}: ${start.errorMessage}`);
        assert.match(start.errorMessage, message, handler);
        const payload = JSON.parse(start.payload.toString()) as { errorType: string; errorMessage: string; trace: string[] };
        assert.equal(payload.errorType, errorType);
        assert.equal(payload.errorMessage, start.errorMessage);
        assert.ok(Array.isArray(payload.trace));
        const lines = logLines(start);
        assert.ok(lines.some((line) => new RegExp(`\\tundefined\\tERROR\\tUncaught Exception \\t\\{"errorType":"${errorType.replace('.', '\\.')}"`).test(line)), start.logs);
        assert.match(lines.at(-1)!, new RegExp(`^INIT_REPORT Init Duration: \\d+\\.\\d\\d ms\\tPhase: init\\tStatus: error\\tError Type: ${errorType.replace('.', '\\.')}$`));
        if (handler === 'print.handler') assert.ok(lines.some((line) => line.endsWith('\tINFO\tbefore the failure')));
      }
    } finally {
      await folder.remove();
    }
  });

  it('finds @aws-sdk/* in a readable node_modules folder, from CommonJS and from an ES module', async () => {
    const files = {
      'esm.mjs': `import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
        export const handler = async () => typeof SageMakerRuntimeClient;`,
      'cjs.js': `const { STSClient } = require('@aws-sdk/client-sts'); exports.handler = async () => typeof STSClient;`,
    };
    const folder = await functionFolder(files);
    try {
      for (const handler of ['esm.handler', 'cjs.handler', 'esm.handler']) {
        const start = await ExecutionEnvironment.start(specFor(folder, { handler, readableDirs: [KENNEL_NODE_MODULES] }));
        assert.ok(start.ok, `${handler}: ${start.ok ? '' : start.logs}`);
        const outcome = await start.environment.invoke(invocation());
        await start.environment.close();
        assert.equal(payloadOf(outcome), 'function', `${handler}: ${outcome.payload.toString()}`);
      }
      const without = await ExecutionEnvironment.start(specFor(folder, { handler: 'esm.handler' }));
      assert.ok(!without.ok);
      assert.equal(without.errorType, 'Runtime.ImportModuleError');
      assert.match(without.errorMessage, /Cannot find package '@aws-sdk\/client-sagemaker-runtime'/);
    } finally {
      await folder.remove();
    }
  });
});
