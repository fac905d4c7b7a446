import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { provisionUser, type TestCredentials } from '../../testing/iam-fixtures.ts';
import { signedFetch } from '../../testing/signed-fetch.ts';
import { startTestKennel, type TestKennel } from '../../testing/test-kennel.ts';
import { PERMISSIONS } from './permissions.ts';

/** A REST route of the table with its parameters filled in. */
function concretePath(route: string): string {
  return route.replace(':name', 'dogs').replace(':bucket', 'bucket-a').replace('*', 'train/a.jpg');
}

/**
 * Deny by default, on every route: a signed caller without policies is refused
 * by each service in its own words, naming the action, and the refusal is in
 * the audit trail.
 */
describe('authorisation on every route', () => {
  let test: TestKennel;
  let nobody: TestCredentials;

  before(async () => {
    test = await startTestKennel();
    nobody = provisionUser(test.kennel.platform, 'nobody');
  });
  after(async () => {
    await test?.close();
  });

  it('refuses a caller without policies on every REST route, with AccessDenied naming the action', async () => {
    const routes = Object.keys(PERMISSIONS).filter((key) => key.includes(' /'));
    assert.ok(routes.length >= 15, routes.join(', '));
    for (const route of routes) {
      const [method, path] = route.split(' ') as [string, string];
      const query = path.includes('/iam/') ? '?principal=arn:aws:iam::000000000000:user/nobody' : '';
      const service = path.startsWith('/kennel/') ? 'kennel' : 'sagemaker';
      const body = method === 'POST' || method === 'PUT' ? '{}' : undefined;
      const response = await signedFetch(`${test.url}${concretePath(path)}${query}`, {
        method,
        service,
        credentials: nobody,
        ...(body ? { body, headers: { 'content-type': path.includes('/invocations') ? 'image/jpeg' : 'application/json' } } : {}),
      });
      const text = await response.text();
      assert.equal(response.status, 403, `${route}: ${text}`);
      const action = PERMISSIONS[route]!.checks({ params: { name: 'dogs', bucket: 'bucket-a' }, query: {}, path: concretePath(path) }, {
        platform: test.kennel.platform,
        caller: test.kennel.platform.credentials.caller(nobody.accessKeyId)!,
      })[0]!.action;
      assert.match(text, new RegExp(`user/nobody is not authorized to perform: ${action} on resource`), route);
    }
    const denied = test.kennel.platform.audit.query({ principalArn: 'arn:aws:iam::000000000000:user/nobody', decision: 'ImplicitDeny' });
    assert.equal(denied.length, routes.length);
  });

  it('allows by a policy on aws:ResourceTag only on the resources whose tags match', async () => {
    const { platform } = test.kennel;
    for (const [name, team] of [
      ['vision-endpoint', 'vision'],
      ['audio-endpoint', 'audio'],
    ] as const) {
      // Authorisation reads only the record's tags; serving is not needed here.
      platform.deps.store.endpoints.create({ name, endpointConfigName: name, productionVariants: [], status: 'InService', tags: [{ key: 'team', value: team }], createdAtMs: 1, lastModifiedAtMs: 1 });
    }
    const tagged = provisionUser(platform, 'vision-team');
    platform.iam.identityPolicies.putInline(
      'user',
      'vision-team',
      'own-team',
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'sagemaker:DescribeEndpoint', Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/team': 'vision' } } }],
      }),
    );
    const describe = (name: string) =>
      signedFetch(test.url, {
        service: 'sagemaker',
        credentials: tagged,
        body: JSON.stringify({ EndpointName: name }),
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'SageMaker.DescribeEndpoint' },
      });
    const allowed = await describe('vision-endpoint');
    assert.equal(allowed.status, 200, await allowed.text());
    const refused = await describe('audio-endpoint');
    assert.equal(refused.headers.get('x-amzn-errortype'), 'AccessDeniedException');
  });

  it('refuses a caller without policies on SageMaker, Application Auto Scaling, IAM and STS, each in its own format', async () => {
    const json = (target: string, service: string, body = '{}') =>
      signedFetch(test.url, { service, credentials: nobody, body, headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target } });
    const sagemaker = await json('SageMaker.ListEndpoints', 'sagemaker');
    assert.equal(sagemaker.headers.get('x-amzn-errortype'), 'AccessDeniedException');
    assert.match(((await sagemaker.json()) as { message: string }).message, /not authorized to perform: sagemaker:ListEndpoints on resource: \*/);
    const autoscaling = await json('AnyScaleFrontendService.DescribeScalableTargets', 'application-autoscaling', '{"ServiceNamespace":"sagemaker"}');
    assert.equal(autoscaling.headers.get('x-amzn-errortype'), 'AccessDeniedException');

    const query = (service: string, body: string) =>
      signedFetch(test.url, { service, credentials: nobody, body, headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' } });
    const iam = await query('iam', 'Action=ListUsers&Version=2010-05-08');
    assert.equal(iam.status, 403);
    assert.match(await iam.text(), /<Code>AccessDenied<\/Code>[\s\S]*not authorized to perform: iam:ListUsers/);
    // GetCallerIdentity needs no permission, as on AWS.
    const identity = await query('sts', 'Action=GetCallerIdentity&Version=2011-06-15');
    assert.equal(identity.status, 200);
    assert.match(await identity.text(), /<Arn>arn:aws:iam::000000000000:user\/nobody<\/Arn>/);
  });
});
