import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { httpBinding } from './rest-json-model.ts';
import { RestRouter } from './rest-json-routes.ts';
import { loadServiceModel, operationNames, type ServiceModel } from './service-model.ts';

const lambda = loadServiceModel('lambda');
const router = new RestRouter(lambda);
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:my-function';

function route(method: string, target: string) {
  const url = new URL(target, 'http://kennel');
  return router.match(method, url.pathname, url.searchParams);
}

/** A request for `operationName` as an SDK builds it: every label filled with a value of its own name. */
function sampleRequest(model: ServiceModel, operationName: string): { method: string; target: string; labels: Record<string, string> } {
  const { method, requestUri } = httpBinding(model, operationName);
  const labels: Record<string, string> = {};
  const target = requestUri.replace(/\{([^}+]+)\+?\}/g, (_, label: string) => {
    labels[label] = `${label.toLowerCase()}-value`;
    return labels[label]!;
  });
  return { method, target, labels };
}

describe('REST routing of the Lambda model', () => {
  it('routes every operation at its own method and URI, with its labels', () => {
    for (const operationName of operationNames(lambda)) {
      const { method, target, labels } = sampleRequest(lambda, operationName);
      assert.deepEqual(route(method, target), { operationName, labels }, `${method} ${target}`);
    }
  });

  it('tells ListProvisionedConcurrencyConfigs (?List=ALL) from GetProvisionedConcurrencyConfig on the same path', () => {
    const path = '/2019-09-30/functions/f/provisioned-concurrency';
    assert.equal(route('GET', `${path}?List=ALL`)?.operationName, 'ListProvisionedConcurrencyConfigs');
    assert.equal(route('GET', `${path}?MaxItems=5&List=ALL&Marker=m`)?.operationName, 'ListProvisionedConcurrencyConfigs');
    assert.equal(route('GET', `${path}?Qualifier=live`)?.operationName, 'GetProvisionedConcurrencyConfig');
    assert.equal(route('GET', `${path}?List=SOME`)?.operationName, 'GetProvisionedConcurrencyConfig');
    assert.equal(route('GET', path)?.operationName, 'GetProvisionedConcurrencyConfig');
    assert.equal(route('PUT', `${path}?Qualifier=live`)?.operationName, 'PutProvisionedConcurrencyConfig');
    assert.equal(route('DELETE', `${path}?Qualifier=live`)?.operationName, 'DeleteProvisionedConcurrencyConfig');
  });

  it('takes a trailing slash or none, as clients send either', () => {
    assert.equal(route('GET', '/2015-03-31/functions/')?.operationName, 'ListFunctions');
    assert.equal(route('GET', '/2015-03-31/functions')?.operationName, 'ListFunctions');
    assert.equal(route('POST', '/2015-03-31/functions')?.operationName, 'CreateFunction');
    assert.equal(route('POST', '/2015-03-31/functions/')?.operationName, 'CreateFunction');
    assert.equal(route('GET', '/2016-08-19/account-settings')?.operationName, 'GetAccountSettings');
    assert.equal(route('GET', '/2015-03-31/functions/f/configuration/')?.operationName, 'GetFunctionConfiguration');
  });

  it('keeps label values as sent, percent-encoded ARNs and raw colons alike', () => {
    assert.deepEqual(route('GET', `/2015-03-31/functions/${encodeURIComponent(ARN)}`), { operationName: 'GetFunction', labels: { FunctionName: encodeURIComponent(ARN) } });
    assert.deepEqual(route('GET', `/2015-03-31/functions/${ARN}`), { operationName: 'GetFunction', labels: { FunctionName: ARN } });
    assert.deepEqual(route('POST', `/2017-03-31/tags/${encodeURIComponent(ARN)}`)?.labels, { ARN: encodeURIComponent(ARN) });
  });

  it('prefers literal segments over labels, and needs every label non-empty', () => {
    assert.equal(route('GET', '/2019-09-25/functions/f/event-invoke-config/list')?.operationName, 'ListFunctionEventInvokeConfigs');
    assert.equal(route('GET', '/2019-09-25/functions/f/event-invoke-config')?.operationName, 'GetFunctionEventInvokeConfig');
    assert.equal(route('GET', '/2015-03-31/functions//configuration'), undefined);
    assert.equal(route('DELETE', '/2015-03-31/functions/f/policy/')?.operationName, undefined);
  });

  it('matches nothing for an unknown path or a method the path does not take', () => {
    assert.equal(route('GET', '/2015-03-31/functions/f/nothing-here'), undefined);
    assert.equal(route('PATCH', '/2015-03-31/functions/f'), undefined);
    assert.equal(route('GET', '/2015-03-31/functions/f/invocations'), undefined);
    assert.equal(route('GET', '/'), undefined);
  });

  it("names the first segments of the service's URIs as the paths it owns", () => {
    assert.deepEqual(router.prefixes(), ['2015-03-31', '2016-08-19', '2017-03-31', '2017-10-31', '2019-09-25', '2019-09-30']);
  });
});

/** A model with what Lambda's does not use: a greedy label between literals, and a bare fixed query flag. */
function syntheticModel(operations: Record<string, { method: string; requestUri: string }>): ServiceModel {
  return {
    metadata: { apiVersion: '2020-01-01', endpointPrefix: 'x', protocol: 'rest-json', serviceId: 'X' },
    operations: Object.fromEntries(Object.entries(operations).map(([name, http]) => [name, { name, http }])),
    shapes: {},
  } as ServiceModel;
}

describe('REST routing of greedy labels and query flags', () => {
  const model = syntheticModel({
    GetObject: { method: 'GET', requestUri: '/buckets/{Bucket}/objects/{Key+}' },
    GetObjectAcl: { method: 'GET', requestUri: '/buckets/{Bucket}/objects/{Key+}/acl' },
    GetVersions: { method: 'GET', requestUri: '/buckets/{Bucket}?versions' },
    GetBucket: { method: 'GET', requestUri: '/buckets/{Bucket}' },
  });
  const greedy = new RestRouter(model);
  const match = (target: string) => {
    const url = new URL(target, 'http://kennel');
    return greedy.match('GET', url.pathname, url.searchParams);
  };

  it('gives a greedy label every segment it spans, slashes included', () => {
    assert.deepEqual(match('/buckets/b/objects/a/b%2Fc/d.txt'), { operationName: 'GetObject', labels: { Bucket: 'b', Key: 'a/b%2Fc/d.txt' } });
    assert.deepEqual(match('/buckets/b/objects/a/b/acl'), { operationName: 'GetObjectAcl', labels: { Bucket: 'b', Key: 'a/b' } });
    assert.equal(match('/buckets/b/objects'), undefined);
  });

  it('routes on a query flag that is present with any value', () => {
    assert.equal(match('/buckets/b?versions')?.operationName, 'GetVersions');
    assert.equal(match('/buckets/b?versions=1')?.operationName, 'GetVersions');
    assert.equal(match('/buckets/b')?.operationName, 'GetBucket');
  });

  it('refuses URIs it cannot route when it is built', () => {
    assert.throws(() => new RestRouter(syntheticModel({ A: { method: 'GET', requestUri: '/a/x{B}' } })), /whole path segment/);
    assert.throws(() => new RestRouter(syntheticModel({ A: { method: 'GET', requestUri: '/{A+}/{B+}' } })), /one greedy label/);
    assert.throws(() => new RestRouter(syntheticModel({ A: { method: 'GET', requestUri: '/{A}/b' } })).prefixes(), /start with a literal segment/);
  });
});
