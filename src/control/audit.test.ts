import assert from 'node:assert/strict';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { Logger } from '../core/logger.ts';
import type { AuditEvent } from '../domain/iam/entities.ts';
import { createMemoryStore } from '../store/memory/memory-store.ts';
import type { Store } from '../store/store.ts';
import { testControlDeps } from '../testing/control-deps.ts';
import { AuditTrail, DATA_EVENT_FLUSH_MS } from './audit.ts';

const ALICE = 'arn:aws:iam::000000000000:user/alice';

function event(action: string, timeMs: number, overrides: Partial<AuditEvent> = {}): Omit<AuditEvent, 'eventId'> {
  return { timeMs, principalArn: ALICE, action, resource: '*', decision: 'Allow', statements: [], sourceIp: '127.0.0.1', userAgent: 'test', requestId: `r-${timeMs}`, ...overrides };
}

function trail(store: Store = createMemoryStore()): { trail: AuditTrail; store: Store; errors: string[] } {
  const errors: string[] = [];
  const logger: Logger = { debug() {}, info() {}, warn() {}, error: (message) => void errors.push(message) };
  return { trail: new AuditTrail(testControlDeps('/nonexistent', store, { logger })), store, errors };
}

const stored = (store: Store) => store.auditEvents.query().map((e) => e.action);

describe('audit trail', () => {
  it('writes a management event at once, before the response it describes goes out', () => {
    const { trail: audit, store } = trail();
    audit.record(event('iam:CreateUser', 1));
    assert.deepEqual(stored(store), ['iam:CreateUser']);
  });

  it('holds data events for at most DATA_EVENT_FLUSH_MS, then writes them together', async () => {
    const { trail: audit, store } = trail();
    for (let i = 0; i < 3; i++) audit.record(event('lambda:InvokeFunction', i));
    await nextTurn();
    assert.deepEqual(stored(store), [], 'a data event waits for the batch');
    await sleep(DATA_EVENT_FLUSH_MS + 50);
    assert.deepEqual(stored(store), ['lambda:InvokeFunction', 'lambda:InvokeFunction', 'lambda:InvokeFunction']);
  });

  it('writes waiting data events with the next management event, in order', async () => {
    const { trail: audit, store } = trail();
    audit.record(event('sagemaker:InvokeEndpoint', 1));
    assert.deepEqual(stored(store), []);
    audit.record(event('sagemaker:DeleteEndpoint', 2));
    assert.deepEqual(stored(store), ['sagemaker:InvokeEndpoint', 'sagemaker:DeleteEndpoint']);
  });

  it('shows every recorded event to a query, written or waiting', () => {
    const { trail: audit } = trail();
    audit.record(event('lambda:InvokeFunction', 1));
    audit.record(event('iam:CreateUser', 2));
    assert.deepEqual(audit.query().map((e) => e.action), ['lambda:InvokeFunction', 'iam:CreateUser']);
  });

  it('writes what waits when flushed, as the server does when it closes', () => {
    const { trail: audit, store } = trail();
    audit.record(event('lambda:InvokeFunction', 1));
    audit.flush();
    assert.deepEqual(stored(store), ['lambda:InvokeFunction']);
  });

  it('keeps the other events of a batch when the store refuses one, and logs the refusal', () => {
    const { trail: audit, store, errors } = trail();
    audit.record(event('lambda:InvokeFunction', 1));
    audit.record(event('lambda:InvokeFunction', 2, { decision: 'Maybe' as never }));
    audit.record(event('iam:DeleteUser', 3));
    assert.deepEqual(stored(store), ['lambda:InvokeFunction', 'iam:DeleteUser']);
    assert.deepEqual(errors, ['could not record an audit event']);
  });

  it('logs and goes on when the store cannot be written at all', () => {
    const store = createMemoryStore();
    const { trail: audit, errors } = trail(store);
    store.close();
    audit.record(event('iam:CreateUser', 1));
    assert.deepEqual(errors, ['could not record audit events'], 'logged once for the batch');
  });
});
