/**
 * What SigV4 and IAM cost per request, as the server pays it on every signed call: the
 * signature verified against the credential store, the caller looked up, the permission
 * checks built from the permissions table and authorised over the caller's compiled (and
 * cached) policies. Measured for a typical caller (AmazonSageMakerFullAccess and a small
 * inline policy) and a large-policy caller (a 20-statement managed policy full of
 * conditions), against the peer: SigV4 verification alone, on requests of the same shape.
 *
 *   npm run bench -- iam [--requests 20000] [--warmup 5000] [--rounds 10] [--breakdown 5000]
 *
 * Every request is a SageMaker DescribeEndpoint signed beforehand by the AWS SDK's signer,
 * naming its own (tagged) endpoint, so no two bodies, hashes or signatures are alike; each
 * is verified at the time it was signed. The three workloads run interleaved in rounds so
 * that drift on a shared machine falls on all of them alike. In process, no HTTP. Then
 * `--breakdown` more requests per caller time each step on its own, to show where the
 * time goes.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PERMISSIONS } from '../../src/api/authorization/permissions.ts';
import type { RequestFacts } from '../../src/control/authorizer.ts';
import type { Platform } from '../../src/control/platform.ts';
import { verifySigV4, type SigV4Options } from '../../src/domain/iam/sigv4.ts';
import { addEndpoints, benchPlatform, REGION, signDescribeEndpoints, type SignedCall } from './fixtures.ts';
import { LARGE_POLICY, policyCharacters, TYPICAL_INLINE_POLICY } from './policies.ts';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '20000' },
    warmup: { type: 'string', default: '5000' },
    rounds: { type: 'string', default: '10' },
    breakdown: { type: 'string', default: '5000' },
  },
});
const REQUESTS = Number(args.requests);
const WARMUP = Number(args.warmup);
const ROUNDS = Number(args.rounds);
const BREAKDOWN = Number(args.breakdown);
assert.ok(REQUESTS >= ROUNDS && ROUNDS >= 1 && WARMUP >= 0 && BREAKDOWN >= 1, '--requests must be at least --rounds, --rounds and --breakdown at least 1');

const SIGNED_FROM_MS = Date.UTC(2026, 0, 15, 9, 0, 0);
/** A busy server: about a thousand requests a second, so requests share their second, as aws:CurrentTime sees it. */
const SPACING_MS = 1;
const SOURCE_IP = '10.20.30.40';
const SIGV4_OPTIONS: SigV4Options = { expectedService: 'sagemaker', expectedRegion: REGION };
const RULE = PERMISSIONS['SageMaker.DescribeEndpoint']!;

type Workload = 'typical' | 'large' | 'sigv4_only';
type Step = 'verify' | 'caller' | 'checks' | 'authorize';
const WORKLOADS: readonly Workload[] = ['typical', 'large', 'sigv4_only'];

console.log(`machine: ${cpus()[0]?.model ?? 'unknown cpu'}, ${availableParallelism()} cores, node ${process.version}, load average ${loadavg()[0]!.toFixed(2)}`);

const dir = await mkdtemp(join(tmpdir(), 'kennel-bench-iam-'));
try {
  const { platform, users } = benchPlatform(dir);
  const total = WARMUP + REQUESTS;
  const names = (prefix: string, count: number) => Array.from({ length: count }, (_, index) => `bench-${prefix}-${String(index).padStart(6, '0')}`);
  const started = performance.now();
  const calls: Record<Workload, SignedCall[]> = {
    typical: await signDescribeEndpoints(users.typical, names('typical', total), SIGNED_FROM_MS, SPACING_MS),
    large: await signDescribeEndpoints(users.large, names('large', total), SIGNED_FROM_MS, SPACING_MS),
    sigv4_only: await signDescribeEndpoints(users.typical, names('sigv4-only', total), SIGNED_FROM_MS, SPACING_MS),
  };
  // Fresh requests for the breakdown, signed after the timed ones so that time moves on as before.
  const breakdownFromMs = SIGNED_FROM_MS + total * SPACING_MS;
  const breakdownCalls = {
    typical: await signDescribeEndpoints(users.typical, names('typical-breakdown', BREAKDOWN), breakdownFromMs, SPACING_MS),
    large: await signDescribeEndpoints(users.large, names('large-breakdown', BREAKDOWN), breakdownFromMs, SPACING_MS),
  };
  addEndpoints(platform, [...calls.typical, ...calls.large, ...breakdownCalls.typical, ...breakdownCalls.large].map((call) => call.endpointName), SIGNED_FROM_MS);
  const bodyBytes = calls.typical.map((call) => call.request.body.byteLength);
  console.log(
    `requests: SageMaker.DescribeEndpoint, ${Math.min(...bodyBytes)}–${Math.max(...bodyBytes)}-byte bodies, ` +
      `${Object.keys(calls.typical[0]!.request.headers).length} headers, signed by @smithy/signature-v4 ` +
      `(${((performance.now() - started) / 1000).toFixed(1)} s for ${3 * total + 2 * BREAKDOWN}); ${WARMUP} warm-up and ${REQUESTS} timed per workload, in ${ROUNDS} interleaved rounds`,
  );
  console.log(`typical caller: AmazonSageMakerFullAccess + an inline policy of ${policyCharacters(TYPICAL_INLINE_POLICY)} characters`);
  console.log(`large-policy caller: a customer managed policy of 20 statements, ${policyCharacters(LARGE_POLICY)} characters (limit 6144)`);

  const serve = servingOne(platform);
  const allowing = serve.sanityChecks(users.typical.accessKeyId, users.large.accessKeyId, calls.large[0]!.endpointName);
  console.log(`large-policy caller is allowed DescribeEndpoint by ${allowing.length} statements and denied DeleteEndpoint by NeverDeleteProduction`);
  // Each workload's requests in order: warm-up first, then the timed ones, a round's share at a time.
  const next: Record<Workload, number> = { typical: 0, large: 0, sigv4_only: 0 };
  const timings: Record<Workload, Float64Array> = { typical: new Float64Array(REQUESTS), large: new Float64Array(REQUESTS), sigv4_only: new Float64Array(REQUESTS) };
  const run = (workload: Workload, count: number, record: boolean) => {
    const list = calls[workload];
    const times = timings[workload];
    const handle = workload === 'sigv4_only' ? serve.sigv4Only : serve.full;
    for (let i = 0; i < count; i++) {
      const index = next[workload]++;
      const call = list[index]!;
      const begin = process.hrtime.bigint();
      handle(call);
      const end = process.hrtime.bigint();
      if (record) times[index - WARMUP] = Number(end - begin) / 1000;
    }
  };
  for (let round = 0; round < ROUNDS; round++) {
    const order = WORKLOADS.map((_, i) => WORKLOADS[(i + round) % WORKLOADS.length]!);
    for (const workload of order) run(workload, Math.floor(WARMUP / ROUNDS) + (round === ROUNDS - 1 ? WARMUP % ROUNDS : 0), false);
  }
  for (let round = 0; round < ROUNDS; round++) {
    const order = WORKLOADS.map((_, i) => WORKLOADS[(i + round) % WORKLOADS.length]!);
    for (const workload of order) run(workload, Math.floor(REQUESTS / ROUNDS) + (round === ROUNDS - 1 ? REQUESTS % ROUNDS : 0), true);
  }

  const stats = Object.fromEntries(WORKLOADS.map((workload) => [workload, percentiles(timings[workload])])) as Record<Workload, ReturnType<typeof percentiles>>;
  console.log('\nper request, µs        p50      p90      p99     mean');
  for (const workload of WORKLOADS) {
    const s = stats[workload];
    const label = { typical: 'typical caller', large: 'large-policy caller', sigv4_only: 'SigV4 alone (peer)' }[workload];
    console.log(`${label.padEnd(20)} ${[s.p50, s.p90, s.p99, s.mean].map((value) => value.toFixed(2).padStart(8)).join(' ')}`);
  }

  // Where the time goes: each step timed on its own, on fresh requests.
  const steps = { typical: serve.steps(breakdownCalls.typical), large: serve.steps(breakdownCalls.large) };
  console.log(`\nsteps, p50 µs (${BREAKDOWN} more requests each)  SigV4+lookup  caller  checks  authorize`);
  for (const caller of ['typical', 'large'] as const) {
    const p50 = (step: Step) => percentiles(steps[caller][step]).p50.toFixed(2);
    console.log(`${(caller === 'typical' ? 'typical caller' : 'large-policy caller').padEnd(43)} ${p50('verify').padStart(12)} ${p50('caller').padStart(7)} ${p50('checks').padStart(7)} ${p50('authorize').padStart(10)}`);
  }
  assert.equal(serve.refused(), 0, 'every request of the bench is allowed');
  console.log("checks: the permissions table's rule (the endpoint's tags are read from the store only when a policy names aws:ResourceTag, as the large one does); authorize: Authorizer.authorize over the cached compiled policies");
  const authorisationShare = 1 - stats.sigv4_only.p50 / stats.typical.p50;
  console.log(`\neverything after the signature is ${(authorisationShare * 100).toFixed(0)}% of the typical caller's p50; vs_sigv4_only: typical p50 over SigV4-alone p50 (target: p50_us ≤ 50)`);
  const figures = {
    p50_us: stats.typical.p50.toFixed(2),
    p99_us: stats.typical.p99.toFixed(2),
    large_p50_us: stats.large.p50.toFixed(2),
    large_p99_us: stats.large.p99.toFixed(2),
    sigv4_only_p50_us: stats.sigv4_only.p50.toFixed(2),
    sigv4_only_p99_us: stats.sigv4_only.p99.toFixed(2),
    vs_sigv4_only: (stats.typical.p50 / stats.sigv4_only.p50).toFixed(2),
    large_vs_sigv4_only: (stats.large.p50 / stats.sigv4_only.p50).toFixed(2),
    checks_p50_us: percentiles(steps.typical.checks).p50.toFixed(2),
    authorize_p50_us: percentiles(steps.typical.authorize).p50.toFixed(2),
    large_authorize_p50_us: percentiles(steps.large.authorize).p50.toFixed(2),
  };
  console.log(`iam: ${Object.entries(figures).map(([key, value]) => `${key}=${value}`).join(' ')}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}

/**
 * What the server does for a signed SageMaker call before its handler runs (the sigv4
 * and authorize middlewares without Hono around them), and the peer that stops after
 * the signature. The request's JSON is decoded before timing: the handler needs it anyway.
 */
function servingOne(platform: Platform) {
  const { credentials, authorizer } = platform;
  let refused = 0;
  const factsOf = (call: SignedCall, input: Record<string, unknown>): RequestFacts => ({
    nowMs: call.signedAtMs,
    sourceIp: SOURCE_IP,
    secureTransport: false,
    region: REGION,
    requestTags: RULE.requestTags?.(input) ?? [],
  });
  const full = (call: SignedCall) => {
    const identity = verifySigV4(call.request, credentials.lookup, call.signedAtMs, SIGV4_OPTIONS);
    const caller = credentials.caller(identity.accessKeyId)!;
    const input = { EndpointName: call.endpointName };
    const result = authorizer.authorize(caller, RULE.checks(input, { platform, caller }), factsOf(call, input));
    if (result.decision !== 'Allow') refused++;
  };
  const sigv4Only = (call: SignedCall) => {
    verifySigV4(call.request, credentials.lookup, call.signedAtMs, SIGV4_OPTIONS);
  };
  /** What `full` does, each step timed. */
  const steps = (list: readonly SignedCall[]): Record<Step, Float64Array> => {
    const times: Record<Step, Float64Array> = { verify: new Float64Array(list.length), caller: new Float64Array(list.length), checks: new Float64Array(list.length), authorize: new Float64Array(list.length) };
    const micros = (from: bigint, to: bigint) => Number(to - from) / 1000;
    for (const [index, call] of list.entries()) {
      const t0 = process.hrtime.bigint();
      const identity = verifySigV4(call.request, credentials.lookup, call.signedAtMs, SIGV4_OPTIONS);
      const t1 = process.hrtime.bigint();
      const caller = credentials.caller(identity.accessKeyId)!;
      const t2 = process.hrtime.bigint();
      const input = { EndpointName: call.endpointName };
      const checks = RULE.checks(input, { platform, caller });
      const t3 = process.hrtime.bigint();
      const result = authorizer.authorize(caller, checks, factsOf(call, input));
      const t4 = process.hrtime.bigint();
      if (result.decision !== 'Allow') refused++;
      times.verify[index] = micros(t0, t1);
      times.caller[index] = micros(t1, t2);
      times.checks[index] = micros(t2, t3);
      times.authorize[index] = micros(t3, t4);
    }
    return times;
  };
  /** The policies decide as designed: which statements allow each caller, and the large policy's deny. */
  const sanityChecks = (typicalKey: string, largeKey: string, endpointName: string) => {
    const facts: RequestFacts = { nowMs: SIGNED_FROM_MS, sourceIp: SOURCE_IP, secureTransport: false, region: REGION };
    const decide = (accessKeyId: string, rule: string) => {
      const caller = credentials.caller(accessKeyId)!;
      return authorizer.authorize(caller, PERMISSIONS[rule]!.checks({ EndpointName: endpointName }, { platform, caller }), facts);
    };
    const sids = (statements: readonly string[]) => statements.map((label) => label.slice(label.indexOf('#') + 1));
    assert.deepEqual(sids(decide(typicalKey, 'SageMaker.DescribeEndpoint').statements), ['AllowAllNonAdminSageMakerActions']);
    const large = decide(largeKey, 'SageMaker.DescribeEndpoint');
    assert.deepEqual(sids(large.statements), ['DescribeOwnTeamsEndpoints', 'ReadDuringProject', 'AllButAdminFromTheLab']);
    const deleting = decide(largeKey, 'SageMaker.DeleteEndpoint');
    assert.equal(deleting.decision, 'ExplicitDeny');
    assert.deepEqual(sids(deleting.statements), ['NeverDeleteProduction']);
    return large.statements;
  };
  return { full, sigv4Only, steps, refused: () => refused, sanityChecks };
}

function percentiles(values: Float64Array): { p50: number; p90: number; p99: number; mean: number } {
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), mean: sorted.reduce((sum, value) => sum + value, 0) / sorted.length };
}
