/**
 * Where a warm Invoke's and a cold start's time goes: each step of Kennel's path timed on its
 * own, in this process, as distributions, and the floors this machine sets (a round trip to
 * another process, starting the interpreters). The steps overlap nothing and are not summed:
 * the report subtracts them from the end-to-end figures to find what is left.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { PERMISSIONS } from '../../src/api/authorization/permissions.ts';
import { DEFAULT_REGION } from '../../src/domain/iam/arn.ts';
import { verifySigV4, type SigV4Request } from '../../src/domain/iam/sigv4.ts';
import { ExecutionEnvironment } from '../../src/runtime/functions/execution-environment.ts';
import { planLaunch } from '../../src/runtime/functions/sandbox.ts';
import type { EnvironmentSpec } from '../../src/runtime/functions/types.ts';
import type { BenchKennel } from './kennel.ts';
import { NODE_HANDLER, WARM_FUNCTION } from './kennel.ts';
import { timeCalls } from './stats.ts';

export interface StepTimes {
  /** The minimal client's SigV4 signature of one Invoke. */
  sign: number[];
  /** GET /ping through Kennel's HTTP stack (Hono on @hono/node-server, request id, audit middleware), no signature. */
  kennelPing: number[];
  /** The same GET against the peer: node:http alone. */
  peerGet: number[];
  /** verifySigV4 on an Invoke as the client signed it, with Kennel's credential lookup. */
  sigv4: number[];
  /** What authorizeCall does for lambda.Invoke: the permission rule's checks (the function's record read for its policy and tags) and the authorizer. */
  authorize: number[];
  /** One audit event written to the SQLite trail, as the audit middleware writes one per request. */
  audit: number[];
  /** platform.invoker.invoke in process, no HTTP: resolving, admission, the pool, metrics, and the environment below. */
  invoker: number[];
  /** A bare ExecutionEnvironment of the same handler, invoked directly: the Runtime API hop, the bootstrap, the environment's bookkeeping. */
  environment: number[];
  /** What the bare environment's REPORT lines say: from the event leaving Kennel to the answer arriving. */
  environmentReported: number[];
  /** A round trip of 256 bytes to a child process over loopback TCP that echoes them: the floor of any hop to another process. */
  processHop: number[];
  /** Which isolation the bare environment ran under. */
  isolation: readonly string[];
}

const INVOKE_PATH = `/2015-03-31/functions/${WARM_FUNCTION}/invocations`;

export async function measureWarmSteps(kennel: BenchKennel, peerUrl: string, dir: string, count: number, warmup: number): Promise<StepTimes> {
  const { platform } = kennel.test.kennel;
  const credentials = kennel.test.credentials;
  const signer = new SignatureV4({ service: 'lambda', region: DEFAULT_REGION, credentials, sha256: Hash.bind(null, 'sha256') });
  const body = new TextEncoder().encode('{}');
  const host = new URL(kennel.test.url).host;
  const sign = (signingDate?: Date) =>
    signer.sign({ method: 'POST', protocol: 'http:', hostname: '127.0.0.1', port: Number(host.split(':')[1]), path: INVOKE_PATH, query: {}, headers: { host, 'content-type': 'application/json' }, body }, signingDate ? { signingDate } : {});

  const signTimes = await timeCalls(count, warmup, () => sign());
  const kennelPing = await timeGets(`${kennel.test.url}/ping`, count, warmup);
  const peerGet = await timeGets(`${peerUrl}/ping`, count, warmup);

  // Signed beforehand, a millisecond apart, each verified at its own signing time.
  const firstAtMs = Date.now();
  const signed: { request: SigV4Request; atMs: number }[] = [];
  for (let i = 0; i < warmup + count; i++) {
    const atMs = firstAtMs + i;
    const request = await sign(new Date(atMs));
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
    signed.push({ request: { method: 'POST', path: INVOKE_PATH, query: '', headers, body }, atMs });
  }
  let next = 0;
  const sigv4 = await timeCalls(count, warmup, () => {
    const { request, atMs } = signed[next++]!;
    verifySigV4(request, platform.credentials.lookup, atMs, { expectedService: 'lambda', expectedRegion: DEFAULT_REGION });
  });

  const rule = PERMISSIONS['lambda.Invoke']!;
  const caller = platform.credentials.caller(credentials.accessKeyId);
  if (!caller) throw new Error('the admin key is unknown to Kennel');
  const input = { FunctionName: WARM_FUNCTION };
  const authorize = await timeCalls(count, warmup, () => {
    const checks = rule.checks(input, { platform, caller });
    const result = platform.authorizer.authorize(caller, checks, { nowMs: Date.now(), sourceIp: '127.0.0.1', secureTransport: false, region: DEFAULT_REGION, requestTags: [] });
    if (result.decision !== 'Allow') throw new Error(`the admin was refused lambda:InvokeFunction: ${result.decision}`);
  });

  // The trail's latest Invoke, written again with new ids: the row the middleware writes for a call.
  const [invokeEvent] = platform.audit.query({ action: 'lambda:InvokeFunction', limit: 1 });
  if (!invokeEvent) throw new Error('the audit trail has no InvokeFunction event to copy');
  const { eventId: _eventId, ...event } = invokeEvent;
  const audit = await timeCalls(count, warmup, () => platform.audit.record({ ...event, timeMs: Date.now(), requestId: randomUUID() }));

  const invoker = await timeCalls(count, warmup, async () => {
    const result = await platform.invoker.invoke(WARM_FUNCTION, undefined, { payload: Buffer.from('{}'), tailLogs: false });
    if (result.functionError !== undefined) throw new Error(`the in-process invoke failed: ${result.payload.toString('utf8')}`);
  });

  const bare = await bareEnvironment(dir, count, warmup);
  const processHop = await processRoundTrips(count, warmup);
  return { sign: signTimes, kennelPing, peerGet, sigv4, authorize, audit, invoker, ...bare, processHop };
}

/** GETs on one kept-alive connection, through node:http as the minimal client sends its calls. */
async function timeGets(url: string, count: number, warmup: number): Promise<number[]> {
  const target = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1, timeout: 4000 });
  const get = () =>
    new Promise<void>((resolve, reject) => {
      const request = http.request({ agent, hostname: target.hostname, port: target.port, path: target.pathname, method: 'GET' }, (response) => {
        response.resume();
        response.on('end', () => (response.statusCode === 200 ? resolve() : reject(new Error(`GET ${url} answered ${response.statusCode}`))));
      });
      request.on('error', reject);
      request.end();
    });
  try {
    return await timeCalls(count, warmup, get);
  } finally {
    agent.destroy();
  }
}

/** The handler in an environment of its own, started as Kennel starts them (Landlock where there is one), invoked back to back. */
async function bareEnvironment(dir: string, count: number, warmup: number): Promise<Pick<StepTimes, 'environment' | 'environmentReported' | 'isolation'>> {
  const codeDir = join(dir, 'bare', 'code');
  const tmpDir = join(dir, 'bare', 'tmp');
  await mkdir(codeDir, { recursive: true });
  await mkdir(tmpDir, { recursive: true });
  await writeFile(join(codeDir, NODE_HANDLER.file), NODE_HANDLER.source);
  const start = await ExecutionEnvironment.start(bareSpec(codeDir, tmpDir));
  if (!start.ok) throw new Error(`the bare environment did not start: ${start.errorType}: ${start.errorMessage}\n${start.logs}`);
  const environment = start.environment;
  try {
    const reported: number[] = [];
    const payload = Buffer.from('{}');
    let timed = -warmup;
    const times = await timeCalls(count, warmup, async () => {
      const outcome = await environment.invoke({ requestId: randomUUID(), payload, invokedFunctionArn: `arn:aws:lambda:${DEFAULT_REGION}:000000000000:function:bench-bare` });
      if (outcome.functionError !== undefined) throw new Error(`the bare environment failed: ${outcome.payload.toString('utf8')}`);
      if (timed++ >= 0) reported.push(outcome.durationMs);
    });
    return { environment: times, environmentReported: reported, isolation: environment.isolation };
  } finally {
    await environment.close();
  }
}

function bareSpec(codeDir: string, tmpDir: string): EnvironmentSpec {
  return {
    runtime: 'nodejs20.x',
    handler: NODE_HANDLER.handler,
    codeDir,
    tmpDir,
    memorySizeMb: 128,
    timeoutSeconds: 3,
    environment: {},
    functionName: 'bench-bare',
    functionVersion: '$LATEST',
    region: DEFAULT_REGION,
    logGroupName: '/aws/lambda/bench-bare',
    logStreamName: 'bench/[$LATEST]bare',
  };
}

/** The child echoes what it reads; the bench times 256 bytes out and back, one round trip at a time. */
const ECHO_CHILD = "const s = require('node:net').connect(Number(process.argv[1]), '127.0.0.1'); s.setNoDelay(true); s.on('data', (d) => s.write(d));";
const HOP_BYTES = 256;

async function processRoundTrips(count: number, warmup: number): Promise<number[]> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const child = spawn(process.execPath, ['-e', ECHO_CHILD, String((server.address() as net.AddressInfo).port)], { stdio: 'ignore' });
  try {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      server.once('connection', resolve);
      child.once('exit', (code) => reject(new Error(`the echo process exited (${code})`)));
    });
    socket.setNoDelay(true);
    const message = Buffer.alloc(HOP_BYTES, 'x');
    let received = 0;
    let done: (() => void) | undefined;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= HOP_BYTES) {
        received -= HOP_BYTES;
        done?.();
      }
    });
    return await timeCalls(count, warmup, () => new Promise<void>((resolve) => {
      done = resolve;
      socket.write(message);
    }));
  } finally {
    child.kill('SIGKILL');
    server.close();
  }
}

export interface InterpreterStart {
  label: string;
  times: number[];
  /** Set for the start of a runtime as Kennel launches it, with nothing in place of the bootstrap. */
  launched?: 'nodejs' | 'python';
}

/**
 * From spawn to exit: the floor under a cold start's Init Duration. The interpreters bare, with
 * an empty environment as functions get one, then launched as Kennel launches a function
 * (sandbox.ts planLaunch: the Landlock launcher where there is Landlock, Node.js's permission
 * flags), with nothing to run in place of the bootstrap.
 */
export async function interpreterStarts(dir: string, python: string | undefined, pythonRuntime: string | undefined, count: number): Promise<InterpreterStart[]> {
  const launched = async (runtime: string, bootstrap: string, nothing: string[]) => {
    const codeDir = join(dir, 'bare', 'code');
    const tmpDir = join(dir, 'bare', 'tmp');
    await mkdir(codeDir, { recursive: true });
    await mkdir(tmpDir, { recursive: true });
    const launch = await planLaunch({
      spec: { ...bareSpec(codeDir, tmpDir), runtime },
      runtimeApi: '127.0.0.1:9',
      marker: 'bench',
      resolveHook: false,
      useLandlock: true,
      initializationType: 'on-demand',
    });
    const at = launch.args.findIndex((arg) => arg.endsWith(bootstrap));
    if (at === -1) throw new Error(`no ${bootstrap} in the launch of ${runtime}`);
    return { file: launch.file, args: [...launch.args.slice(0, at), ...nothing], env: launch.env, stdin: launch.stdin, isolation: launch.isolation };
  };
  const node = await launched('nodejs20.x', 'bootstrap.mjs', ['-e', '']);
  const commands: { label: string; file: string; args: string[]; env?: Record<string, string>; stdin?: string; launched?: 'nodejs' | 'python' }[] = [
    { label: `node -e ''`, file: process.execPath, args: ['-e', ''] },
    { label: `Node.js as Kennel launches it (${node.isolation.join(', ')}), -e '' for the bootstrap`, ...node, launched: 'nodejs' },
  ];
  if (python !== undefined && pythonRuntime !== undefined) {
    const py = await launched(pythonRuntime, 'bootstrap.py', ['-c', '']);
    commands.push(
      { label: `${python} -I -S -c '' (the Landlock launcher's interpreter)`, file: python, args: ['-I', '-S', '-c', ''] },
      { label: `${python} -B -c ''`, file: python, args: ['-B', '-c', ''] },
      { label: `Python as Kennel launches it (${py.isolation.join(', ') || 'no Landlock'}), -c '' for the bootstrap`, ...py, launched: 'python' },
    );
  }
  // In rounds, one start of each per round, so that drift on the machine falls on all alike.
  const results: InterpreterStart[] = commands.map((command) => ({ label: command.label, times: [], ...(command.launched ? { launched: command.launched } : {}) }));
  for (let i = 0; i < count; i++) {
    for (const [index, command] of commands.entries()) {
      const started = performance.now();
      await new Promise<void>((resolve, reject) => {
        const child = spawn(command.file, command.args, { env: command.env ?? {}, stdio: [command.stdin === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
        let errors = '';
        child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
        child.stdin?.end(command.stdin);
        child.once('error', reject);
        child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command.label} exited with ${code}: ${errors.trim()}`))));
      });
      results[index]!.times.push(performance.now() - started);
    }
  }
  return results;
}
