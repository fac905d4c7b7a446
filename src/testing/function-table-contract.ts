import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AsyncEvent, FunctionAlias, FunctionSettings, FunctionVersion, LambdaFunction } from '../domain/functions/function.ts';
import type { Store } from '../store/store.ts';
import { describeResourceTable } from './resource-table-contract.ts';

/** The Lambda tables' part of the Store contract, which store-contract.ts runs against every backend. */

const SETTINGS: FunctionSettings = {
  runtime: 'nodejs20.x',
  handler: 'index.handler',
  roleArn: 'arn:aws:iam::000000000000:role/classify',
  description: '',
  timeoutSeconds: 3,
  memorySizeMb: 128,
  environment: { ENDPOINT_NAME: 'dog-breeds' },
  ephemeralStorageMb: 512,
  code: { digest: 'e'.repeat(64), sha256Base64: 'base64=', sizeBytes: 300, unzippedBytes: 900 },
};

export function lambdaFunction(name: string): LambdaFunction {
  return {
    ...structuredClone(SETTINGS),
    name,
    arn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    state: 'Pending',
    stateReasonCode: 'Creating',
    lastUpdateStatus: 'Successful',
    createdAtMs: 1,
    lastModifiedMs: 1,
    revisionId: 'r1',
    nextVersion: 1,
    tags: { team: 'vision' },
    eventInvokeConfigs: { $LATEST: { maximumRetryAttempts: 1, lastModifiedMs: 1 } },
    provisionedConcurrency: { live: { requested: 2, lastModifiedMs: 1, status: 'IN_PROGRESS', allocated: 0, available: 0 } },
  };
}

/** `<function>:<version or alias>`; a bare name (the generic table cases) belongs to `classify`. */
function splitKey(key: string): [string, string] {
  const colon = key.indexOf(':');
  return colon < 0 ? ['classify', key] : [key.slice(0, colon), key.slice(colon + 1)];
}

export function functionVersion(key: string): FunctionVersion {
  const [functionName, version] = splitKey(key);
  return { ...structuredClone(SETTINGS), key, functionName, version, publishedAtMs: 2, revisionId: 'r2' };
}

export function functionAlias(key: string): FunctionAlias {
  const [functionName, name] = splitKey(key);
  return { key, functionName, name, functionVersion: '1', description: '', additionalVersionWeights: { '2': 0.1 }, revisionId: 'r3' };
}

export function asyncEvent(requestId: string, overrides: Partial<AsyncEvent> = {}): AsyncEvent {
  return {
    requestId,
    functionName: 'classify',
    payload: Buffer.from('{"url":"http://example.com/dog.jpg"}').toString('base64'),
    enqueuedAtMs: 5,
    attempts: 0,
    nextAttemptAtMs: 5,
    status: 'queued',
    ...overrides,
  };
}

export function describeFunctionTables(current: () => Store): void {
  describeResourceTable<LambdaFunction>(current, {
    label: 'lambdaFunctions',
    table: (s) => s.lambdaFunctions,
    make: lambdaFunction,
    patch: { state: 'Active', reservedConcurrency: 5, lastModifiedMs: 7 },
    mutate: (f) => {
      f.environment.ENDPOINT_NAME = 'changed';
      f.provisionedConcurrency.live!.status = 'READY';
    },
  });
  describeResourceTable<FunctionVersion>(current, {
    label: 'functionVersions',
    table: (s) => s.functionVersions,
    keyField: 'key',
    make: functionVersion,
    patch: { description: 'published' },
    mutate: (v) => {
      v.code.digest = 'f'.repeat(64);
    },
  });
  describeResourceTable<FunctionAlias>(current, {
    label: 'functionAliases',
    table: (s) => s.functionAliases,
    keyField: 'key',
    make: functionAlias,
    patch: { functionVersion: '2', revisionId: 'r4' },
    mutate: (a) => {
      a.additionalVersionWeights!['2'] = 0.9;
    },
  });
  describeResourceTable<AsyncEvent>(current, {
    label: 'asyncEvents',
    table: (s) => s.asyncEvents,
    keyField: 'requestId',
    make: (id) => asyncEvent(id),
    patch: { attempts: 1, nextAttemptAtMs: 60_005, lastError: { errorType: 'Error', errorMessage: 'boom' } },
    mutate: (e) => {
      e.payload = 'changed';
    },
  });

  describe('functionVersions and functionAliases by function', () => {
    it('list one function’s records, ordered by key, and nothing of a function with a longer name', () => {
      const store = current();
      for (const key of ['classify:2', 'classify:1', 'classify-v2:1', 'other:1']) store.functionVersions.create(functionVersion(key));
      assert.deepEqual(store.functionVersions.listForFunction('classify').map((v) => v.key), ['classify:1', 'classify:2']);
      assert.deepEqual(store.functionVersions.listForFunction('missing'), []);
      store.functionAliases.create(functionAlias('classify:live'));
      store.functionAliases.create(functionAlias('other:live'));
      assert.deepEqual(store.functionAliases.listForFunction('classify').map((a) => a.key), ['classify:live']);
      store.functionVersions.delete('classify:1');
      assert.deepEqual(store.functionVersions.listForFunction('classify').map((v) => v.version), ['2']);
    });
  });

  describe('asyncEvents by status', () => {
    it('lists queued and failed events apart, and follows a status change', () => {
      const store = current();
      store.asyncEvents.create(asyncEvent('b'));
      store.asyncEvents.create(asyncEvent('a'));
      store.asyncEvents.create(asyncEvent('c', { status: 'failed', failedCondition: 'RetriesExhausted', failedAtMs: 9, attempts: 3 }));
      assert.deepEqual(store.asyncEvents.listByStatus('queued').map((e) => e.requestId), ['a', 'b']);
      assert.deepEqual(store.asyncEvents.listByStatus('failed').map((e) => e.requestId), ['c']);
      store.asyncEvents.update('a', { status: 'failed', failedCondition: 'EventAgeExceeded' });
      assert.deepEqual(store.asyncEvents.listByStatus('queued').map((e) => e.requestId), ['b']);
      assert.deepEqual(store.asyncEvents.listByStatus('failed').map((e) => e.requestId), ['a', 'c']);
    });
  });
}
