import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AccessKey, AuditEvent, IamRole, IamUser, ManagedPolicyRecord, StsSession } from '../domain/iam/entities.ts';
import type { KeyedTable, Store } from '../store/store.ts';
import { assertDomainError } from './assert-domain-error.ts';

/** The IAM tables' and the audit trail's part of the Store contract, which store-contract.ts runs against every backend. */

function user(userName: string): IamUser {
  return {
    userName,
    userId: `AIDA${userName.toUpperCase()}`,
    arn: `arn:aws:iam::000000000000:user/${userName}`,
    path: '/',
    createdAtMs: 1_700_000_000_000,
    tags: [{ key: 'team', value: 'vision' }],
    groupNames: ['readers'],
    attachedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
    inlinePolicies: { own: '{"Version":"2012-10-17","Statement":[]}' },
  };
}

function role(roleName: string): IamRole {
  return {
    roleName,
    roleId: `AROA${roleName.toUpperCase()}`,
    arn: `arn:aws:iam::000000000000:role/${roleName}`,
    path: '/',
    createdAtMs: 5,
    assumeRolePolicyDocument: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}',
    maxSessionDurationSeconds: 3600,
    tags: [],
    attachedPolicyArns: [],
    inlinePolicies: {},
  };
}

function policy(arn: string): ManagedPolicyRecord {
  return {
    arn,
    policyName: arn.slice(arn.lastIndexOf('/') + 1),
    policyId: 'ANPAEXAMPLE',
    path: '/',
    createdAtMs: 1,
    updatedAtMs: 2,
    defaultVersionId: 'v1',
    versions: [{ versionId: 'v1', document: '{"Version":"2012-10-17","Statement":[]}', createdAtMs: 1 }],
    tags: [],
    nextVersion: 2,
  };
}

function session(accessKeyId: string): StsSession {
  return {
    accessKeyId,
    sealedSecret: 'v1:secret',
    sealedSessionToken: 'v1:token',
    createdAtMs: 10,
    expiresAtMs: 3_600_010,
    principalArn: 'arn:aws:sts::000000000000:assumed-role/reader/s1',
    roleName: 'reader',
    roleSessionName: 's1',
    userId: 'AROAREADER:s1',
    sessionTags: [{ key: 'project', value: 'dogs' }],
  };
}

export function accessKey(accessKeyId: string, userName: string): AccessKey {
  return { accessKeyId, sealedSecret: `v1:sealed-${accessKeyId}`, status: 'Active', userName, createdAtMs: 5 };
}

export function auditEvent(eventId: string, timeMs: number, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    eventId,
    timeMs,
    principalArn: 'arn:aws:iam::000000000000:user/alice',
    accessKeyId: 'AKIAALICE',
    action: 'sagemaker:InvokeEndpoint',
    resource: 'arn:aws:sagemaker:us-east-1:000000000000:endpoint/dogs',
    decision: 'Allow',
    statements: ['arn:aws:iam::aws:policy/AmazonSageMakerFullAccess#1'],
    sourceIp: '127.0.0.1',
    userAgent: 'aws-cli/2.9.19',
    requestId: `req-${eventId}`,
    ...overrides,
  };
}

/** `make('a')` is stored under `keyFor('a')`; `keyOf` reads the short name back. */
function describeKeyedTable<T extends object>(
  label: string,
  table: () => KeyedTable<T>,
  make: (name: string) => T,
  keyOf: (record: T) => string,
  mutate: (record: T) => void,
  keyFor: (name: string) => string = (name) => name,
): void {
  describe(label, () => {
    it('returns what was created, lists by key, and refuses a duplicate key', () => {
      table().create(make('b'));
      table().create(make('a'));
      assert.deepEqual(table().get(keyFor('a')), make('a'));
      assert.equal(table().get(keyFor('missing')), undefined);
      assert.deepEqual(table().list().map(keyOf), ['a', 'b']);
      assertDomainError(() => table().create(make('a')), 'AlreadyExists');
    });

    it('modifies and deletes one record, and says NotFound for a missing one', () => {
      table().create(make('a'));
      table().create(make('b'));
      const changed = table().modify(keyFor('a'), (record) => {
        const copy = structuredClone(record);
        mutate(copy);
        return copy;
      });
      assert.deepEqual(table().get(keyFor('a')), changed);
      assert.notDeepEqual(changed, make('a'));
      assert.deepEqual(table().get(keyFor('b')), make('b'));
      assertDomainError(() => table().modify(keyFor('missing'), (record) => record), 'NotFound');
      assert.equal(table().delete(keyFor('a')), true);
      assert.equal(table().delete(keyFor('a')), false);
      assert.deepEqual(table().list().map(keyOf), ['b']);
    });

    it('keeps copies: changing a returned record changes nothing stored', () => {
      table().create(make('a'));
      mutate(table().get(keyFor('a'))!);
      mutate(table().list()[0]!);
      assert.deepEqual(table().get(keyFor('a')), make('a'));
    });
  });
}

export function describeIamTables(current: () => Store): void {
  describeKeyedTable('iamUsers', () => current().iamUsers, user, (u) => u.userName, (u) => {
    u.groupNames = [...u.groupNames, 'admins'];
    u.inlinePolicies = { ...u.inlinePolicies, more: '{}' };
  });
  describeKeyedTable('iamRoles', () => current().iamRoles, role, (r) => r.roleName, (r) => {
    r.attachedPolicyArns = ['arn:aws:iam::aws:policy/AWSLambdaRole'];
  });
  const policyArn = (name: string) => `arn:aws:iam::000000000000:policy/${name}`;
  describeKeyedTable(
    'iamPolicies',
    () => current().iamPolicies,
    (name) => policy(policyArn(name)),
    (p) => p.arn.slice(p.arn.lastIndexOf('/') + 1),
    (p) => {
      p.versions = [...p.versions, { versionId: 'v2', document: '{}', createdAtMs: 3 }];
    },
    policyArn,
  );
  describe('iamPolicies keys', () => {
    it('are whole ARNs, paths included', () => {
      current().iamPolicies.create(policy('arn:aws:iam::000000000000:policy/team/a/readers'));
      assert.equal(current().iamPolicies.get('arn:aws:iam::000000000000:policy/team/a/readers')!.policyName, 'readers');
      assert.equal(current().iamPolicies.get('arn:aws:iam::000000000000:policy/readers'), undefined);
    });
  });
  describeKeyedTable('stsSessions', () => current().stsSessions, session, (s) => s.accessKeyId, (s) => {
    s.sessionTags = [];
  });

  describe('accessKeys', () => {
    const keys = () => current().accessKeys;

    it('creates, gets and lists a user’s keys by key id', () => {
      keys().create(accessKey('KEY2', 'alice'));
      keys().create(accessKey('KEY1', 'alice'));
      keys().create(accessKey('KEY3', 'bob'));
      assert.deepEqual(keys().get('KEY1'), accessKey('KEY1', 'alice'));
      assert.equal(keys().get('NOPE'), undefined);
      assert.deepEqual(keys().listForUser('alice'), [accessKey('KEY1', 'alice'), accessKey('KEY2', 'alice')]);
      assert.deepEqual(keys().listForUser('carol'), []);
    });

    it('refuses a duplicate key id', () => {
      keys().create(accessKey('KEY1', 'alice'));
      assertDomainError(() => keys().create(accessKey('KEY1', 'mallory')), 'AlreadyExists');
      assert.equal(keys().get('KEY1')!.userName, 'alice');
    });

    it('returns copies', () => {
      keys().create(accessKey('KEY1', 'alice'));
      keys().get('KEY1')!.sealedSecret = 'changed';
      keys().listForUser('alice')[0].userName = 'changed';
      assert.deepEqual(keys().get('KEY1'), accessKey('KEY1', 'alice'));
    });

    it('changes a key’s status in place and deletes it', () => {
      keys().create(accessKey('AKIA1', 'alice'));
      assert.equal(keys().update('AKIA1', { status: 'Inactive' }).status, 'Inactive');
      assert.equal(keys().listForUser('alice')[0]!.status, 'Inactive');
      assert.equal(keys().delete('AKIA1'), true);
      assert.deepEqual(keys().listForUser('alice'), []);
    });
  });

  describe('auditEvents', () => {
    const log = () => current().auditEvents;

    it('returns events oldest first, by time and then id, whatever order they were appended in', () => {
      log().append(auditEvent('b', 20));
      log().append(auditEvent('c', 10));
      log().append(auditEvent('a', 20));
      assert.deepEqual(log().query().map((e) => e.eventId), ['c', 'a', 'b']);
      assert.deepEqual(log().query()[0], auditEvent('c', 10));
    });

    it('filters by principal, action, decision and a time window [from, to), all together', () => {
      const bob = 'arn:aws:iam::000000000000:user/bob';
      log().append(auditEvent('1', 100));
      log().append(auditEvent('2', 200, { principalArn: bob }));
      log().append(auditEvent('3', 300, { action: 'sagemaker:DeleteEndpoint', decision: 'ImplicitDeny' }));
      log().append(auditEvent('4', 400, { principalArn: bob, decision: 'ExplicitDeny' }));
      const ids = (query: Parameters<Store['auditEvents']['query']>[0]) => log().query(query).map((e) => e.eventId);
      assert.deepEqual(ids({ principalArn: bob }), ['2', '4']);
      assert.deepEqual(ids({ action: 'sagemaker:DeleteEndpoint' }), ['3']);
      assert.deepEqual(ids({ decision: 'Allow' }), ['1', '2']);
      assert.deepEqual(ids({ fromMs: 200, toMs: 400 }), ['2', '3']);
      assert.deepEqual(ids({ principalArn: bob, decision: 'ExplicitDeny', fromMs: 100 }), ['4']);
      assert.deepEqual(ids({ principalArn: 'arn:aws:iam::000000000000:user/nobody' }), []);
      assert.deepEqual(ids({ principalArnPrefix: 'arn:aws:iam::000000000000:user/b' }), ['2', '4']);
      assert.deepEqual(ids({ principalArnPrefix: 'arn:aws:iam::000000000000:user/%' }), [], 'the prefix is literal');
    });

    it('limit keeps the newest events, still oldest first', () => {
      for (let i = 1; i <= 5; i++) log().append(auditEvent(`e${i}`, i));
      assert.deepEqual(log().query({ limit: 2 }).map((e) => e.eventId), ['e4', 'e5']);
      assert.deepEqual(log().query({ limit: 0 }), []);
      assertDomainError(() => log().query({ limit: -1 }), 'ValidationError');
    });

    it('refuses a duplicate event id and an invalid decision, storing nothing', () => {
      log().append(auditEvent('x', 1));
      assertDomainError(() => log().append(auditEvent('x', 2)), 'AlreadyExists');
      assertDomainError(() => log().append(auditEvent('y', 3, { decision: 'Maybe' as never })), 'ValidationError');
      assert.deepEqual(log().query().map((e) => e.eventId), ['x']);
    });

    it('appends many events at once, or none of them when one is refused', () => {
      log().append(auditEvent('a', 1), auditEvent('b', 2), auditEvent('c', 3));
      assertDomainError(() => log().append(auditEvent('d', 4), auditEvent('a', 5)), 'AlreadyExists');
      assertDomainError(() => log().append(auditEvent('e', 6), auditEvent('e', 7)), 'AlreadyExists');
      assertDomainError(() => log().append(auditEvent('f', 8), auditEvent('g', 9, { decision: 'Maybe' as never })), 'ValidationError');
      assert.deepEqual(log().query().map((e) => e.eventId), ['a', 'b', 'c']);
    });

    it('prunes events older than a time and says how many', () => {
      for (let i = 1; i <= 4; i++) log().append(auditEvent(`e${i}`, i * 10));
      assert.equal(log().prune(30), 2);
      assert.deepEqual(log().query().map((e) => e.eventId), ['e3', 'e4']);
    });
  });
}
