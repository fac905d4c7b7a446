import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createMemoryStore } from '../store/memory/memory-store.ts';
import { testControlDeps } from '../testing/control-deps.ts';
import { AUDIT_RETENTION_MS } from './audit.ts';
import { createPlatform, type Platform } from './platform.ts';

const HOUR_MS = 3600_000;
const TRUST = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:user/alice' }, Action: 'sts:AssumeRole' }] });

/** What Kennel keeps of IAM over time: ended sessions and old audit events go, on a fake clock. */
describe('IAM retention', () => {
  let dir: string;
  let platform: Platform;
  let nowMs = Date.UTC(2026, 0, 1);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kennel-iam-retention-'));
    platform = createPlatform(testControlDeps(dir, createMemoryStore(), { clock: { now: () => nowMs } }));
    platform.iam.createUser({ userName: 'alice' });
    platform.iam.issueAccessKey('alice');
    platform.iam.createRole({ roleName: 'reader', assumeRolePolicyDocument: TRUST });
  });
  after(async () => {
    await platform.deps.trainers.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a session once it ended, and drops ended sessions when a later one is issued', () => {
    const [key] = platform.deps.store.accessKeys.listForUser('alice');
    const alice = platform.credentials.caller(key!.accessKeyId)!;
    const first = platform.sts.assumeRole(alice, { roleArn: 'arn:aws:iam::000000000000:role/reader', roleSessionName: 'first', durationSeconds: 900 });
    assert.equal(platform.credentials.lookup(first.credentials.accessKeyId)?.expiresAtMs, nowMs + 900_000);
    nowMs += 2 * HOUR_MS;
    platform.sts.assumeRole(alice, { roleArn: 'arn:aws:iam::000000000000:role/reader', roleSessionName: 'second' });
    assert.equal(platform.deps.store.stsSessions.get(first.credentials.accessKeyId), undefined, 'the ended session is gone');
    assert.equal(platform.deps.store.stsSessions.list().length, 1);
  });

  it('keeps audit events for 90 days', () => {
    const event = { principalArn: 'arn:aws:iam::000000000000:user/alice', action: 'sagemaker:ListEndpoints', resource: '*', decision: 'Allow' as const, statements: [], sourceIp: '127.0.0.1', userAgent: 'test', requestId: 'r' };
    platform.audit.record({ ...event, timeMs: nowMs });
    nowMs += AUDIT_RETENTION_MS + 2 * 24 * HOUR_MS;
    platform.audit.record({ ...event, timeMs: nowMs });
    assert.deepEqual(platform.audit.query().map((e) => e.timeMs), [nowMs]);
  });
});
