/**
 * InvokeEndpoint over HTTP against the bare pipeline, on a ResNet50-shaped model and the same
 * JPEGs, in one run (DESIGN §6: the HTTP, auth and routing layer must cost little next to the
 * model).
 *
 *   node --import tsx bench/endpoint/index.ts [--requests 200] [--block 20] [--threads 0] [--server-cpu-prof DIR]
 *
 * The endpoint is served by `kennel up` in a child process; the bench process is the client and,
 * in its own turns, runs the bare pipeline. This machine is shared, so the two sides are
 * interleaved in short blocks (`--block` × concurrency requests each, the side going first
 * alternating), and each side's figures pool its blocks: whatever else runs on the machine hits
 * both sides alike. Concurrency 1, then 2 and 4. Requests go only to 127.0.0.1 and are bounded in
 * number and time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Prediction } from '../../src/domain/serving/predictions.ts';
import { openBarePipeline, type BarePipeline, type StageTimes } from './bare.ts';
import { endpointClient, startServerProcess, type EndpointClient, type ServerProcess } from './client.ts';
import { cpuWindow, processCpuMs } from './cpu.ts';
import { ensureJpegs, ensureResnetModel, prepareHome, type PreparedHome } from './fixtures.ts';
import { closedLoop, mean, median, percentile, summarise, type Block, type Summary } from './load.ts';

const KEYS = ['vs_bare', 'rps', 'p50_ms', 'p99_ms', 'bare_rps', 'bare_p50_ms', 'rps_c2', 'rps_c4'];
const CONCURRENCIES = [1, 2, 4];
const IMAGE_COUNT = 32;
/** Per side and concurrency: whichever comes first, the request count or this. */
const MAX_SECONDS = 60;
/** Other processes using more than this many cores during a measurement make its absolute figures suspect. */
const NOISY_CORES = 0.1;

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '200' },
    block: { type: 'string', default: '20' },
    threads: { type: 'string', default: '0' },
    /** Writes a V8 CPU profile of the server process into this folder, for finding where its time goes. */
    'server-cpu-prof': { type: 'string' },
  },
});
const requests = positiveInteger('requests', args.requests);
const block = positiveInteger('block', args.block);
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
  console.log(`images: ${jpegs.length} JPEGs, ${describeSizes(jpegs)}; preprocessing resize ${p.resizeSize} / crop ${p.cropSize} ${p.layout}, ImageNet mean/std`);
  console.log(
    `onnxruntime: backbone intraOpNumThreads=${threads === 0 ? '0 (ONNX Runtime default: one per core)' : threads}, head 1 thread; the same on both sides`,
  );

  bare = await openBarePipeline({ modelPath: model.path, backbone: prepared.backbone, headModel: prepared.headModel, labels: prepared.labels, threads });
  const profileDir = args['server-cpu-prof'];
  server = await startServerProcess(root, home, { threads, nodeOptions: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [] });
  console.log(
    `server: child process \`kennel up --port 0 --threads ${threads}\` (pid ${server.pid}) at ${server.url}; client: node:http keep-alive, SigV4 signed per request (@smithy/signature-v4)`,
  );
  if (profileDir) console.log(`server CPU profile: written to ${profileDir} when the server stops`);

  await warmUpAndCheck(bare, server, prepared);
  console.log(
    `runs: ${requests} requests per side at each concurrency (at most ${MAX_SECONDS} s), interleaved in blocks of ${block} × concurrency requests, alternating which side goes first`,
  );
  console.log();
  const results = [];
  for (const concurrency of CONCURRENCIES) results.push(await measure(bare, server, prepared, concurrency));
  report(results);
} finally {
  await bare?.close();
  await server?.stop();
  await rm(home, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------

interface SideResult extends Summary {
  /** CPU ms per request: the bench process and the server process together. */
  cpuMsPerRequest: number;
  /** Cores' worth of CPU that other processes on the machine used meanwhile. */
  othersCores: number;
}

interface ConcurrencyResult {
  concurrency: number;
  bare: SideResult;
  endpoint: SideResult & { serverCpuMsPerRequest: number };
  /** endpoint rps / bare rps of each pair of neighbouring blocks. */
  pairRatios: number[];
  stages?: StageTimes;
  signMs?: number[];
}

async function warmUpAndCheck(bare: BarePipeline, server: ServerProcess, prepared: PreparedHome): Promise<void> {
  const client = connect(server, prepared, 4);
  try {
    let agree = 0;
    let maxDifference = 0;
    for (const jpeg of jpegs) {
      const fromBare = await bare.classify(jpeg);
      const fromEndpoint = (JSON.parse(await invokeOk(client, jpeg)) as { predictions: Prediction[] }).predictions;
      if (fromBare.length === fromEndpoint.length && fromBare.every((prediction, i) => prediction.index === fromEndpoint[i].index)) agree++;
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

async function measure(bare: BarePipeline, server: ServerProcess, prepared: PreparedHome, concurrency: number): Promise<ConcurrencyResult> {
  const pids = [process.pid, server.pid];
  const stages: StageTimes | undefined = concurrency === 1 ? { preprocessMs: [], backboneMs: [], headMs: [] } : undefined;
  const signMs: number[] | undefined = concurrency === 1 ? [] : undefined;
  const sides = {
    bare: { blocks: [] as Block[], ownMs: 0, othersMs: 0, serverMs: 0 },
    endpoint: { blocks: [] as Block[], ownMs: 0, othersMs: 0, serverMs: 0 },
  };
  const sendBare = (i: number) => bare.classify(jpegs[i % jpegs.length], stages).then(() => undefined);
  const client = connect(server, prepared, concurrency);
  const sendEndpoint = (i: number) => invokeOk(client, jpegs[i % jpegs.length], signMs).then(() => undefined);
  const runBlock = async (side: keyof typeof sides, count: number) => {
    const state = sides[side];
    const serverBefore = processCpuMs(server.pid) ?? NaN;
    const cpu = cpuWindow(pids);
    const result = await closedLoop(concurrency, count, MAX_SECONDS, side === 'bare' ? sendBare : sendEndpoint);
    const window = cpu();
    state.blocks.push(result);
    state.ownMs += window.ownMs;
    state.othersMs += window.othersMs;
    state.serverMs += (processCpuMs(server.pid) ?? NaN) - serverBefore;
    return result;
  };
  const spent = (side: keyof typeof sides) => sides[side].blocks.reduce((sum, b) => sum + b.seconds, 0);
  const done = (side: keyof typeof sides) => sides[side].blocks.reduce((sum, b) => sum + b.latenciesMs.length, 0);
  const pairRatios: number[] = [];
  try {
    // One request per connection first, so the blocks start with their sockets open.
    await Promise.all(Array.from({ length: concurrency }, (_, i) => invokeOk(client, jpegs[i])));
    for (let pair = 0; done('bare') < requests && spent('bare') < MAX_SECONDS && spent('endpoint') < MAX_SECONDS; pair++) {
      const count = Math.min(block * concurrency, requests - done('bare'));
      const order = pair % 2 === 0 ? (['bare', 'endpoint'] as const) : (['endpoint', 'bare'] as const);
      const rps: Record<string, number> = {};
      for (const side of order) {
        const result = await runBlock(side, count);
        rps[side] = result.latenciesMs.length / result.seconds;
      }
      pairRatios.push(rps.endpoint / rps.bare);
    }
  } finally {
    client.close();
  }
  const side = (name: keyof typeof sides): SideResult => {
    const summary = summarise(sides[name].blocks);
    return { ...summary, cpuMsPerRequest: sides[name].ownMs / summary.requests, othersCores: sides[name].othersMs / (summary.seconds * 1000) };
  };
  const result: ConcurrencyResult = {
    concurrency,
    bare: side('bare'),
    endpoint: { ...side('endpoint'), serverCpuMsPerRequest: sides.endpoint.serverMs / done('endpoint') },
    pairRatios,
    stages,
    signMs,
  };
  for (const name of ['bare', 'endpoint'] as const) {
    const r = result[name];
    console.log(
      `c=${concurrency} ${name.padEnd(8)} ${r.requests} requests in ${sides[name].blocks.length} blocks, ${fmt(r.seconds)} s: ${fmt(r.rps)} req/s, p50 ${fmt(r.p50Ms)} ms, p99 ${fmt(r.p99Ms)} ms; other processes ${fmt(r.othersCores)} cores${r.othersCores > NOISY_CORES ? ' (noisy)' : ''}`,
    );
  }
  return result;
}

function report(results: ConcurrencyResult[]): void {
  console.log();
  console.log('Latency is measured by the caller; for the endpoint it includes SigV4 signing and the HTTP round trip.');
  console.log('side      c    req/s   p50 ms   p99 ms  mean ms  CPU ms/req  others  endpoint/bare (median of block pairs)');
  let noisy = false;
  for (const r of results) {
    noisy ||= r.bare.othersCores > NOISY_CORES || r.endpoint.othersCores > NOISY_CORES;
    console.log(`bare      ${r.concurrency}  ${row(r.bare)}`);
    console.log(`endpoint  ${r.concurrency}  ${row(r.endpoint)}  ${fmt(r.endpoint.rps / r.bare.rps, 3)} (${fmt(median(r.pairRatios), 3)})`);
  }
  console.log('CPU ms/req: bench and server processes together; others: cores other processes on the machine used meanwhile.');
  if (noisy) console.log(`warning: other processes used over ${NOISY_CORES} cores during some runs: absolute figures are low and noisy; the ratios, measured side by side, less so`);

  const [c1, c2, c4] = results;
  const { preprocessMs, backboneMs, headMs } = c1.stages!;
  console.log();
  console.log(
    `bare c=1 stages, p50 / mean ms: preprocess (sharp) ${fmt(percentile(preprocessMs, 50))} / ${fmt(mean(preprocessMs))}, backbone ${fmt(percentile(backboneMs, 50))} / ${fmt(mean(backboneMs))}, head + top-5 ${fmt(percentile(headMs, 50), 3)} / ${fmt(mean(headMs), 3)}`,
  );
  console.log(
    `endpoint c=1 over bare: ${fmt(c1.endpoint.p50Ms - c1.bare.p50Ms)} ms at p50, ${fmt(c1.endpoint.meanMs - c1.bare.meanMs)} ms mean; ${fmt(c1.endpoint.cpuMsPerRequest - c1.bare.cpuMsPerRequest)} CPU ms per request (server process ${fmt(c1.endpoint.serverCpuMsPerRequest, 1)}, client SigV4 signing ${fmt(mean(c1.signMs!), 3)} ms)`,
  );
  console.log(
    `endpoint: vs_bare=${fmt(c1.endpoint.rps / c1.bare.rps, 3)} rps=${fmt(c1.endpoint.rps)} p50_ms=${fmt(c1.endpoint.p50Ms)} p99_ms=${fmt(c1.endpoint.p99Ms)} bare_rps=${fmt(c1.bare.rps)} bare_p50_ms=${fmt(c1.bare.p50Ms)} rps_c2=${fmt(c2.endpoint.rps)} rps_c4=${fmt(c4.endpoint.rps)}`,
  );
}

// ---------------------------------------------------------------------------

function connect(server: ServerProcess, prepared: PreparedHome, connections: number): EndpointClient {
  return endpointClient({ url: server.url, endpointName: prepared.endpointName, credentials: prepared.credentials, connections });
}

async function invokeOk(client: EndpointClient, jpeg: Uint8Array, signMs?: number[]): Promise<string> {
  const result = await client.invoke(jpeg);
  if (result.status !== 200) throw new Error(`InvokeEndpoint answered ${result.status}: ${result.body.slice(0, 500)}`);
  signMs?.push(result.signMs);
  return result.body;
}

function row(s: SideResult): string {
  const figures = [s.rps, s.p50Ms, s.p99Ms, s.meanMs].map((v) => fmt(v).padStart(7)).join('  ');
  return `${figures}  ${fmt(s.cpuMsPerRequest, 1).padStart(10)}  ${fmt(s.othersCores).padStart(6)}`;
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
