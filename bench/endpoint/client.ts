/**
 * The endpoint side: a Kennel server in a child process (so the load generator does not share its
 * event loop or its V8 heap), and a client that sends SigV4-signed InvokeEndpoint requests over
 * HTTP/1.1 keep-alive, as an AWS SDK would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { join } from 'node:path';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';

export interface ServerProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** `node bin/kennel.js up --port 0` on `home`; resolves once it listens (its endpoints are loaded by then). */
export function startServerProcess(
  root: string,
  home: string,
  options: { threads: number; nodeOptions?: string[]; timeoutMs?: number; upArgs?: string[] },
): Promise<ServerProcess> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const args = [
    ...(options.nodeOptions ?? []),
    join(root, 'bin', 'kennel.js'),
    'up',
    '--port',
    '0',
    '--threads',
    String(options.threads),
    '--log-level',
    'warn',
    ...(options.upArgs ?? []),
  ];
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, KENNEL_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  // Should the bench exit without calling stop() (an uncaught error, a signal), the server goes too.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    await stopChild(child);
    process.removeListener('exit', killOnExit);
  };
  return new Promise((resolve, reject) => {
    const fail = (reason: string) => {
      clearTimeout(timer);
      void stop();
      reject(new Error(`kennel up: ${reason}\n${output.trim()}`));
    };
    const timer = setTimeout(() => fail(`not listening after ${timeoutMs / 1000} s`), timeoutMs);
    child.once('exit', (code, signal) => fail(`exited (${signal ?? code}) before listening`));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Kennel listening on (http:\/\/\S+)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.stdout!.removeAllListeners('data');
      child.stdout!.resume();
      resolve({ url: match[1], pid: child.pid!, stop });
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export interface InvokeResult {
  status: number;
  body: string;
  /** Time spent computing the SigV4 signature for this request. */
  signMs: number;
}

export interface EndpointClient {
  invoke(jpeg: Uint8Array): Promise<InvokeResult>;
  /** Closes the kept-alive connections. */
  close(): void;
}

/** At most `connections` sockets, kept alive between requests. */
export function endpointClient(options: {
  url: string;
  endpointName: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  connections: number;
}): EndpointClient {
  const target = new URL(`/endpoints/${encodeURIComponent(options.endpointName)}/invocations`, options.url);
  if (target.hostname !== '127.0.0.1') throw new Error(`the bench only talks to 127.0.0.1, not ${target.hostname}`);
  // Idle sockets are dropped after 4 s, before the server's 5 s keep-alive timeout can close one
  // under a request being sent on it.
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections, timeout: 4000 });
  const signer = new SignatureV4({
    service: 'sagemaker',
    region: 'us-east-1',
    credentials: options.credentials,
    sha256: Hash.bind(null, 'sha256'),
  });
  return {
    async invoke(jpeg) {
      const signStart = performance.now();
      const signed = await signer.sign({
        method: 'POST',
        protocol: 'http:',
        hostname: target.hostname,
        port: Number(target.port),
        path: target.pathname,
        query: {},
        headers: { host: target.host, 'content-type': 'image/jpeg', accept: 'application/json' },
        body: jpeg,
      });
      const signMs = performance.now() - signStart;
      const headers = { ...(signed.headers as Record<string, string>), 'content-length': String(jpeg.byteLength) };
      return new Promise<InvokeResult>((resolve, reject) => {
        const request = http.request(
          { agent, hostname: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers },
          (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), signMs }));
            response.on('error', reject);
          },
        );
        request.on('error', reject);
        request.end(jpeg);
      });
    },
    close() {
      agent.destroy();
    },
  };
}
