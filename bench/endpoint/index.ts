/**
 * InvokeEndpoint over HTTP against the bare pipeline and against a minimal PyTorch server, on a
 * ResNet50-shaped model and the same JPEGs, in one run (DESIGN §6: the HTTP, auth and routing
 * layer must cost little next to the model).
 *
 *   node --import tsx bench/endpoint/index.ts [--requests 200] [--block 20] [--threads 0]
 *     [--instances 2] [--max-batch 4] [--max-delay-ms 5] [--search-requests 96] [--server-cpu-prof DIR]
 *
 * The endpoints are served by `kennel up` in a child process; the bench process is the client and,
 * in its own turns, runs the bare pipeline. Peers:
 *
 * - bare: the same JPEGs decoded and preprocessed by Kennel's sharp code and run through
 *   onnxruntime-node in-process, batch 1 with the server's thread setting (bare.ts
 *   openBarePipeline); against the one-instance endpoint at concurrency 1, 2 and 4.
 * - bare at its best: a search at concurrency 8 over batch size (1, 2, 4, 8) and sessions
 *   (one 2-thread session, with and without ONNX Runtime's spinning threads, or two 1-thread
 *   sessions in two worker threads), each taking whole batches (bare.ts openBatchedBare); the
 *   fastest is the peer of the scaled endpoint (`--instances` instances, dynamic batching of
 *   `--max-batch` requests waiting at most `--max-delay-ms`) at concurrency 8.
 * - pytorch: pytorch_server.py, torchvision's ResNet50 and a head of Kennel's shape behind the
 *   standard library's ThreadingHTTPServer, run by Debian's python3-torch (/usr/bin/python3), at
 *   concurrency 1 (next to the one-instance endpoint) and 8 (next to the scaled one). Skipped,
 *   with the reason, when torch or torchvision is missing.
 * - script: the same PyTorch model as an inference script (script_inference.py) that Kennel itself
 *   serves on the kennel/python image, one instance, at concurrency 1 next to the one-instance
 *   ONNX endpoint: what serving through a script costs. Skipped with pytorch.
 *
 * This 2-core machine is shared, so the sides of each comparison are measured in rounds of short
 * blocks (`--block` × concurrency requests per side, which side goes first rotating): before each
 * round the bench waits (briefly) for other processes to leave the machine alone, and a round
 * they disturbed anyway is run again; each side's figures pool its blocks. Requests go only to
 * 127.0.0.1 and are bounded in number and time.
 *
 * The last line: vs_bare, rps, p50_ms, p99_ms (one-instance endpoint at c=1), bare_rps,
 * bare_p50_ms, rps_c2, rps_c4, ping_p99_ms_under_load (GET /ping while it serves 4 at a time),
 * batched_vs_bare (scaled endpoint req/s over the best bare configuration's images/s, both at
 * c=8), vs_pytorch (scaled endpoint req/s over the PyTorch server's, both at c=8) and
 * script_vs_onnx (the script endpoint's req/s over the one-instance ONNX endpoint's, both at c=1).
 */
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { instanceThreads } from '../../src/control/endpoint-reconciler.ts';
import type { Prediction } from '../../src/domain/serving/predictions.ts';
import { describeBareConfig, openBarePipeline, openBatchedBare, type BareConfig, type BarePipeline, type BatchedBare, type StageTimes } from './bare.ts';
import { endpointClient, startServerProcess, type EndpointClient, type ServerProcess } from './client.ts';
import { childPids, cpuWindow, processCpuMs, waitForQuiet } from './cpu.ts';
import { ensureJpegs, ensureResnetModel, prepareHome, type PreparedHome } from './fixtures.ts';
import { closedLoop, mean, median, percentile, probeWhile, summarise, type Block, type Summary } from './load.ts';
import { TUNED_MALLOC } from '../head-trainer/compare.ts';
import { plainClient, PYTHON, pytorchAvailable, startPytorchServer, type PlainClient, type PytorchServer } from './pytorch.ts';

const KEYS = ['vs_bare', 'rps', 'p50_ms', 'p99_ms', 'bare_rps', 'bare_p50_ms', 'rps_c2', 'rps_c4', 'ping_p99_ms_under_load', 'batched_vs_bare', 'vs_pytorch', 'script_vs_onnx'];
/** How often /ping is asked while the endpoint serves a block, and at which concurrency. */
const PING_EVERY_MS = 20;
const PING_CONCURRENCY = 4;
const CONCURRENCIES = [1, 2, 4];
/** The concurrency of the scaled endpoint, the best bare configuration and the PyTorch server. */
const HIGH_CONCURRENCY = 8;
const BATCH_SIZES = [1, 2, 4, 8];
/** Blocks of the bare search: this many × 8 requests. */
const SEARCH_BLOCK = 4;
const IMAGE_COUNT = 32;
/** Per two sides of a comparison, waiting included: whichever comes first, the request count or this. */
const BUDGET_SECONDS = 120;
/** The whole bare search, waiting included. */
const SEARCH_BUDGET_SECONDS = 180;
/** Other processes using more than this many cores during a block make its round be run again. */
const NOISY_CORES = 0.1;
/** Longest wait for a quiet machine before a round. */
const QUIET_WAIT_SECONDS = 10;

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '200' },
    block: { type: 'string', default: '20' },
    threads: { type: 'string', default: '0' },
    instances: { type: 'string', default: '2' },
    'max-batch': { type: 'string', default: '4' },
    'max-delay-ms': { type: 'string', default: '5' },
    /** Requests per configuration in the bare search. */
    'search-requests': { type: 'string', default: '96' },
    /** Writes a V8 CPU profile of the server process into this folder, for finding where its time goes. */
    'server-cpu-prof': { type: 'string' },
  },
});
const requests = positiveInteger('requests', args.requests);
const block = positiveInteger('block', args.block);
const threads = Number(args.threads);
if (!Number.isInteger(threads) || threads < 0) throw new Error(`--threads must be a whole number ≥ 0, got ${args.threads}`);
const searchRequests = positiveInteger('search-requests', args['search-requests']);
const instances = positiveInteger('instances', args.instances);
const batching = { maxBatchSize: positiveInteger('max-batch', args['max-batch']), maxDelayMs: Number(args['max-delay-ms']) };
if (batching.maxBatchSize > 64) throw new Error(`--max-batch must be 1..64, got ${batching.maxBatchSize}`);
if (!Number.isInteger(batching.maxDelayMs) || batching.maxDelayMs < 0 || batching.maxDelayMs > 1000) {
  throw new Error(`--max-delay-ms must be a whole number 0..1000, got ${args['max-delay-ms']}`);
}

const root = fileURLToPath(new URL('../..', import.meta.url));
const cacheDir = join(root, 'bench', '.cache');
const cores = availableParallelism();

console.log(`machine: ${cpus()[0]?.model ?? 'unknown cpu'}, ${cores} cores, node ${process.version}, ${process.platform}`);
const model = ensureResnetModel(root, cacheDir);
if ('skipped' in model) {
  console.log(`endpoint bench skipped: ${model.skipped}`);
  console.log(`endpoint: ${KEYS.map((key) => `${key}=skipped`).join(' ')}`);
  process.exit(0);
}

// Ctrl-C or a kill ends the bench through process.exit, whose exit hooks kill the server and the
// PyTorch peer (Node's default for these signals would leave them running).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log(`endpoint bench: ${signal}, stopping`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

const jpegs = await ensureJpegs(cacheDir, IMAGE_COUNT);
const home = await mkdtemp(join(tmpdir(), 'kennel-bench-endpoint-'));
// The finally below removes it; this covers an exit that skips it (a signal).
process.once('exit', () => rmSync(home, { recursive: true, force: true }));
let server: ServerProcess | undefined;
let pytorch: PytorchServer | undefined;
let bare: BarePipeline | undefined;
const pools: BatchedBare[] = [];
/** Every client a side opened, closed at the end. */
const openClients: { close(): void }[] = [];
try {
  const torch = pytorchAvailable();
  // The script endpoint's model server runs on the Python that has torch; the server child inherits this.
  if (torch.ok) process.env.KENNEL_PYTHON = PYTHON;
  const prepared = await prepareHome(home, model.path, threads, { instances, batching }, torch.ok ? { environment: { ...TUNED_MALLOC } } : undefined);
  const p = prepared.backbone.preprocessing;
  console.log(
    `model: ${model.path} (ResNet50 without fc, random weights, ${prepared.backbone.featureSize} features), head ${prepared.backbone.featureSize} → 128 → ${prepared.labels.length}; trained and deployed in ${prepared.trainingSeconds.toFixed(1)} s`,
  );
  console.log(`images: ${jpegs.length} JPEGs, ${describeSizes(jpegs)}; preprocessing resize ${p.resizeSize} / crop ${p.cropSize} ${p.layout}, ImageNet mean/std`);
  console.log(
    `onnxruntime: backbone intraOpNumThreads=${threads === 0 ? '0 (ONNX Runtime default: one per core)' : threads}, head 1 thread; the same on both sides`,
  );
  const scaledThreads = threads > 0 ? threads : instanceThreads('ml.m5.large', prepared.scaled.instances, cores);
  const recorded = prepared.scaled.batching;
  console.log(
    `scaled endpoint ${prepared.scaledEndpointName}: ${prepared.scaled.instances} instances × ${scaledThreads} ONNX thread${scaledThreads === 1 ? '' : 's'}; batching asked: maxBatchSize ${batching.maxBatchSize}, maxDelayMs ${batching.maxDelayMs}; ` +
      (recorded
        ? `recorded by the control plane: maxBatchSize ${recorded.maxBatchSize}, maxDelayMs ${recorded.maxDelayMs}`
        : 'none: each instance serves one request at a time'),
  );

  bare = await openBarePipeline({ modelPath: model.path, backbone: prepared.backbone, headModel: prepared.headModel, labels: prepared.labels, threads });
  const profileDir = args['server-cpu-prof'];
  server = await startServerProcess(root, home, { threads, nodeOptions: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [] });
  console.log(
    `server: child process \`kennel up --port 0 --threads ${threads}\` (pid ${server.pid}) at ${server.url}; client: node:http keep-alive, SigV4 signed per request (@smithy/signature-v4)`,
  );
  if (profileDir) console.log(`server CPU profile: written to ${profileDir} when the server stops`);

  let pytorchSkipped: string | undefined;
  if (torch.ok) {
    try {
      pytorch = await startPytorchServer(root, { threads: cores, classes: prepared.labels.length });
      console.log(
        `pytorch: child process /usr/bin/python3 bench/endpoint/pytorch_server.py (pid ${pytorch.pid}) at ${pytorch.url}, glibc malloc tuned (DESIGN §6); ${pytorch.about}`,
      );
    } catch (error) {
      pytorchSkipped = `pytorch_server.py did not start: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
    }
  } else {
    pytorchSkipped = torch.reason;
  }
  if (pytorchSkipped) console.log(`pytorch: skipped: ${pytorchSkipped}`);

  await warmUpAndCheck(bare, server, prepared, pytorch);
  // The script endpoint's model server is a process of the server's: its CPU is the endpoint's, not another process's.
  const modelServers = prepared.scriptEndpointName ? childPids(server.pid, 'inference_server.py') : [];
  if (prepared.scriptEndpointName) console.log(`script endpoint: model server process${modelServers.length === 1 ? '' : 'es'} ${modelServers.join(', ') || 'not found'}`);
  const pids = [process.pid, server.pid, ...modelServers, ...(pytorch ? [pytorch.pid] : [])];
  console.log(
    `runs: ${requests} requests per side at each concurrency (at most ${BUDGET_SECONDS} s per two sides), in rounds of one block of ${block} × concurrency requests per side, rotating which side goes first; rounds disturbed by other processes are run again`,
  );
  console.log();
  const results: Comparison[] = [];
  for (const concurrency of CONCURRENCIES) {
    const sides: Side[] = [bareSide(bare), endpointSide(server, prepared, prepared.endpointName, concurrency)];
    // PyTorch next to the one-instance endpoint where its p99 is reported, and the same model served by an inference script.
    if (concurrency === 1 && pytorch) sides.push(pytorchSide(pytorch, concurrency));
    if (concurrency === 1 && prepared.scriptEndpointName) sides.push({ ...endpointSide(server, prepared, prepared.scriptEndpointName, concurrency), name: 'script' });
    results.push(await measure(concurrency, sides, pids, { requests, block }));
  }

  // The bare pipeline at its best at c=8: every session layout opened once; the batch size is set
  // before each of its blocks.
  const layouts: Omit<BareConfig, 'batchSize'>[] = [
    { sessions: 1, threadsPerSession: cores, spinning: false },
    { sessions: 1, threadsPerSession: cores, spinning: true },
    { sessions: cores, threadsPerSession: 1, spinning: false },
  ];
  for (const layout of layouts) {
    const pool = await openBatchedBare({ modelPath: model.path, backbone: prepared.backbone, headModel: prepared.headModel, labels: prepared.labels, config: { ...layout, batchSize: 1 } });
    pools.push(pool);
    await checkAgainstBare(bare, pool, `bare ${describeBareConfig(pool.config)}`);
  }
  const searchSides = pools.flatMap((pool) => BATCH_SIZES.map((batchSize) => batchedBareSide(pool, batchSize)));
  console.log(
    `bare search at c=${HIGH_CONCURRENCY}: ${searchSides.length} configurations, ${searchRequests} requests each (at most ${SEARCH_BUDGET_SECONDS} s in all) in rounds of one block of ${SEARCH_BLOCK * HIGH_CONCURRENCY} per configuration`,
  );
  const search = await measure(HIGH_CONCURRENCY, searchSides, pids, { requests: searchRequests, block: SEARCH_BLOCK, budgetSeconds: SEARCH_BUDGET_SECONDS, quietLog: true });
  const ranked = [...searchSides].sort((a, b) => search.sides[b.name].rps - search.sides[a.name].rps);
  for (const side of ranked) {
    const r = search.sides[side.name];
    console.log(`  ${side.name.padEnd(58)} ${fmt(r.rps).padStart(6)} images/s, p50 ${fmt(r.p50Ms).padStart(6)} ms, p99 ${fmt(r.p99Ms).padStart(6)} ms`);
  }
  const best = ranked[0];
  console.log(`bare at its best: ${best.name}`);
  // Only the best one's sessions stay open for the comparison.
  const bestPool = pools[Math.floor(searchSides.indexOf(best) / BATCH_SIZES.length)];
  await Promise.all(pools.filter((pool) => pool !== bestPool).map((pool) => pool.close()));
  console.log();

  const high: Side[] = [
    { ...best, name: 'bare-best' },
    { ...endpointSide(server, prepared, prepared.scaledEndpointName, HIGH_CONCURRENCY), name: 'scaled' },
    ...(pytorch ? [pytorchSide(pytorch, HIGH_CONCURRENCY)] : []),
  ];
  const c8 = await measure(HIGH_CONCURRENCY, high, pids, { requests, block });
  report(results, c8, {
    best: best.name,
    scriptSkipped: prepared.scriptEndpointName ? undefined : pytorchSkipped,
    scaled: `${prepared.scaled.instances} instances × ${scaledThreads} thread${scaledThreads === 1 ? '' : 's'}, ${recorded ? `batching ${recorded.maxBatchSize} / ${recorded.maxDelayMs} ms` : 'no batching (not supported by this build)'}`,
    pytorchSkipped,
  });
} finally {
  for (const side of openClients) side.close();
  await Promise.all(pools.map((pool) => pool.close()));
  await bare?.close();
  await pytorch?.stop();
  await server?.stop();
  await rm(home, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------

/** Something the closed loop measures: a pipeline in this process or a server over HTTP. */
interface Side {
  name: string;
  /** Handles one request; `round` collects the side's extra figures. */
  send(jpeg: Uint8Array, round: RoundExtras): Promise<unknown>;
  /** Called before each of the side's blocks. */
  before?(): void;
  /** The process serving it, when not this one: its CPU is reported. */
  pid?: number;
  /** GET this while the side's blocks run at PING_CONCURRENCY. */
  pingUrl?: string;
}

interface RoundExtras {
  stages: StageTimes;
  signMs: number[];
  pingMs: number[];
}

interface SideResult extends Summary {
  /** CPU ms per request: the bench process and the server processes together. */
  cpuMsPerRequest: number;
  /** CPU ms per request of the side's own server process, when it has one. */
  serverCpuMsPerRequest: number;
  /** Cores' worth of CPU that other processes on the machine used meanwhile. */
  othersCores: number;
}

interface Comparison {
  concurrency: number;
  sides: Record<string, SideResult>;
  /** a rps / b rps in each kept round. */
  roundRatios(a: string, b: string): number[];
  /** Too few quiet rounds: every round was used. */
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

interface Round {
  blocks: Record<string, MeasuredBlock>;
  extras: RoundExtras;
}

function bareSide(pipeline: BarePipeline): Side {
  return { name: 'bare', send: (jpeg, round) => pipeline.classify(jpeg, round.stages) };
}

function batchedBareSide(pool: BatchedBare, batchSize: number): Side {
  return { name: describeBareConfig({ ...pool.config, batchSize }), before: () => pool.setBatchSize(batchSize), send: (jpeg) => pool.classify(jpeg) };
}

function endpointSide(server: ServerProcess, prepared: PreparedHome, endpointName: string, connections: number): Side {
  const client = endpointClient({ url: server.url, endpointName, credentials: prepared.credentials, connections });
  openClients.push(client);
  return {
    name: 'endpoint',
    pid: server.pid,
    pingUrl: new URL('/ping', server.url).href,
    send: (jpeg, round) => invokeOk(client, jpeg, round.signMs),
  };
}

function pytorchSide(peer: PytorchServer, connections: number): Side {
  const client = plainClient(peer.url, connections);
  openClients.push(client);
  return { name: 'pytorch', pid: peer.pid, send: (jpeg) => invokePytorch(client, jpeg) };
}

async function warmUpAndCheck(bare: BarePipeline, server: ServerProcess, prepared: PreparedHome, peer: PytorchServer | undefined): Promise<void> {
  for (const endpointName of [prepared.endpointName, prepared.scaledEndpointName]) {
    const client = endpointClient({ url: server.url, endpointName, credentials: prepared.credentials, connections: HIGH_CONCURRENCY });
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
      await Promise.all(Array.from({ length: 16 }, (_, i) => invokeOk(client, jpegs[i])));
      console.log(
        `check: endpoint ${endpointName} and bare give the same top-5 classes for ${agree}/${jpegs.length} images (largest probability difference ${maxDifference.toExponential(1)}); warm-up done`,
      );
      if (agree !== jpegs.length) throw new Error(`endpoint ${endpointName} and the bare pipeline disagree: they are not computing the same thing`);
    } finally {
      client.close();
    }
  }
  if (prepared.scriptEndpointName) {
    const client = endpointClient({ url: server.url, endpointName: prepared.scriptEndpointName, credentials: prepared.credentials, connections: 1 });
    try {
      const first = JSON.parse(await invokeOk(client, jpegs[0])) as { predictions: Prediction[] };
      if (first.predictions.length !== Math.min(5, prepared.labels.length)) throw new Error(`the script endpoint gave ${first.predictions.length} predictions`);
      for (const jpeg of jpegs.slice(0, 8)) await invokeOk(client, jpeg);
      console.log('check: the script endpoint answers top-5 from PyTorch (random weights of its own); warm-up done');
    } finally {
      client.close();
    }
  }
  if (peer) {
    const client = plainClient(peer.url, HIGH_CONCURRENCY);
    try {
      const first = JSON.parse(await invokePytorch(client, jpegs[0])) as { predictions: Prediction[] };
      const expected = Math.min(5, prepared.labels.length);
      if (first.predictions.length !== expected) throw new Error(`pytorch_server.py gave ${first.predictions.length} predictions, not ${expected}`);
      await Promise.all(Array.from({ length: 16 }, (_, i) => invokePytorch(client, jpegs[i % jpegs.length])));
      console.log(`check: pytorch answers with top-${expected} (its weights are random and its own, so its classes differ); warm-up done`);
    } finally {
      client.close();
    }
  }
}

/** The batched pipeline must compute what the batch-1 pipeline does, batch size aside. */
async function checkAgainstBare(bare: BarePipeline, pool: BatchedBare, name: string): Promise<void> {
  pool.setBatchSize(8);
  const [fromBare, fromPool] = await Promise.all([
    Promise.all(jpegs.slice(0, 8).map((jpeg) => bare.classify(jpeg))),
    Promise.all(jpegs.slice(0, 8).map((jpeg) => pool.classify(jpeg))),
  ]);
  const agree = fromBare.filter((predictions, i) => predictions.every((prediction, j) => prediction.index === fromPool[i][j]?.index)).length;
  if (agree !== fromBare.length) throw new Error(`${name} disagrees with the batch-1 bare pipeline on ${fromBare.length - agree} of ${fromBare.length} images`);
  await Promise.all(jpegs.slice(0, 16).map((jpeg) => pool.classify(jpeg)));
}

/**
 * Rounds of blocks (one block per side, the side going first rotating) until `requests` requests
 * per side were measured in quiet rounds. Before each round the bench waits for other processes
 * to leave the machine alone; a round during which they used more than NOISY_CORES anyway is run
 * again. If the time budget runs out first, every round is used and the result is marked noisy.
 */
async function measure(
  concurrency: number,
  sides: Side[],
  pids: number[],
  options: { requests: number; block: number; budgetSeconds?: number; quietLog?: boolean },
): Promise<Comparison> {
  const budgetSeconds = options.budgetSeconds ?? (BUDGET_SECONDS * Math.max(2, sides.length)) / 2;
  const deadline = performance.now() + budgetSeconds * 1000;
  const remainingSeconds = () => Math.max(0, (deadline - performance.now()) / 1000);
  const runBlock = async (side: Side, extras: RoundExtras, count: number): Promise<MeasuredBlock> => {
    side.before?.();
    const serverBefore = side.pid === undefined ? 0 : (processCpuMs(side.pid) ?? NaN);
    const cpu = cpuWindow(pids);
    const running = closedLoop(concurrency, count, Math.max(1, remainingSeconds()), async (i) => {
      await side.send(jpegs[i % jpegs.length], extras);
    });
    // Only where it is reported: the probes cost the server a little, which would show at c=1.
    if (side.pingUrl && concurrency === PING_CONCURRENCY) extras.pingMs.push(...(await probeWhile(side.pingUrl, PING_EVERY_MS, running)));
    const result = await running;
    const window = cpu();
    const serverMs = side.pid === undefined ? 0 : (processCpuMs(side.pid) ?? NaN) - serverBefore;
    return { ...result, ...window, serverMs };
  };
  const quiet = (b: MeasuredBlock) => b.othersMs / (b.seconds * 1000) <= NOISY_CORES;
  const rounds: Round[] = [];
  const isQuiet = (round: Round) => Object.values(round.blocks).every(quiet);
  const kept = () => rounds.filter(isQuiet);
  const keptRequests = () => kept().reduce((sum, round) => sum + round.blocks[sides[0].name].latenciesMs.length, 0);
  // One request per connection first, so the blocks start with their sockets open.
  for (const side of sides) {
    side.before?.();
    await Promise.all(Array.from({ length: concurrency }, (_, i) => side.send(jpegs[i], { stages: emptyStages(), signMs: [], pingMs: [] })));
  }
  while (keptRequests() < options.requests && remainingSeconds() > 0) {
    await waitForQuiet(pids, NOISY_CORES, Math.min(QUIET_WAIT_SECONDS, remainingSeconds()) * 1000);
    const count = Math.min(options.block * concurrency, options.requests - keptRequests());
    const extras: RoundExtras = { stages: emptyStages(), signMs: [], pingMs: [] };
    const blocks: Record<string, MeasuredBlock> = {};
    const first = rounds.length % sides.length;
    for (let k = 0; k < sides.length; k++) {
      const side = sides[(first + k) % sides.length];
      blocks[side.name] = await runBlock(side, extras, count);
    }
    rounds.push({ blocks, extras });
  }
  const noisy = keptRequests() < options.requests / 2;
  const used = noisy ? rounds : kept();
  const result: Comparison = {
    concurrency,
    sides: {},
    roundRatios: (a, b) => used.map((round) => rps(round.blocks[a]) / rps(round.blocks[b])),
    noisy,
    stages: {
      preprocessMs: used.flatMap((round) => round.extras.stages.preprocessMs),
      backboneMs: used.flatMap((round) => round.extras.stages.backboneMs),
      headMs: used.flatMap((round) => round.extras.stages.headMs),
    },
    signMs: used.flatMap((round) => round.extras.signMs),
    pingMs: used.flatMap((round) => round.extras.pingMs),
  };
  for (const side of sides) {
    const blocks = used.map((round) => round.blocks[side.name]);
    const summary = summarise(blocks);
    const total = (key: 'ownMs' | 'othersMs' | 'serverMs') => blocks.reduce((sum, b) => sum + b[key], 0);
    result.sides[side.name] = {
      ...summary,
      cpuMsPerRequest: total('ownMs') / summary.requests,
      serverCpuMsPerRequest: side.pid === undefined ? NaN : total('serverMs') / summary.requests,
      othersCores: total('othersMs') / (summary.seconds * 1000),
    };
  }
  const dropped = rounds.length - kept().length;
  console.log(
    `c=${concurrency}: ${rounds.length} rounds${dropped > 0 ? `, ${dropped} dropped (other processes used over ${NOISY_CORES} cores)` : ''}${noisy ? '; too few quiet rounds in the time budget: ALL rounds used, figures noisy' : ''}`,
  );
  if (!options.quietLog) {
    for (const side of sides) {
      const r = result.sides[side.name];
      console.log(
        `  ${side.name.padEnd(9)} ${r.requests} requests, ${fmt(r.seconds)} s: ${fmt(r.rps)} req/s, p50 ${fmt(r.p50Ms)} ms, p99 ${fmt(r.p99Ms)} ms; other processes ${fmt(r.othersCores)} cores`,
      );
    }
  }
  return result;
}

function report(results: Comparison[], c8: Comparison, names: { best: string; scaled: string; pytorchSkipped: string | undefined; scriptSkipped: string | undefined }): void {
  console.log();
  console.log('Latency is measured by the caller; for the endpoint it includes SigV4 signing and the HTTP round trip.');
  console.log('side       c    req/s   p50 ms   p99 ms  mean ms  CPU ms/req  others  over bare (median of rounds)');
  const line = (name: string, r: Comparison, over = 'bare') => {
    const side = r.sides[name];
    const ratio = name === over ? '' : `  ${fmt(side.rps / r.sides[over].rps, 3)} (${fmt(median(r.roundRatios(name, over)), 3)})`;
    console.log(`${name.padEnd(9)}  ${r.concurrency}  ${row(side)}${ratio}`);
  };
  for (const r of results) for (const name of Object.keys(r.sides)) line(name, r);
  for (const name of Object.keys(c8.sides)) line(name, c8, 'bare-best');
  console.log('CPU ms/req: bench and server processes together; others: cores other processes on the machine used meanwhile');
  const noisy = [...results, c8].filter((r) => r.noisy).map((r) => `c=${r.concurrency}`);
  if (noisy.length > 0) {
    console.log(`warning: other processes kept the machine busy at ${noisy.join(', ')}: those absolute figures are low and noisy; the ratios, measured side by side, less so`);
  }

  const [c1, c2, c4] = results;
  if (c4.concurrency !== PING_CONCURRENCY) throw new Error('the /ping probes run at another concurrency than reported');
  const { preprocessMs, backboneMs, headMs } = c1.stages;
  const [b1, e1] = [c1.sides.bare, c1.sides.endpoint];
  console.log();
  console.log(
    `bare c=1 stages, p50 / mean ms: preprocess (sharp) ${fmt(percentile(preprocessMs, 50))} / ${fmt(mean(preprocessMs))}, backbone ${fmt(percentile(backboneMs, 50))} / ${fmt(mean(backboneMs))}, head + top-5 ${fmt(percentile(headMs, 50), 3)} / ${fmt(mean(headMs), 3)}`,
  );
  console.log(
    `endpoint c=1 over bare: ${fmt(e1.p50Ms - b1.p50Ms)} ms at p50, ${fmt(e1.meanMs - b1.meanMs)} ms mean; ${fmt(e1.cpuMsPerRequest - b1.cpuMsPerRequest)} CPU ms per request (server process ${fmt(e1.serverCpuMsPerRequest, 1)}, client SigV4 signing ${fmt(mean(c1.signMs), 3)} ms)`,
  );
  console.log(
    `/ping while the endpoint serves at c=4, one probe every ${PING_EVERY_MS} ms: ${c4.pingMs.length} probes, p50 ${fmt(percentile(c4.pingMs, 50))} ms, p99 ${fmt(percentile(c4.pingMs, 99))} ms, max ${fmt(Math.max(...c4.pingMs))} ms`,
  );
  const [best, scaled, torch] = [c8.sides['bare-best'], c8.sides.scaled, c8.sides.pytorch];
  console.log(`c=${HIGH_CONCURRENCY}: bare at its best (${names.best}) ${fmt(best.rps)} images/s, p50 ${fmt(best.p50Ms)} ms, p99 ${fmt(best.p99Ms)} ms`);
  console.log(
    `c=${HIGH_CONCURRENCY}: scaled endpoint (${names.scaled}) ${fmt(scaled.rps)} req/s, p50 ${fmt(scaled.p50Ms)} ms, p99 ${fmt(scaled.p99Ms)} ms; ${fmt(scaled.rps / best.rps, 3)} of bare at its best (median of rounds ${fmt(median(c8.roundRatios('scaled', 'bare-best')), 3)})`,
  );
  let vsPytorch = 'skipped';
  if (torch) {
    const t1 = c1.sides.pytorch;
    vsPytorch = fmt(scaled.rps / torch.rps, 3);
    console.log(
      `c=${HIGH_CONCURRENCY}: pytorch ${fmt(torch.rps)} req/s, p50 ${fmt(torch.p50Ms)} ms, p99 ${fmt(torch.p99Ms)} ms; scaled endpoint over pytorch ${vsPytorch} (median of rounds ${fmt(median(c8.roundRatios('scaled', 'pytorch')), 3)}), p99 ${fmt(scaled.p99Ms)} ms against ${fmt(torch.p99Ms)} ms`,
    );
    console.log(
      `c=1: pytorch ${fmt(t1.rps)} req/s, p50 ${fmt(t1.p50Ms)} ms, p99 ${fmt(t1.p99Ms)} ms; one-instance endpoint ${fmt(e1.rps)} req/s, p99 ${fmt(e1.p99Ms)} ms (${fmt(e1.rps / t1.rps, 3)}× pytorch's req/s)`,
    );
  } else {
    vsPytorch = `skipped`;
    console.log(`pytorch: skipped: ${names.pytorchSkipped ?? 'not measured'}`);
  }
  const script = c1.sides.script;
  const scriptVsOnnx = script ? fmt(script.rps / e1.rps, 3) : 'skipped';
  if (script) {
    console.log(
      `c=1: the same-shaped model in PyTorch behind an inference script (kennel/python, one instance) ${fmt(script.rps)} req/s, p50 ${fmt(script.p50Ms)} ms, p99 ${fmt(script.p99Ms)} ms; ` +
        `over the ONNX one-instance endpoint ${scriptVsOnnx} (median of rounds ${fmt(median(c1.roundRatios('script', 'endpoint')), 3)})`,
    );
  } else {
    console.log(`script: skipped: ${names.scriptSkipped ?? 'not measured'}`);
  }
  console.log(
    `endpoint: vs_bare=${fmt(e1.rps / b1.rps, 3)} rps=${fmt(e1.rps)} p50_ms=${fmt(e1.p50Ms)} p99_ms=${fmt(e1.p99Ms)} bare_rps=${fmt(b1.rps)} bare_p50_ms=${fmt(b1.p50Ms)} rps_c2=${fmt(c2.sides.endpoint.rps)} rps_c4=${fmt(c4.sides.endpoint.rps)} ping_p99_ms_under_load=${fmt(percentile(c4.pingMs, 99))} batched_vs_bare=${fmt(scaled.rps / best.rps, 3)} vs_pytorch=${vsPytorch} script_vs_onnx=${scriptVsOnnx}`,
  );
}

// ---------------------------------------------------------------------------

function emptyStages(): StageTimes {
  return { preprocessMs: [], backboneMs: [], headMs: [] };
}

function rps(b: Block): number {
  return b.latenciesMs.length / b.seconds;
}

async function invokeOk(client: EndpointClient, jpeg: Uint8Array, signMs?: number[]): Promise<string> {
  const result = await client.invoke(jpeg);
  if (result.status !== 200) throw new Error(`InvokeEndpoint answered ${result.status}: ${result.body.slice(0, 500)}`);
  signMs?.push(result.signMs);
  return result.body;
}

async function invokePytorch(client: PlainClient, jpeg: Uint8Array): Promise<string> {
  const result = await client.invoke(jpeg);
  if (result.status !== 200) throw new Error(`pytorch_server.py answered ${result.status}: ${result.body.slice(0, 500)}`);
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
