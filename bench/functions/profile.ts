/**
 * Where this process's main thread spends a warm call, in place: a V8 CPU profile over a run of
 * calls, each sample given to the innermost frame that belongs to a known part of the path
 * (frames of no part, such as Node's internals or the store, count for the part that called
 * them). The sampler records wall time on the thread: time blocked in a system call counts for
 * the code that made it, and time waiting for another process is `(idle)`.
 */
import { Session } from 'node:inspector/promises';
import { writeFile } from 'node:fs/promises';

/** Innermost first wins, so the order only matters for a frame that two patterns would match. */
const AREAS: readonly { name: string; url: RegExp }[] = [
  { name: 'client: SigV4 signing (@smithy)', url: /node_modules\/@smithy\// },
  { name: 'client: node:http request and response', url: /bench\/functions\/client\.ts/ },
  { name: 'peer: node:http handler and the handler', url: /bench\/functions\/peer\.ts|\/noop\.mjs$/ },
  { name: 'HTTP adapter (@hono/node-server)', url: /node_modules\/@hono\/node-server\// },
  { name: 'Hono routing and middleware chain', url: /node_modules\/hono\// },
  { name: 'request id and payload limit middlewares', url: /src\/api\/middleware\/(request-id|payload-limit)\// },
  { name: 'SigV4 verification', url: /src\/api\/middleware\/sigv4\/|src\/domain\/iam\/sigv4\.ts|src\/control\/credentials\.ts/ },
  { name: 'authorisation', url: /src\/api\/middleware\/authorize\/|src\/api\/authorization\/|src\/control\/authorizer\.ts|src\/control\/iam-cache\.ts|src\/domain\/iam\/(?!sigv4)/ },
  { name: 'audit trail', url: /src\/api\/middleware\/audit\/|src\/control\/audit\.ts/ },
  { name: 'REST-JSON protocol and the Invoke operation', url: /src\/api\/aws\/|src\/api\/lambda\/|src\/api\/server\.ts/ },
  { name: 'memory watch (/proc reads and writes)', url: /src\/runtime\/functions\/memory-watch\.ts/ },
  { name: 'Runtime API (node:http to the runtime process)', url: /src\/runtime\/functions\/runtime-api\.ts/ },
  { name: 'execution environment and its log', url: /src\/runtime\/functions\/(execution-environment|invocation-log|log-tail)\.ts/ },
  { name: 'control plane: invoker, functions, pool, concurrency, metrics', url: /src\/control\/(function-|functions\.ts)|src\/domain\/functions\// },
];
const IDLE = '(idle): waiting, for the function’s process above all';
const GC = 'garbage collection';
const UNATTRIBUTED = 'Node.js and V8 internals, not attributed';
/** Fine enough for parts of a few microseconds over a thousand calls, coarse enough not to double a call's time. */
const SAMPLING_INTERVAL_US = 100;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface AreaTimes {
  /** Main-thread ms per call, by area. */
  perCallMs: Map<string, number>;
  totalPerCallMs: number;
}

/** `count` calls of `call` under the profiler; the raw profile is written to `file` when given. */
export async function profileCalls(count: number, call: () => Promise<unknown>, file?: string): Promise<AreaTimes> {
  const session = new Session();
  session.connect();
  let profile: CpuProfile;
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });
    await session.post('Profiler.start');
    for (let i = 0; i < count; i++) await call();
    profile = (await session.post('Profiler.stop')).profile as unknown as CpuProfile;
  } finally {
    session.disconnect();
  }
  if (file !== undefined) await writeFile(file, JSON.stringify(profile));
  return attribute(profile, count);
}

function attribute(profile: CpuProfile, calls: number): AreaTimes {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const areaOf = new Map<number, string>();
  const area = (id: number): string => {
    const known = areaOf.get(id);
    if (known !== undefined) return known;
    const { functionName, url } = byId.get(id)!.callFrame;
    let found: string;
    if (functionName === '(idle)') found = IDLE;
    else if (functionName === '(garbage collector)') found = GC;
    else {
      const matched = AREAS.find((candidate) => candidate.url.test(url));
      const parent = parentOf.get(id);
      found = matched?.name ?? (parent === undefined ? UNATTRIBUTED : area(parent));
    }
    areaOf.set(id, found);
    return found;
  };
  const perCallMs = new Map<string, number>();
  let totalUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const us = profile.timeDeltas[i] ?? 0;
    totalUs += us;
    const name = area(profile.samples[i]!);
    perCallMs.set(name, (perCallMs.get(name) ?? 0) + us / 1000 / calls);
  }
  return { perCallMs, totalPerCallMs: totalUs / 1000 / calls };
}
