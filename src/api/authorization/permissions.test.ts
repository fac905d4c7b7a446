import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../core/logger.ts';
import { createPlatform, type Platform } from '../../control/platform.ts';
import { ACTION_CATALOG, KNOWN_ACTIONS } from '../../domain/iam/action-catalog.ts';
import { createMemoryStore } from '../../store/memory/memory-store.ts';
import { testControlDeps } from '../../testing/control-deps.ts';
import { autoscalingService } from '../autoscaling/service.ts';
import { iamService } from '../iam/service.ts';
import { stsService } from '../sts/service.ts';
import { sageMakerService } from '../sagemaker/service.ts';
import { createApp } from '../server.ts';
import { PERMISSIONS, UNSIGNED_ROUTES } from './permissions.ts';
import { lambdaService } from '../lambda/service.ts';

/** Members every rule may read, so that each rule can be asked which actions it checks. */
const SAMPLE_INPUT = {
  params: { name: 'dogs', bucket: 'bucket-a' },
  query: {},
  path: '/kennel/objects/bucket-a/train/a.jpg',
  TrainingJobName: 'job',
  HyperParameterTuningJobName: 'tuning',
  ModelName: 'model',
  EndpointConfigName: 'config',
  EndpointName: 'dogs',
  ResourceArn: 'arn:aws:sagemaker:us-east-1:000000000000:endpoint/dogs',
  RoleArn: 'arn:aws:iam::000000000000:role/r',
  ExecutionRoleArn: 'arn:aws:iam::000000000000:role/r',
  TrainingJobDefinition: { RoleArn: 'arn:aws:iam::000000000000:role/r' },
  UserName: 'alice',
  GroupName: 'readers',
  RoleName: 'r',
  PolicyName: 'p',
  PolicyArn: 'arn:aws:iam::000000000000:policy/p',
  PolicySourceArn: 'arn:aws:iam::000000000000:user/alice',
  AccessKeyId: 'AKIAEXAMPLE',
  Tags: [{ Key: 'team', Value: 'vision' }],
};

describe('the permissions table', () => {
  let dir: string;
  let platform: Platform;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kennel-permissions-'));
    platform = createPlatform(testControlDeps(dir, createMemoryStore()));
  });
  after(async () => {
    await platform.deps.trainers.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('has an entry for every REST route the server serves', () => {
    const app = createApp({ platform, clock: platform.deps.clock, logger: silentLogger, lookupSecret: () => undefined });
    const routes = new Set(app.routes.filter((route) => route.method !== 'ALL' && route.path !== '/').map((route) => `${route.method} ${route.path}`));
    const missing = [...routes].filter((route) => !(route in PERMISSIONS) && !(UNSIGNED_ROUTES as readonly string[]).includes(route));
    assert.deepEqual(missing, []);
    assert.ok(routes.has('POST /endpoints/:name/invocations'), 'the route listing reaches the runtime routes');
  });

  it('has an entry for every operation of every AWS service on the wire', () => {
    const services = [
      { prefix: 'SageMaker', operations: sageMakerService(platform).operations },
      { prefix: 'AnyScaleFrontendService', operations: autoscalingService(platform).operations },
      { prefix: 'iam', operations: iamService(platform).operations },
      { prefix: 'sts', operations: stsService(platform).operations },
      { prefix: 'lambda', operations: lambdaService(platform).operations },
    ];
    const missing = services.flatMap(({ prefix, operations }) => Object.keys(operations).map((name) => `${prefix}.${name}`)).filter((key) => !(key in PERMISSIONS));
    assert.deepEqual(missing, []);
  });

  it('names only catalogued actions, and every catalogued action of a served service is checked by some route', () => {
    const caller = { arn: 'arn:aws:iam::000000000000:user/admin', accountId: '000000000000', type: 'User' as const, userId: 'AIDA', accessKeyId: 'AKIA', userName: 'admin', sessionTags: [], temporary: false };
    const checked = new Set(Object.values(PERMISSIONS).flatMap((rule) => rule.checks(SAMPLE_INPUT, { platform, caller }).map((check) => check.action)));
    const known = new Set(KNOWN_ACTIONS);
    assert.deepEqual([...checked].filter((action) => !known.has(action)), []);
    // CloudWatch Logs actions are catalogued for the execution-role policies that name them; Kennel keeps function logs itself.
    const served = KNOWN_ACTIONS.filter((action) => !action.startsWith('logs:'));
    assert.deepEqual(served.filter((action) => !checked.has(action)), []);
    assert.ok(ACTION_CATALOG.sagemaker.length > 20);
  });
});
