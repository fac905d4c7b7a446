/**
 * InvokeEndpoint over HTTP against the bare pipeline, on a ResNet50-shaped model and the same
 * JPEGs, in one run (DESIGN §6: the HTTP, auth and routing layer must cost little next to the
 * model).
 *
 *   node --import tsx bench/endpoint/index.ts [--requests 200] [--rounds 3] [--threads 0] [--server-cpu-prof DIR]
 *
 * The endpoint is served by `kennel up` in a child process; the bench process is the client and,
 * in its own phases, runs the bare pipeline. Each round measures both sides at concurrency 1, 2
 * and 4 (the side that goes first alternates between rounds); figures are medians over rounds.
 * Requests go only to 127.0.0.1 and are bounded in number and time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Prediction } from '../../src/domain/serving/predictions.ts';
import { openBarePipeline, type BarePipeline, type StageTimes } from './bare.ts';
import { endpointClient, startServerProcess, type ServerProcess } from './client.ts';
import { cpuWindow, processCpuMs } from './cpu.ts';
import { ensureJpegs, ensureResnetModel, prepareHome, type PreparedHome } from './fixtures.ts';
import { closedLoop, mean, median, percentile, type RunResult } from './load.ts';

const KEYS = ['vs_bare', 'rps', 'p50_ms', 'p99_ms', 'bare_rps', 'bare_p50_ms', 'rps_c2', 'rps_c4'];
const CONCURRENCIES = [1, 2, 4];
const IMAGE_COUNT = 32;
/** Per measured run: whichever comes first, the request count or this. */
const MAX_RUN_SECONDS = 60;
/** Other processes using more than this many cores during a run make its figures suspect. */
const NOISY_CORES = 0.1;

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '3' },
    threads: { type: 'string', default: '0' },
    /** Writes a V8 CPU profile of the server process into this folder, for finding where its time goes. */
    'server-cpu-prof': { type: 'string' },
  },
});
const requests = positiveInteger('requests', args.requests);
const rounds = positiveInteger('rounds', args.rounds);
const threads = Number(args.threads);
if (!Number.isInteger(threads) || threads < 0) throw new Error(`--threads must be a whole number ≥ 0, got ${args.threads}`);

const root = fileURLToPath(new URL('../..', import.meta.url));
const cacheDir = join(root, 'bench', '.cache');

console.log(`machine: ${cpus()[0]?.model ?? 'unknown cpu'}, ${availableParallelism()} cores, node ${process.version}, ${process.platform}`);
const model = ensureResnetModel(root, cacheDir);
if ('skipped' in model) {
  console.log(`endpoint bench skipped: ${model.skipped}`);
  console.log(`endpoint: ${KEYS.map((key) => `${key}=skipped`).join(' ')}`);
  process.exit(0);
}

const jpegs = await ensureJpegs(cacheDir, IMAGE_COUNT);
const home = await mkdtemp(join(tmpdir(), 'kennel-bench-endpoint-'));
let server: ServerProcess | undefined;
let bare: BarePipeline | undefined;
try {
  const prepared = await prepareHome(home, model.path, threads);
  const p = prepared.backbone.preprocessing;
  console.log(
    `model: ${model.path} (ResNet50 without fc, random weights, ${prepared.backbone.featureSize} features), head ${prepared.backbone.featureSize} → 128 → ${prepared.labels.length}; trained and deployed in ${prepared.trainingSeconds.toFixed(1)} s`,
  );
  console.log(
    `images: ${jpegs.length} JPEGs, ${describeSizes(jpegs)}; preprocessing resize ${p.resizeSize} / crop ${p.cropSize} ${p.layout}, ImageNet mean/std`,
  );
  console.log(
    `onnxruntime: backbone intraOpNumThreads=${threads === 0 ? 'default (0: ONNX Runtime picks one per core)' : threads}, head 1 thread; the same on both sides`,
  );

  bare = await openBarePipeline({ modelPath: model.path, backbone: prepared.backbone, headModel: prepared.headModel, labels: prepared.labels, threads });
  const profileDir = args['server-cpu-prof'];
  server = await startServerProcess(root, home, { threads, nodeOptions: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [] });
  if (profileDir) console.log(`server CPU profile: written to ${profileDir} when the server stops`);
  console.log(`server: child process \`kennel up --port 0 --threads ${threads}\` (pid ${server.pid}) at ${server.url}; client: node:http keep-alive, SigV4 per request (@smithy/signature-v4)`);

  await warmUpAndCheck(bare, server, prepared);
  console.log(`runs: ${rounds} rounds × concurrency ${CONCURRENCIES.join('/')} × ${requests} requests per side (at most ${MAX_RUN_SECONDS} s each), alternating which side goes first; medians over rounds`);
  console.log();
  const results = await measure(bare, server, prepared);
  report(results);
} finally {
  await bare?.close();
  await server?.stop();
  await rm(home, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------

interface Side {
  runs: Map<number, RunResult[]>;
  /** CPU ms per request (bench process + server process), per concurrency. */
  cpuPerRequest: Map<number, number[]>;
  /** Cores' worth of CPU other processes on the machine used during the run. */
  othersCores: Map<number, number[]>;
  serverCpuPerRequest: Map<number, number[]>;
}

interface Results {
  bare: Side;
  endpoint: Side;
  stages: StageTimes;
  signMs: number[];
}

async function warmUpAndCheck(bare: BarePipeline, server: ServerProcess, prepared: PreparedHome): Promise<void> {
  const client = endpointClient({ url: server.url, endpointName: prepared.endpointName, credentials: prepared.credentials, connections: 4 });
  try {
    let agree = 0;
    let maxDifference = 0;
    for (const jpeg of jpegs) {
      const fromBare = await bare.classify(jpeg);
      const fromEndpoint = (JSON.parse(await invokeOk(client, jpeg)) as { predictions: Prediction[] }).predictions;
      const sameOrder = fromBare.length === fromEndpoint.length && fromBare.every((prediction, i) => prediction.index === fromEndpoint[i].index);
      if (sameOrder) agree++;
      for (const [i, prediction] of fromBare.entries()) {
        maxDifference = Math.max(maxDifference, Math.abs(prediction.probability - (fromEndpoint[i]?.probability ?? Infinity)));
      }
    }
    await Promise.all(Array.from({ length: 8 }, (_, i) => bare.classify(jpegs[i])));
    await Promise.all(Array.from({ length: 8 }, (_, i) => invokeOk(client, jpegs[i])));
    console.log(
      `check: endpoint and bare give the same top-5 classes for ${agree}/${jpegs.length} images (largest probability difference ${maxDifference.toExponential(1)}); warm-up done`,
    );
    if (agree !== jpegs.length) throw new Error('the endpoint and the bare pipeline disagree: they are not computing the same thing');
  } finally {
    client.close();
  }
}

async function measure(bare: BarePipeline, server: ServerProcess, prepared: PreparedHome): Promise<Results> {
  const results: Results = { bare: newSide(), endpoint: newSide(), stages: { preprocessMs: [], backboneMs: [], headMs: [] }, signMs: [] };
  const runBare = async (concurrency: number) => {
    const stages = concurrency === 1 ? results.stages : undefined;
    const cpu = cpuWindow([process.pid, server.pid]);
    const result = await closedLoop(concurrency, requests, MAX_RUN_SECONDS, async (i) => {
      await bare.classify(jpegs[i % jpegs.length], stages);
    });
    const window = cpu();
    record(results.bare, result, window.ownMs / result.requests, window.othersMs / (result.seconds * 1000));
    printRun('bare', result, window.othersMs);
  };
  const runEndpoint = async (concurrency: number) => {
    const client = endpointClient({ url: server.url, endpointName: prepared.endpointName, credentials: prepared.credentials, connections: concurrency });
    try {
      // One request per connection first, so the run starts with its sockets open.
      await Promise.all(Array.from({ length: concurrency }, (_, i) => invokeOk(client, jpegs[i])));
      const serverBefore = processCpuMs(server.pid) ?? NaN;
      const cpu = cpuWindow([process.pid, server.pid]);
      const result = await closedLoop(concurrency, requests, MAX_RUN_SECONDS, async (i) => {
        await invokeOk(client, jpegs[i % jpegs.length], concurrency === 1 ? results.signMs : undefined);
      });
      const window = cpu();
      const serverMs = (processCpuMs(server.pid) ?? NaN) - serverBefore;
      record(results.endpoint, result, window.ownMs / result.requests, window.othersMs / (result.seconds * 1000), serverMs / result.requests);
      printRun('endpoint', result, window.othersMs);
    } finally {
      client.close();
    }
  };
  for (let round = 0; round < rounds; round++) {
    console.log(`round ${round + 1}/${rounds}`);
    for (const concurrency of CONCURRENCIES) {
      const order = round % 2 === 0 ? [runBare, runEndpoint] : [runEndpoint, runBare];
      for (const run of order) await run(concurrency);
    }
  }
  return results;
}

function report(results: Results): void {
  const summary = (side: Side, concurrency: number) => {
    const runs = side.runs.get(concurrency)!;
    return {
      rps: median(runs.map((r) => r.rps)),
      p50: median(runs.map((r) => r.p50Ms)),
      p99: median(runs.map((r) => r.p99Ms)),
      mean: median(runs.map((r) => r.meanMs)),
      cpu: median(side.cpuPerRequest.get(concurrency)!),
      serverCpu: median(side.serverCpuPerRequest.get(concurrency) ?? []),
      others: median(side.othersCores.get(concurrency)!),
    };
  };
  console.log();
  console.log(`medians over ${rounds} rounds (latency measured by the caller; for the endpoint it includes signing and the HTTP round trip)`);
  console.log('side       c    req/s   p50 ms   p99 ms  mean ms  CPU ms/req  others  endpoint/bare');
  let noisy = false;
  for (const concurrency of CONCURRENCIES) {
    const b = summary(results.bare, concurrency);
    const e = summary(results.endpoint, concurrency);
    noisy ||= b.others > NOISY_CORES || e.others > NOISY_CORES;
    console.log(`bare       ${concurrency}  ${row(b)}  ${fmt(b.cpu, 1).padStart(10)}  ${fmt(b.others).padStart(6)}`);
    console.log(
      `endpoint   ${concurrency}  ${row(e)}  ${fmt(e.cpu, 1).padStart(10)}  ${fmt(e.others).padStart(6)}  ${fmt(e.rps / b.rps, 3)}  (server process ${fmt(e.serverCpu, 1)} CPU ms/req)`,
    );
  }
  console.log('(CPU ms/req: bench + server processes; others: cores used by other processes on the machine meanwhile)');
  if (noisy) console.log(`warning: other processes used over ${NOISY_CORES} cores during some runs; absolute figures are low and noisy, ratios less so`);
  const bare1 = summary(results.bare, 1);
  const endpoint1 = summary(results.endpoint, 1);
  const { preprocessMs, backboneMs, headMs } = results.stages;
  console.log();
  console.log(
    `bare c=1 stages (p50 / mean ms): preprocess ${fmt(percentile(preprocessMs, 50))} / ${fmt(mean(preprocessMs))}, backbone ${fmt(percentile(backboneMs, 50))} / ${fmt(mean(backboneMs))}, head + top-5 ${fmt(percentile(headMs, 50), 3)} / ${fmt(mean(headMs), 3)}`,
  );
  console.log(
    `endpoint c=1 cost over bare: ${fmt(endpoint1.mean - bare1.mean)} ms per request (mean latency ${fmt(endpoint1.mean)} vs ${fmt(bare1.mean)}), of which client SigV4 signing ${fmt(mean(results.signMs), 3)} ms`,
  );
  console.log(
    `endpoint: vs_bare=${fmt(endpoint1.rps / bare1.rps, 3)} rps=${fmt(endpoint1.rps)} p50_ms=${fmt(endpoint1.p50)} p99_ms=${fmt(endpoint1.p99)} bare_rps=${fmt(bare1.rps)} bare_p50_ms=${fmt(bare1.p50)} rps_c2=${fmt(summary(results.endpoint, 2).rps)} rps_c4=${fmt(summary(results.endpoint, 4).rps)}`,
  );
}

// ---------------------------------------------------------------------------

async function invokeOk(client: ReturnType<typeof endpointClient>, jpeg: Uint8Array, signMs?: number[]): Promise<string> {
  const result = await client.invoke(jpeg);
  if (result.status !== 200) throw new Error(`InvokeEndpoint answered ${result.status}: ${result.body.slice(0, 500)}`);
  signMs?.push(result.signMs);
  return result.body;
}

function newSide(): Side {
  return { runs: new Map(), cpuPerRequest: new Map(), othersCores: new Map(), serverCpuPerRequest: new Map() };
}

function record(side: Side, result: RunResult, cpuPerRequest: number, othersCores: number, serverCpuPerRequest?: number): void {
  const push = <T>(map: Map<number, T[]>, value: T) => map.set(result.concurrency, [...(map.get(result.concurrency) ?? []), value]);
  push(side.runs, result);
  push(side.cpuPerRequest, cpuPerRequest);
  push(side.othersCores, othersCores);
  if (serverCpuPerRequest !== undefined) push(side.serverCpuPerRequest, serverCpuPerRequest);
}

function printRun(side: string, r: RunResult, othersMs: number): void {
  const others = othersMs / (r.seconds * 1000);
  console.log(
    `  ${side.padEnd(9)} c=${r.concurrency}  ${r.requests} requests in ${fmt(r.seconds)} s: ${fmt(r.rps)} req/s, p50 ${fmt(r.p50Ms)} ms, p99 ${fmt(r.p99Ms)} ms; other processes ${fmt(others)} cores${others > NOISY_CORES ? '  (noisy)' : ''}`,
  );
}

function row(s: { rps: number; p50: number; p99: number; mean: number }): string {
  return [s.rps, s.p50, s.p99, s.mean].map((v) => fmt(v).padStart(7)).join('  ');
}

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

function describeSizes(images: Uint8Array[]): string {
  const kb = images.map((image) => image.byteLength / 1024);
  return `${fmt(Math.min(...kb), 0)}–${fmt(Math.max(...kb), 0)} KB (mean ${fmt(mean(kb), 0)} KB), long side 450–500 px as in dogImages`;
}

function fmt(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

function positiveInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive whole number, got ${text}`);
  return value;
}
