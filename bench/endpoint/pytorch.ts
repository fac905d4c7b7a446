/**
 * The PyTorch peer: pytorch_server.py (a minimal ThreadingHTTPServer around torchvision's
 * ResNet50 and a head of Kennel's shape) run by Debian's python3-torch in a child process, and a
 * plain keep-alive client for its POST /invocations. It is always killed when the bench ends:
 * by stop(), and by an exit hook should the bench die before calling it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { join } from 'node:path';
import { TUNED_MALLOC } from '../head-trainer/compare.ts';

export const PYTHON = '/usr/bin/python3';

export interface PytorchServer {
  url: string;
  pid: number;
  /** What the server said about itself: torch version, threads, the BLAS it loaded. */
  about: string;
  stop(): Promise<void>;
}

/** Whether PYTHON can import torch, torchvision and PIL; the reason when it cannot. */
export function pytorchAvailable(): { ok: true } | { ok: false; reason: string } {
  const result = spawnSync(PYTHON, ['-c', 'import torch, torchvision, PIL'], { encoding: 'utf8', timeout: 60_000 });
  if (result.status === 0) return { ok: true };
  const why = (result.stderr || result.error?.message || `exit status ${result.status}`).trim().split('\n').at(-1);
  return { ok: false, reason: `${PYTHON} cannot import torch, torchvision and PIL (${why}); apt-get install python3-torch python3-torchvision libopenblas0-openmp` };
}

/**
 * Starts the server on a free port of 127.0.0.1 and resolves once it has loaded and warmed up
 * the model. glibc's allocator is tuned as DESIGN §6 asks for PyTorch peers.
 */
export function startPytorchServer(root: string, options: { threads: number; classes: number; timeoutMs?: number }): Promise<PytorchServer> {
  const timeoutMs = options.timeoutMs ?? 180_000;
  const script = join(root, 'bench', 'endpoint', 'pytorch_server.py');
  const child = spawn(PYTHON, ['-u', script, '--port', '0', '--threads', String(options.threads), '--classes', String(options.classes)], {
    cwd: root,
    env: { ...process.env, ...TUNED_MALLOC, OMP_NUM_THREADS: String(options.threads) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    await stopChild(child);
    process.removeListener('exit', killOnExit);
  };
  let output = '';
  return new Promise((resolve, reject) => {
    const fail = (reason: string) => {
      clearTimeout(timer);
      void stop();
      reject(new Error(`pytorch_server.py: ${reason}\n${output.trim().split('\n').slice(-15).join('\n')}`));
    };
    const timer = setTimeout(() => fail(`not listening after ${timeoutMs / 1000} s`), timeoutMs);
    child.once('error', (error) => fail(error.message));
    child.once('exit', (code, signal) => fail(`exited (${signal ?? code}) before listening`));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.removeAllListeners('error');
      child.stdout!.removeAllListeners('data');
      child.stdout!.resume();
      child.stderr!.resume();
      const about = output.split('\n').find((line) => line.startsWith('torch=')) ?? '';
      resolve({ url: match[1], pid: child.pid!, about, stop });
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export interface PlainClient {
  invoke(jpeg: Uint8Array): Promise<{ status: number; body: string }>;
  close(): void;
}

/** POST the JPEG to `url` + /invocations over at most `connections` kept-alive sockets; no signing. */
export function plainClient(url: string, connections: number): PlainClient {
  const target = new URL('/invocations', url);
  if (target.hostname !== '127.0.0.1') throw new Error(`the bench only talks to 127.0.0.1, not ${target.hostname}`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections, timeout: 4000 });
  return {
    invoke(jpeg) {
      return new Promise((resolve, reject) => {
        const request = http.request(
          {
            agent,
            hostname: target.hostname,
            port: target.port,
            path: target.pathname,
            method: 'POST',
            headers: { 'content-type': 'image/jpeg', accept: 'application/json', 'content-length': String(jpeg.byteLength) },
          },
          (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
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
