/**
 * What Kennel adds to a Lambda function's own time (DESIGN §6: invocation overhead is measured
 * against calling the handler directly; cold starts are measured and reported), in one run:
 *
 *   npm run bench -- functions [--calls 1000] [--warmup 3000] [--rounds 10] [--cold 10]
 *     [--steps 1000] [--cpu-prof DIR]
 *
 * - warm: a no-op nodejs20.x handler (`export const handler = async () => ({})`) invoked on a
 *   real Kennel started in this process (port 0, a temporary folder), `--calls` sequential
 *   calls after `--warmup` (V8 needs a few thousand calls to optimise Kennel's longer path; the
 *   p50 of each block of the warm-up is shown, so that the cost before it is seen too), against the peer: the same handler module imported into this
 *   process behind a plain node:http server (peer.ts). Each side is called by a minimal
 *   SigV4-signed node:http keep-alive client (the headline) and by the AWS SDK's LambdaClient,
 *   in `--rounds` interleaved rounds, the order rotating, so drift on this shared machine falls
 *   on all sides alike. The overhead is Kennel's p50 (p99) minus the peer's p50 (p99).
 * - cold: `--cold` times each for Node.js and Python, a configuration change (one environment
 *   variable; environments are per configuration) made Successful, then Invoke with LogType
 *   Tail: the time to its answer, and the Init Duration of its REPORT line. Python is
 *   KENNEL_PYTHON, /usr/bin/python3 when that is unset and present, else python3; none prints
 *   `cold_python_ms=skipped`.
 * - where the time goes: each step of the path alone, `--steps` times (breakdown.ts), the
 *   floors the machine sets, and in place: a V8 CPU profile of this process over `--calls` more
 *   warm calls per side, by part of the path (profile.ts). `--cpu-prof DIR` keeps both profiles
 *   (kennel.cpuprofile, peer.cpuprofile) for a closer look.
 *
 * The last line: warm_overhead_p50_ms, warm_overhead_p99_ms (minimal client), cold_node_ms,
 * cold_python_ms (medians). Targets: warm overhead p50 ≤ 1 ms, Node.js cold start ≤ 150 ms.
 */
import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describeIsolation } from '../../src/runtime/functions/sandbox.ts';
import { probePython, pythonCommand } from '../../src/runtime/functions/interpreters.ts';
import { isSupportedRuntime } from '../../src/runtime/functions/runtimes.ts';
import { machineBusyMs, processCpuMs, waitForQuiet } from '../endpoint/cpu.ts';
import { interpreterStarts, measureWarmSteps, type InterpreterStart, type StepTimes } from './breakdown.ts';
import { minimalClient, sdkClient, type InvokeAnswer, type InvokeClient } from './client.ts';
import { COLD_NODE_FUNCTION, COLD_PYTHON_FUNCTION, newConfiguration, reportOf, startBenchKennel, WARM_FUNCTION, type BenchKennel } from './kennel.ts';
import { startPeer, type PeerServer } from './peer.ts';
import { profileCalls, type AreaTimes } from './profile.ts';
import { childPids, contextSwitches, distribution, fmt, median, timeCalls, type ContextSwitches, type Distribution } from './stats.ts';

const TARGET_WARM_OVERHEAD_P50_MS = 1;
const TARGET_COLD_NODE_MS = 150;
/** Before each round, wait (at most this long) for other processes to use less than QUIET_CORES. */
const QUIET_WAIT_MS = 2000;
const QUIET_CORES = 0.25;
const FLOOR_STARTS = 10;

const { values: args } = parseArgs({
  options: {
    calls: { type: 'string', default: '1000' },
    warmup: { type: 'string', default: '3000' },
    rounds: { type: 'string', default: '10' },
    cold: { type: 'string', default: '10' },
    steps: { type: 'string', default: '1000' },
    'cpu-prof': { type: 'string' },
  },
});
const CALLS = positiveInteger('calls', args.calls);
const WARMUP = positiveInteger('warmup', args.warmup);
const ROUNDS = positiveInteger('rounds', args.rounds);
const COLD = positiveInteger('cold', args.cold);
const STEPS = positiveInteger('steps', args.steps);
if (CALLS < ROUNDS) throw new Error(`--calls (${CALLS}) must be at least --rounds (${ROUNDS})`);

// The SDK's notice that its future releases want Node.js 22 says nothing about this run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
if (!process.env.KENNEL_PYTHON && existsSync('/usr/bin/python3')) process.env.KENNEL_PYTHON = '/usr/bin/python3';

console.log(
  `machine: ${cpus()[0]?.model ?? 'unknown cpu'}, ${availableParallelism()} cores, node ${process.version}, ${process.platform} ${release()}, load average ${loadavg()
    .map((load) => load.toFixed(2))
    .join(' ')}`,
);
const python = await probePython(pythonCommand());
const pythonRuntime = python.found ? lambdaPythonRuntime(python.install.version) : undefined;
console.log(python.found ? `python: ${python.install.executable} ${python.install.version}, functions created as ${pythonRuntime}` : `python: skipped: ${python.reason}`);
console.log((await describeIsolation()).summary);

const dir = await mkdtemp(join(tmpdir(), 'kennel-bench-functions-'));
let kennel: BenchKennel | undefined;
let peer: PeerServer | undefined;
const clients: InvokeClient[] = [];
let cleaning: Promise<void> | undefined;
const cleanup = () =>
  (cleaning ??= (async () => {
    for (const client of clients) client.close();
    await peer?.close();
    await kennel?.close();
    await rm(dir, { recursive: true, force: true });
  })());
// Ctrl-C or a kill still closes Kennel (and its function processes) and removes the folder.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log(`functions bench: ${signal}, stopping`);
    void cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));

try {
  kennel = await startBenchKennel(dir, pythonRuntime);
  peer = await startPeer(kennel.nodeHandlerFile, 'handler');
  console.log(`kennel: in this process at ${kennel.test.url}, state in ${kennel.test.home}; peer: node:http importing ${kennel.nodeHandlerFile} at ${peer.url}`);
  const open = (client: InvokeClient) => (clients.push(client), client);
  const sides: Side[] = [
    { name: 'kennel, minimal client', client: open(minimalClient(kennel.test.url, kennel.test.credentials)) },
    { name: 'peer, minimal client', client: open(minimalClient(peer.url, kennel.test.credentials)) },
    { name: 'kennel, SDK client', client: open(sdkClient(kennel.test.url, kennel.test.credentials)) },
    { name: 'peer, SDK client', client: open(sdkClient(peer.url, kennel.test.credentials)) },
  ];
  const warm = await measureWarm(sides);
  const cold = await measureCold(kennel, sides[0]!.client, pythonRuntime !== undefined);
  console.log(`\nsteps: each alone, in this process, ${STEPS} times after ${Math.min(STEPS, WARMUP)} untimed`);
  const steps = await measureWarmSteps(kennel, peer.url, dir, STEPS, Math.min(STEPS, WARMUP));
  const floors = await interpreterStarts(dir, python.found ? python.install.executable : undefined, pythonRuntime, FLOOR_STARTS);
  const profileDir = args['cpu-prof'];
  if (profileDir !== undefined) await mkdir(profileDir, { recursive: true });
  const profiled = async (side: Side, file: string) =>
    profileCalls(CALLS, async () => checkAnswer(await side.client.invoke(WARM_FUNCTION), `${side.name} (profiled)`), profileDir === undefined ? undefined : join(profileDir, file));
  const inPlace = { kennel: await profiled(sides[0]!, 'kennel.cpuprofile'), peer: await profiled(sides[1]!, 'peer.cpuprofile') };
  if (profileDir !== undefined) console.log(`CPU profiles of ${CALLS} warm calls per side written to ${profileDir}`);
  report(warm, cold, steps, floors, inPlace);
} finally {
  await cleanup();
}

// ---------------------------------------------------------------------------

interface Side {
  name: string;
  client: InvokeClient;
}

interface SideResult {
  latency: Distribution;
  /** CPU of this process (client, and Kennel or the peer) and of its children (the function's runtime), per call. */
  cpuMsPerCall: number;
  /** Cores' worth of CPU other processes on the machine used meanwhile. */
  othersCores: number;
  /** Per call: this process's main thread (client, and Kennel or the peer). */
  mainSwitches: ContextSwitches;
  /** Per call: the function's runtime process (wakes for each thing Kennel sends it). */
  runtimeSwitches: ContextSwitches;
}

type WarmResults = Record<string, SideResult>;

function checkAnswer(answer: InvokeAnswer, what: string): void {
  if (answer.status !== 200 || answer.headers['x-amz-function-error'] !== undefined || answer.body !== '{}') {
    throw new Error(`${what} answered ${answer.status}${answer.headers['x-amz-function-error'] ? ` (${answer.headers['x-amz-function-error']})` : ''}: ${answer.body.slice(0, 300)}`);
  }
}

async function measureWarm(sides: readonly Side[]): Promise<WarmResults> {
  console.log(`\nwarm: ${CALLS} sequential calls per side after ${WARMUP} untimed, in ${ROUNDS} rounds, the order of the sides rotating`);
  const warmingUp = new Map<string, number[]>();
  for (const side of sides) {
    warmingUp.set(side.name, await timeCalls(WARMUP, 0, async () => checkAnswer(await side.client.invoke(WARM_FUNCTION), side.name)));
  }
  reportWarmUp(warmingUp);
  const latencies = new Map<string, number[]>(sides.map((side) => [side.name, []]));
  const cpu = new Map<string, { ownMs: number; othersMs: number; wallMs: number }>(sides.map((side) => [side.name, { ownMs: 0, othersMs: 0, wallMs: 0 }]));
  const switches = new Map<string, { main: ContextSwitches; runtime: ContextSwitches }>(
    sides.map((side) => [side.name, { main: { voluntary: 0, involuntary: 0 }, runtime: { voluntary: 0, involuntary: 0 } }]),
  );
  let quietRounds = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const ownPids = [process.pid, ...childPids()];
    if (await waitForQuiet(ownPids, QUIET_CORES, QUIET_WAIT_MS)) quietRounds++;
    const count = Math.floor(CALLS / ROUNDS) + (round === ROUNDS - 1 ? CALLS % ROUNDS : 0);
    for (let i = 0; i < sides.length; i++) {
      const side = sides[(i + round) % sides.length]!;
      const before = cpuNow(ownPids);
      const switchesBefore = switchesNow(ownPids);
      const startedAt = performance.now();
      const times = await timeCalls(count, 0, async () => checkAnswer(await side.client.invoke(WARM_FUNCTION), side.name));
      const wallMs = performance.now() - startedAt;
      const after = cpuNow(ownPids);
      const switchesAfter = switchesNow(ownPids);
      const counted = switches.get(side.name)!;
      for (const part of ['main', 'runtime'] as const) {
        counted[part].voluntary += switchesAfter[part].voluntary - switchesBefore[part].voluntary;
        counted[part].involuntary += switchesAfter[part].involuntary - switchesBefore[part].involuntary;
      }
      latencies.get(side.name)!.push(...times);
      const used = cpu.get(side.name)!;
      used.ownMs += after.ownMs - before.ownMs;
      used.othersMs += Math.max(0, after.busyMs - before.busyMs - (after.ownMs - before.ownMs));
      used.wallMs += wallMs;
    }
  }
  console.log(`${quietRounds} of ${ROUNDS} rounds began on a quiet machine (other processes under ${QUIET_CORES} cores; waited at most ${QUIET_WAIT_MS / 1000} s for it)`);
  return Object.fromEntries(
    sides.map((side) => {
      const used = cpu.get(side.name)!;
      const { main, runtime } = switches.get(side.name)!;
      const perCall = (counted: ContextSwitches) => ({ voluntary: counted.voluntary / CALLS, involuntary: counted.involuntary / CALLS });
      return [
        side.name,
        { latency: distribution(latencies.get(side.name)!), cpuMsPerCall: used.ownMs / CALLS, othersCores: used.othersMs / used.wallMs, mainSwitches: perCall(main), runtimeSwitches: perCall(runtime) },
      ];
    }),
  );
}

/** The p50 of each block of warm-up calls, per side: how a fresh server's first calls compare with its steady state. */
function reportWarmUp(warmingUp: Map<string, number[]>): void {
  const blocks = Math.min(6, WARMUP);
  const size = Math.ceil(WARMUP / blocks);
  const p50s = (times: number[]) => Array.from({ length: Math.ceil(times.length / size) }, (_, block) => median(times.slice(block * size, (block + 1) * size)));
  console.log(`warm-up, p50 ms of each block of ${size} calls, in order:`);
  for (const [name, times] of warmingUp) console.log(`  ${name.padEnd(24)} ${p50s(times).map((value) => fmt(value).padStart(7)).join(' ')}`);
}

/** Context switches so far of this process's main thread, and of the other processes given (the runtimes), summed. */
function switchesNow(pids: readonly number[]): { main: ContextSwitches; runtime: ContextSwitches } {
  const runtime = { voluntary: 0, involuntary: 0 };
  for (const pid of pids) {
    if (pid === process.pid) continue;
    const counted = contextSwitches(pid);
    runtime.voluntary += counted.voluntary;
    runtime.involuntary += counted.involuntary;
  }
  return { main: contextSwitches(process.pid), runtime };
}

/** CPU ms so far of the bench's processes, and of every core busy since boot. */
function cpuNow(pids: readonly number[]): { ownMs: number; busyMs: number } {
  return { ownMs: pids.reduce((sum, pid) => sum + (processCpuMs(pid) ?? 0), 0), busyMs: machineBusyMs() ?? NaN };
}

interface ColdResult {
  runtime: string;
  coldMs: number[];
  initMs: number[];
  /** The REPORT line's Duration: the handler's invocation, after init. */
  durationMs: number[];
  /** The next call, on the environment the cold one started. */
  warmAfterMs: number[];
  /** UpdateFunctionConfiguration until LastUpdateStatus Successful (not part of the cold start). */
  updateMs: number[];
}

async function measureCold(kennel: BenchKennel, client: InvokeClient, withPython: boolean): Promise<ColdResult[]> {
  const functions = [
    { runtime: 'Node.js (nodejs20.x)', name: COLD_NODE_FUNCTION },
    ...(withPython ? [{ runtime: `Python (${pythonRuntime})`, name: COLD_PYTHON_FUNCTION }] : []),
  ];
  console.log(`\ncold: ${COLD} per runtime, alternating; each after a configuration change is Successful, Invoke with LogType Tail, then one warm call`);
  const results = functions.map((fn): ColdResult => ({ runtime: fn.runtime, coldMs: [], initMs: [], durationMs: [], warmAfterMs: [], updateMs: [] }));
  for (let round = 0; round < COLD; round++) {
    for (const [index, fn] of functions.entries()) {
      const result = results[index]!;
      result.updateMs.push(await newConfiguration(kennel.lambda, fn.name, String(round)));
      const startedAt = performance.now();
      const answer = await client.invoke(fn.name, { logTail: true });
      result.coldMs.push(performance.now() - startedAt);
      checkAnswer(answer, `${fn.name} (cold)`);
      const report = reportOf(answer.headers['x-amz-log-result'] as string | undefined);
      if (report.initDurationMs === undefined) throw new Error(`${fn.name}: the call after a configuration change reported no Init Duration: it was not a cold start`);
      result.initMs.push(report.initDurationMs);
      result.durationMs.push(report.durationMs ?? NaN);
      const warmStartedAt = performance.now();
      checkAnswer(await client.invoke(fn.name), `${fn.name} (warm)`);
      result.warmAfterMs.push(performance.now() - warmStartedAt);
    }
  }
  return results;
}

// ---------------------------------------------------------------------------

function report(warm: WarmResults, cold: ColdResult[], steps: StepTimes, floors: InterpreterStart[], inPlace: { kennel: AreaTimes; peer: AreaTimes }): void {
  const kennelMin = warm['kennel, minimal client']!;
  const peerMin = warm['peer, minimal client']!;
  const kennelSdk = warm['kennel, SDK client']!;
  const peerSdk = warm['peer, SDK client']!;
  const overheadP50 = kennelMin.latency.p50 - peerMin.latency.p50;
  const overheadP99 = kennelMin.latency.p99 - peerMin.latency.p99;

  console.log('\nwarm Invoke, ms                p50      p90      p99     mean   CPU ms/call  others (cores)  switches/call: main (vol/invol)  runtime (vol/invol)');
  for (const [name, side] of Object.entries(warm)) {
    const l = side.latency;
    const pair = (counted: ContextSwitches) => `${fmt(counted.voluntary, 2)} / ${fmt(counted.involuntary, 2)}`;
    console.log(
      `${name.padEnd(24)} ${[l.p50, l.p90, l.p99, l.mean].map((v) => fmt(v).padStart(8)).join(' ')} ${fmt(side.cpuMsPerCall).padStart(12)} ${fmt(side.othersCores, 2).padStart(15)}` +
        ` ${pair(side.mainSwitches).padStart(32)} ${pair(side.runtimeSwitches).padStart(20)}`,
    );
  }
  console.log('CPU ms/call: this process (client, and Kennel or the peer) and the function runtime process together; others: what the rest of the machine used meanwhile;');
  console.log('switches: context switches of this process’s main thread and of the runtime process; an involuntary one is the scheduler running something else instead (on these 2 cores, often the runtime just woken)');
  console.log(
    `overhead, minimal client: p50 ${fmt(overheadP50)} ms, p99 ${fmt(overheadP99)} ms (kennel p50 ${fmt(kennelMin.latency.p50 / peerMin.latency.p50, 1)}× the peer's); ` +
      `SDK client: p50 ${fmt(kennelSdk.latency.p50 - peerSdk.latency.p50)} ms, p99 ${fmt(kennelSdk.latency.p99 - peerSdk.latency.p99)} ms`,
  );
  console.log(`the SDK client's own cost over the minimal one, against the peer: p50 ${fmt(peerSdk.latency.p50 - peerMin.latency.p50)} ms`);
  console.log(`target warm overhead p50 ≤ ${TARGET_WARM_OVERHEAD_P50_MS} ms: ${overheadP50 <= TARGET_WARM_OVERHEAD_P50_MS ? 'met' : `MISSED by ${fmt(overheadP50 - TARGET_WARM_OVERHEAD_P50_MS)} ms`}`);

  console.log('\ncold start, ms             median    min    max   Init Duration   its Duration   Kennel around init   warm next call');
  for (const result of cold) {
    const coldMedian = median(result.coldMs);
    const initMedian = median(result.initMs);
    console.log(
      `${result.runtime.padEnd(26)} ${fmt(coldMedian, 1).padStart(6)} ${fmt(Math.min(...result.coldMs), 1).padStart(6)} ${fmt(Math.max(...result.coldMs), 1).padStart(6)}` +
        ` ${fmt(initMedian, 1).padStart(15)} ${fmt(median(result.durationMs), 2).padStart(14)} ${fmt(coldMedian - initMedian - median(result.warmAfterMs), 1).padStart(20)} ${fmt(median(result.warmAfterMs), 2).padStart(16)}`,
    );
  }
  console.log('Init Duration and Duration: medians from the cold call’s REPORT line (Duration: its invocation, after init);');
  console.log('Kennel around init: the cold call less its Init Duration and less the warm call after it (folders, role credentials, Runtime API, spawn)');
  console.log(`configuration change to LastUpdateStatus Successful (not counted): median ${fmt(median(cold.flatMap((result) => result.updateMs)), 1)} ms`);
  const coldNode = median(cold[0]!.coldMs);
  console.log(`target Node.js cold start ≤ ${TARGET_COLD_NODE_MS} ms: ${coldNode <= TARGET_COLD_NODE_MS ? 'met' : `MISSED by ${fmt(coldNode - TARGET_COLD_NODE_MS, 1)} ms`}`);

  const alone = [
    { name: 'minimal client: SigV4 signing (both sides pay it)', times: steps.sign },
    { name: 'kennel: GET /ping (Hono on @hono/node-server, request id, audit middleware)', times: steps.kennelPing },
    { name: 'peer: the same GET (node:http and the handler)', times: steps.peerGet },
    { name: 'SigV4 verification of an Invoke', times: steps.sigv4 },
    { name: 'authorisation: lambda.Invoke rule and the authorizer', times: steps.authorize },
    { name: 'audit event written to SQLite', times: steps.audit },
    { name: 'platform.invoker.invoke, no HTTP', times: steps.invoker },
    { name: `bare environment invoked directly (${steps.isolation.join(', ') || 'no isolation'})`, times: steps.environment },
    { name: 'its REPORT Duration: event out to answer in', times: steps.environmentReported },
    { name: 'round trip of 256 bytes to another process (loopback TCP)', times: steps.processHop },
  ];
  console.log(`\neach step alone, ms (${STEPS} each)                                              p50      p99`);
  for (const step of alone) {
    const d = distribution(step.times);
    console.log(`  ${step.name.padEnd(80)} ${fmt(d.p50).padStart(7)} ${fmt(d.p99).padStart(8)}`);
  }
  const p50 = (times: number[]) => distribution(times).p50;
  const aloneSum = p50(steps.kennelPing) - p50(steps.peerGet) + p50(steps.sigv4) + p50(steps.authorize) + p50(steps.audit) + p50(steps.invoker);
  console.log(
    `  alone, Kennel's steps (GET /ping over the peer's, SigV4, authorisation, audit, the in-process invoke) come to ${fmt(aloneSum)} ms at p50, against an overhead of ${fmt(overheadP50)} ms: in place they cost more`,
  );

  const areas = [...new Set([...inPlace.kennel.perCallMs.keys(), ...inPlace.peer.perCallMs.keys()])];
  const at = (times: AreaTimes, area: string) => times.perCallMs.get(area) ?? 0;
  areas.sort((a, b) => at(inPlace.kennel, b) - at(inPlace.peer, b) - (at(inPlace.kennel, a) - at(inPlace.peer, a)));
  console.log(`\nin place: this process's main thread per warm call, ms (V8 CPU profile, ${CALLS} calls per side; the profiler slows both)`);
  console.log(`  ${'part of the path'.padEnd(62)}  kennel    peer  kennel − peer`);
  for (const area of areas) {
    const [k, p] = [at(inPlace.kennel, area), at(inPlace.peer, area)];
    if (k < 0.0005 && p < 0.0005) continue;
    console.log(`  ${area.padEnd(62)} ${fmt(k).padStart(7)} ${fmt(p).padStart(7)} ${fmt(k - p).padStart(14)}`);
  }
  console.log(`  ${'all'.padEnd(62)} ${fmt(inPlace.kennel.totalPerCallMs).padStart(7)} ${fmt(inPlace.peer.totalPerCallMs).padStart(7)} ${fmt(inPlace.kennel.totalPerCallMs - inPlace.peer.totalPerCallMs).padStart(14)}`);
  console.log('  A part counts its own frames and the internals they call; time blocked in a system call (a write that wakes the runtime process) counts as the caller’s.');

  console.log(`\ninterpreter starts, spawn to exit, ms (median of ${FLOOR_STARTS}): the floor under Init Duration`);
  for (const floor of floors) console.log(`  ${fmt(median(floor.times), 1).padStart(7)}  ${floor.label}`);
  const bootstrapMs = (launched: 'nodejs' | 'python', result: ColdResult | undefined) => {
    const floor = floors.find((candidate) => candidate.launched === launched);
    return floor && result ? `${fmt(median(result.initMs) - median(floor.times), 1)} ms` : undefined;
  };
  const bootstraps = [
    ['Node.js', bootstrapMs('nodejs', cold[0])],
    ['Python', bootstrapMs('python', cold.find((result) => result.runtime.startsWith('Python')))],
  ].filter(([, ms]) => ms !== undefined);
  console.log(`  Init Duration less the launch with nothing to run (the bootstrap, the handler's import, the first /next): ${bootstraps.map(([runtime, ms]) => `${runtime} ${ms}`).join(', ')}`);

  const coldPython = cold.find((result) => result.runtime.startsWith('Python'));
  const figures = {
    warm_overhead_p50_ms: fmt(overheadP50),
    warm_overhead_p99_ms: fmt(overheadP99),
    cold_node_ms: fmt(coldNode, 1),
    cold_python_ms: coldPython ? fmt(median(coldPython.coldMs), 1) : 'skipped',
  };
  console.log(
    `\nkennel p50 ${fmt(kennelMin.latency.p50)} ms p99 ${fmt(kennelMin.latency.p99)} ms; peer p50 ${fmt(peerMin.latency.p50)} ms p99 ${fmt(peerMin.latency.p99)} ms; ` +
      `Node.js Init Duration ${fmt(median(cold[0]!.initMs), 1)} ms${coldPython ? `, Python ${fmt(median(coldPython.initMs), 1)} ms` : ''}`,
  );
  console.log(`functions: ${Object.entries(figures).map(([key, value]) => `${key}=${value}`).join(' ')}`);
}

/** Lambda's identifier for the Python Kennel found; the newest Kennel supports when it has none for that version. */
function lambdaPythonRuntime(version: string): string {
  const [major, minor] = version.split('.');
  const runtime = `python${major}.${minor}`;
  return isSupportedRuntime(runtime) ? runtime : 'python3.13';
}

function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive whole number, got ${text}`);
  return value;
}
