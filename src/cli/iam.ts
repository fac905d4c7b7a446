import { createReadStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { DomainError } from '../core/errors.ts';
import { parseDurationSeconds } from '../core/durations.ts';
import type { AuditEvent } from '../domain/iam/entities.ts';
import type { DeniedAction, SuggestedPolicy, UnusedPermission } from '../domain/iam/least-privilege.ts';
import { simulateCase } from '../domain/iam/simulation-cases.ts';
import { blocksAttachment, validatePolicy, type Finding } from '../domain/iam/validate-policy.ts';
import { connect, globalOptions, print, table } from './context.ts';

const DECISIONS = ['Allow', 'ExplicitDeny', 'ImplicitDeny'];

export function registerIam(program: Command): void {
  const group = program.command('iam').description('Policies, the audit trail and least privilege');

  group
    .command('validate-policy <file>')
    .description('Check a policy: errors (which block attaching it), security warnings, warnings and suggestions')
    .option('--kind <kind>', 'identity, resource or trust (a role trust policy)', 'identity')
    .action(async (file: string, options: { kind: string }, command: Command) => {
      if (!['identity', 'resource', 'trust'].includes(options.kind)) throw new DomainError('ValidationError', `--kind must be identity, resource or trust, not ${options.kind}`);
      const findings = validatePolicy(await readText(file), { kind: options.kind as 'identity' });
      print(command, findings, (rows) => renderFindings(file, rows));
      if (blocksAttachment(findings)) process.exitCode = 1;
    });

  group
    .command('simulate')
    .description('Decide requests offline, as the server would: one request against policy files, or a batch of JSON-lines cases')
    .option('--cases <file>', 'JSON lines: {"id", "identityPolicies", "resourcePolicy", "request"} per line; writes {"id", "decision"} per line')
    .option('--principal <arn>', 'who calls, e.g. arn:aws:iam::000000000000:user/alice')
    .option('--action <action>', 'e.g. sagemaker:InvokeEndpoint')
    .option('--resource <arn>', "the resource's ARN", '*')
    .option('--policy <file...>', 'identity policy files of the principal')
    .option('--resource-policy <file>', "the resource's policy")
    .option('--context <key=value...>', 'condition keys, e.g. aws:SourceIp=10.0.0.7 (repeat a key for a list)')
    .action(async (options: SimulateOptions, command: Command) => {
      const now = Date.now();
      if (options.cases) {
        const lines = createInterface({ input: options.cases === '-' ? process.stdin : createReadStream(options.cases), crlfDelay: Infinity });
        for await (const line of lines) {
          if (line.trim() !== '') process.stdout.write(simulateCase(line, now) + '\n');
        }
        return;
      }
      if (!options.principal || !options.action || !options.policy) {
        throw new DomainError('ValidationError', 'Give --cases FILE, or --principal, --action and at least one --policy FILE (and optionally --resource, --resource-policy, --context)');
      }
      const line = JSON.stringify({
        id: 'request',
        identityPolicies: await Promise.all(options.policy.map(readText)),
        resourcePolicy: options.resourcePolicy ? await readText(options.resourcePolicy) : null,
        request: { principal: options.principal, action: options.action, resource: options.resource, context: parseContext(options.context ?? []) },
      });
      const result = JSON.parse(simulateCase(line, now)) as { decision?: string; error?: string };
      if (result.error) throw new DomainError('MalformedPolicyDocument', result.error);
      print(command, result, (r) => `${r.decision}: ${options.principal} ${options.action} on ${options.resource}`);
      if (result.decision !== 'Allow') process.exitCode = 1;
    });

  group
    .command('audit')
    .description('The audit trail: who did what, on which resource, and what was decided')
    .option('--principal <arn>', 'only this caller')
    .option('--action <action>', 'only this action, e.g. sagemaker:InvokeEndpoint')
    .option('--decision <decision>', 'Allow, ExplicitDeny or ImplicitDeny')
    .option('--since <duration>', 'only this recent, e.g. 1h or 7d')
    .option('--until <duration>', 'only older than this, e.g. 10m')
    .option('--limit <n>', 'the newest N events', '100')
    .option('--jsonl', 'one JSON event per line')
    .action(async (options: AuditOptions, command: Command) => {
      if (options.decision && !DECISIONS.includes(options.decision)) throw new DomainError('ValidationError', `--decision must be one of ${DECISIONS.join(', ')}`);
      const now = Date.now();
      const query = new URLSearchParams({ limit: options.limit });
      if (options.principal) query.set('principal', options.principal);
      if (options.action) query.set('action', options.action);
      if (options.decision) query.set('decision', options.decision);
      if (options.since) query.set('from', String(Math.round(now - parseDurationSeconds(options.since, '--since') * 1000)));
      if (options.until) query.set('to', String(Math.round(now - parseDurationSeconds(options.until, '--until') * 1000)));
      const { events } = await (await connect(command)).kennel<{ events: AuditEvent[] }>('GET', `/iam/audit-events?${query}`);
      if (options.jsonl) {
        for (const event of events) process.stdout.write(JSON.stringify(event) + '\n');
        return;
      }
      print(command, events, (rows) =>
        table(
          ['TIME', 'PRINCIPAL', 'ACTION', 'RESOURCE', 'DECISION', 'ERROR', 'SOURCE'],
          rows.map((e) => [new Date(e.timeMs).toISOString().slice(0, 19).replace('T', ' '), e.principalArn || '-', e.action, e.resource || '-', e.decision, e.errorCode ?? '', e.sourceIp]),
        ),
      );
    });

  group
    .command('suggest-policy')
    .description('The minimal policy for what a principal did: exactly the actions it used, on exactly the resources')
    .requiredOption('--principal <arn>', 'a user or role ARN (a role covers its sessions)')
    .option('--since <duration>', 'the window of use to read', '7d')
    .option('--out <file>', 'also write the policy JSON to this file')
    .action(async (options: { principal: string; since: string; out?: string }, command: Command) => {
      const since = Math.round(Date.now() - parseDurationSeconds(options.since, '--since') * 1000);
      const query = new URLSearchParams({ principal: options.principal, since: String(since) });
      const result = await (await connect(command)).kennel<{ policy?: SuggestedPolicy; usedActions: number; deniedActions: DeniedAction[] }>(
        'GET',
        `/iam/suggested-policy?${query}`,
      );
      if (options.out && result.policy) await writeFile(options.out, JSON.stringify(result.policy, null, 2) + '\n');
      if (globalOptions(command).output === 'json') return print(command, result, () => '');
      if (!result.policy) process.stderr.write(`No allowed call by ${options.principal} in the last ${options.since}: nothing to suggest.\n`);
      else process.stdout.write(JSON.stringify(result.policy, null, 2) + '\n');
      for (const denied of result.deniedActions) {
        process.stderr.write(`denied ${denied.count} time(s): ${denied.action} on ${denied.resources.join(', ')} (not in the policy)\n`);
      }
    });

  group
    .command('unused')
    .description('Permissions a principal holds that it never used')
    .requiredOption('--principal <arn>', 'a user, group or role ARN')
    .option('--since <duration>', 'the window of use to read', '90d')
    .action(async (options: { principal: string; since: string }, command: Command) => {
      const since = Math.round(Date.now() - parseDurationSeconds(options.since, '--since') * 1000);
      const query = new URLSearchParams({ principal: options.principal, since: String(since) });
      const { unused } = await (await connect(command)).kennel<{ unused: UnusedPermission[] }>('GET', `/iam/unused-permissions?${query}`);
      print(command, unused, (rows) =>
        table(
          ['ACTION', 'RESOURCES', 'GRANTED BY'],
          rows.map((u) => [u.action, u.resourcePatterns.join(', '), `${u.statement.policyLabel ?? 'policy'} statement ${u.statement.sid ?? u.statement.index + 1}`]),
        ),
      );
    });
}

interface SimulateOptions {
  cases?: string;
  principal?: string;
  action?: string;
  resource: string;
  policy?: string[];
  resourcePolicy?: string;
  context?: string[];
}

interface AuditOptions {
  principal?: string;
  action?: string;
  decision?: string;
  since?: string;
  until?: string;
  limit: string;
  jsonl?: boolean;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new DomainError('ValidationError', `Cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** `key=value` pairs; a key given twice becomes a multivalued key. */
function parseContext(pairs: readonly string[]): Record<string, string | string[]> {
  const context: Record<string, string | string[]> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new DomainError('ValidationError', `--context ${JSON.stringify(pair)} is not key=value`);
    const key = pair.slice(0, equals);
    const value = pair.slice(equals + 1);
    const existing = context[key];
    context[key] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  return context;
}

function renderFindings(file: string, findings: readonly Finding[]): string {
  if (findings.length === 0) return `${file}: no findings`;
  return findings.map((finding) => `${finding.severity.padEnd(16)} ${finding.code}: ${finding.message}`).join('\n');
}
