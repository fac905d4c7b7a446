/**
 * InvokeEndpoint over HTTP against the bare pipeline, on a ResNet50-shaped model and the same
 * JPEGs, in one run (DESIGN §6: the HTTP, auth and routing layer must cost little next to the
 * model).
 *
 *   node --import tsx bench/endpoint/index.ts [--requests 200] [--block 20] [--threads 0] [--server-cpu-prof DIR]
 *
 * The endpoint is served by `kennel up` in a child process; the bench process is the client and,
 * in its own turns, runs the bare pipeline. This 2-core machine is shared, so the two sides are
 * measured in pairs of short blocks (`--block` × concurrency requests per side, the side going
 * first alternating): before each pair the bench waits (briefly) for other processes to leave the
 * machine alone, and a pair they disturbed anyway is run again; each side's figures pool its
 * blocks. Concurrency 1, then 2 and 4. Requests go only to 127.0.0.1 and are bounded in number
 * and time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Prediction } from '../../src/domain/serving/predictions.ts';
import { openBarePipeline, type BarePipeline, type StageTimes } from './bare.ts';
import { endpointClient, startServerProcess, type EndpointClient, type ServerProcess } from './client.ts';
import { cpuWindow, processCpuMs, waitForQuiet } from './cpu.ts';
import { ensureJpegs, ensureResnetModel, prepareHome, type PreparedHome } from './fixtures.ts';
import { closedLoop, mean, median, percentile, probeWhile, summarise, type Block, type Summary } from './load.ts';

const KEYS = ['vs_bare', 'rps', 'p50_ms', 'p99_ms', 'bare_rps', 'bare_p50_ms', 'rps_c2', 'rps_c4', 'ping_p99_ms_under_load'];
/** How often /ping is asked while the endpoint serves a block, and at which concurrency. */
const PING_EVERY_MS = 20;
const PING_CONCURRENCY = 4;
const CONCURRENCIES = [1, 2, 4];
const IMAGE_COUNT = 32;
/** Per concurrency, both sides and waiting included: whichever comes first, the request count or this. */
const BUDGET_SECONDS = 120;
/** Other processes using more than this many cores during a block make its pair be run again. */
const NOISY_CORES = 0.1;
/** Longest wait for a quiet machine before a block pair. */
const QUIET_WAIT_SECONDS = 10;

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
    `runs: ${requests} requests per side at each concurrency (at most ${BUDGET_SECONDS} s per concurrency), in block pairs of ${block} × concurrency requests per side, alternating which side goes first; pairs disturbed by other processes are run again`,
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
  /** endpoint rps / bare rps of each pair of neighbouring blocks that was kept. */
  pairRatios: number[];
  /** Too few quiet pairs: every pair was used. */
  noisy: boolean;
  stages: StageTimes;
  signMs: number[];
  /** Latency of GET /ping while the endpoint blocks ran. */
  pingMs: number[];
}

/** One side's block, with what the machine did meanwhile. */
interface MeasuredBlock extends Block {
  ownMs: number;
  othersMs: number;
  serverMs: number;
}

interface BlockPair {
  bare: MeasuredBlock;
  endpoint: MeasuredBlock;
  stages: StageTimes;
  signMs: number[];
  pingMs: number[];
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

/**
 * Block pairs (one block per side, the side going first alternating) until `requests` requests per
 * side were measured in quiet pairs. Before each pair the bench waits for other processes to leave
 * the machine alone; a pair during which they used more than NOISY_CORES anyway is run again. If
 * the time budget runs out first, every pair is used and the result is marked noisy.
 */
async function measure(bare: BarePipeline, server: ServerProcess, prepared: PreparedHome, concurrency: number): Promise<ConcurrencyResult> {
  const pids = [process.pid, server.pid];
  const deadline = performance.now() + BUDGET_SECONDS * 1000;
  const remainingSeconds = () => Math.max(0, (deadline - performance.now()) / 1000);
  const client = connect(server, prepared, concurrency);
  const runBlock = async (send: (i: number) => Promise<unknown>, count: number): Promise<MeasuredBlock> => {
    const serverBefore = processCpuMs(server.pid) ?? NaN;
    const cpu = cpuWindow(pids);
    const block = await closedLoop(concurrency, count, Math.max(1, remainingSeconds()), async (i) => {
      await send(i);
    });
    const window = cpu();
    return { ...block, ...window, serverMs: (processCpuMs(server.pid) ?? NaN) - serverBefore };
  };
  const quiet = (b: MeasuredBlock) => b.othersMs / (b.seconds * 1000) <= NOISY_CORES;
  const pairs: BlockPair[] = [];
  const kept = () => pairs.filter((pair) => quiet(pair.bare) && quiet(pair.endpoint));
  const keptRequests = () => kept().reduce((sum, pair) => sum + pair.bare.latenciesMs.length, 0);
  try {
    // One request per connection first, so the blocks start with their sockets open.
    await Promise.all(Array.from({ length: concurrency }, (_, i) => invokeOk(client, jpegs[i])));
    while (keptRequests() < requests && remainingSeconds() > 0) {
      await waitForQuiet(pids, NOISY_CORES, Math.min(QUIET_WAIT_SECONDS, remainingSeconds()) * 1000);
      const count = Math.min(block * concurrency, requests - keptRequests());
      const stages: StageTimes = { preprocessMs: [], backboneMs: [], headMs: [] };
      const signMs: number[] = [];
      const runBare = () => runBlock((i) => bare.classify(jpegs[i % jpegs.length], stages), count);
      const pingMs: number[] = [];
      const runEndpoint = async () => {
        const running = runBlock((i) => invokeOk(client, jpegs[i % jpegs.length], signMs), count);
        // Only where it is reported: the probes cost the server a little, which would show at c=1.
        if (concurrency === PING_CONCURRENCY) pingMs.push(...(await probeWhile(new URL('/ping', server.url).href, PING_EVERY_MS, running)));
        return running;
      };
      const bareFirst = pairs.length % 2 === 0;
      const first = await (bareFirst ? runBare() : runEndpoint());
      const second = await (bareFirst ? runEndpoint() : runBare());
      const pair: BlockPair = { bare: bareFirst ? first : second, endpoint: bareFirst ? second : first, stages, signMs, pingMs };
      pairs.push(pair);
    }
  } finally {
    client.close();
  }
  const noisy = keptRequests() < requests / 2;
  const used = noisy ? pairs : kept();
  const side = (name: 'bare' | 'endpoint'): SideResult => {
    const blocks = used.map((pair) => pair[name]);
    const summary = summarise(blocks);
    const total = (key: 'ownMs' | 'othersMs') => blocks.reduce((sum, b) => sum + b[key], 0);
    return { ...summary, cpuMsPerRequest: total('ownMs') / summary.requests, othersCores: total('othersMs') / (summary.seconds * 1000) };
  };
  const endpoint = side('endpoint');
  const result: ConcurrencyResult = {
    concurrency,
    bare: side('bare'),
    endpoint: { ...endpoint, serverCpuMsPerRequest: used.reduce((sum, pair) => sum + pair.endpoint.serverMs, 0) / endpoint.requests },
    pairRatios: used.map((pair) => pair.endpoint.latenciesMs.length / pair.endpoint.seconds / (pair.bare.latenciesMs.length / pair.bare.seconds)),
    noisy,
    stages: {
      preprocessMs: used.flatMap((pair) => pair.stages.preprocessMs),
      backboneMs: used.flatMap((pair) => pair.stages.backboneMs),
      headMs: used.flatMap((pair) => pair.stages.headMs),
    },
    signMs: used.flatMap((pair) => pair.signMs),
    pingMs: used.flatMap((pair) => pair.pingMs),
  };
  const dropped = pairs.length - kept().length;
  console.log(
    `c=${concurrency}: ${pairs.length} block pairs${dropped > 0 ? `, ${dropped} dropped (other processes used over ${NOISY_CORES} cores)` : ''}${noisy ? '; too few quiet pairs in the time budget: ALL pairs used, figures noisy' : ''}`,
  );
  for (const name of ['bare', 'endpoint'] as const) {
    const r = result[name];
    console.log(
      `  ${name.padEnd(8)} ${r.requests} requests, ${fmt(r.seconds)} s: ${fmt(r.rps)} req/s, p50 ${fmt(r.p50Ms)} ms, p99 ${fmt(r.p99Ms)} ms; other processes ${fmt(r.othersCores)} cores`,
    );
  }
  return result;
}

function report(results: ConcurrencyResult[]): void {
  console.log();
  console.log('Latency is measured by the caller; for the endpoint it includes SigV4 signing and the HTTP round trip.');
  console.log('side      c    req/s   p50 ms   p99 ms  mean ms  CPU ms/req  others  endpoint/bare (median of block pairs)');
  for (const r of results) {
    console.log(`bare      ${r.concurrency}  ${row(r.bare)}`);
    console.log(`endpoint  ${r.concurrency}  ${row(r.endpoint)}  ${fmt(r.endpoint.rps / r.bare.rps, 3)} (${fmt(median(r.pairRatios), 3)})`);
  }
  console.log('CPU ms/req: bench and server processes together; others: cores other processes on the machine used meanwhile');
  const noisy = results.filter((r) => r.noisy).map((r) => `c=${r.concurrency}`);
  if (noisy.length > 0) {
    console.log(`warning: other processes kept the machine busy at ${noisy.join(', ')}: those absolute figures are low and noisy; the ratios, measured side by side, less so`);
  }

  const [c1, c2, c4] = results;
  if (c4.concurrency !== PING_CONCURRENCY) throw new Error('the /ping probes run at another concurrency than reported');
  const { preprocessMs, backboneMs, headMs } = c1.stages;
  console.log();
  console.log(
    `bare c=1 stages, p50 / mean ms: preprocess (sharp) ${fmt(percentile(preprocessMs, 50))} / ${fmt(mean(preprocessMs))}, backbone ${fmt(percentile(backboneMs, 50))} / ${fmt(mean(backboneMs))}, head + top-5 ${fmt(percentile(headMs, 50), 3)} / ${fmt(mean(headMs), 3)}`,
  );
  console.log(
    `endpoint c=1 over bare: ${fmt(c1.endpoint.p50Ms - c1.bare.p50Ms)} ms at p50, ${fmt(c1.endpoint.meanMs - c1.bare.meanMs)} ms mean; ${fmt(c1.endpoint.cpuMsPerRequest - c1.bare.cpuMsPerRequest)} CPU ms per request (server process ${fmt(c1.endpoint.serverCpuMsPerRequest, 1)}, client SigV4 signing ${fmt(mean(c1.signMs), 3)} ms)`,
  );
  console.log(
    `/ping while the endpoint serves at c=4, one probe every ${PING_EVERY_MS} ms: ${c4.pingMs.length} probes, p50 ${fmt(percentile(c4.pingMs, 50))} ms, p99 ${fmt(percentile(c4.pingMs, 99))} ms, max ${fmt(Math.max(...c4.pingMs))} ms`,
  );
  console.log(
    `endpoint: vs_bare=${fmt(c1.endpoint.rps / c1.bare.rps, 3)} rps=${fmt(c1.endpoint.rps)} p50_ms=${fmt(c1.endpoint.p50Ms)} p99_ms=${fmt(c1.endpoint.p99Ms)} bare_rps=${fmt(c1.bare.rps)} bare_p50_ms=${fmt(c1.bare.p50Ms)} rps_c2=${fmt(c2.endpoint.rps)} rps_c4=${fmt(c4.endpoint.rps)} ping_p99_ms_under_load=${fmt(percentile(c4.pingMs, 99))}`,
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
