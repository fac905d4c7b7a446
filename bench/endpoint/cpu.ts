/**
 * CPU accounting from /proc (Linux), to say how much CPU a request costs on each side and whether
 * other processes were competing for the two cores during a run. Elsewhere every figure is undefined.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: /proc counts in ticks of 10 ms on every Linux build this runs on. */
const MS_PER_TICK = 10;

/** User + system CPU time of one process, in ms. */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK;
  } catch {
    return undefined;
  }
}

/** CPU time every core spent busy (user, nice, system, irq, softirq, steal) since boot, in ms. */
export function machineBusyMs(): number | undefined {
  try {
    const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return (user + nice + system + irq + softirq + steal) * MS_PER_TICK;
  } catch {
    return undefined;
  }
}

export interface CpuWindow {
  /** CPU ms used by the watched processes. */
  ownMs: number;
  /** CPU ms everything else on the machine used in the same time. */
  othersMs: number;
}

/** Starts watching the given processes; the returned function ends the window. */
export function cpuWindow(pids: readonly number[]): () => CpuWindow {
  const own = () => pids.reduce((sum, pid) => sum + (processCpuMs(pid) ?? NaN), 0);
  const ownBefore = own();
  const busyBefore = machineBusyMs() ?? NaN;
  return () => {
    const ownMs = own() - ownBefore;
    return { ownMs, othersMs: Math.max(0, (machineBusyMs() ?? NaN) - busyBefore - ownMs) };
  };
}

/**
 * Waits until other processes leave the machine alone (under `maxOthersCores` over a 300 ms
 * window), for at most `maxMs`. Returns whether it got quiet.
 */
export async function waitForQuiet(pids: readonly number[], maxOthersCores: number, maxMs: number): Promise<boolean> {
  const windowMs = 300;
  const deadline = performance.now() + maxMs;
  do {
    const window = cpuWindow(pids);
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    if (window().othersMs / windowMs <= maxOthersCores) return true;
  } while (performance.now() < deadline);
  return false;
}

/** The pids of `pid`'s children whose command line contains `marker` (Linux's /proc/<pid>/task/<tid>/children). */
export function childPids(pid: number, marker: string): number[] {
  try {
    const tasks = readdirSync(`/proc/${pid}/task`);
    const children = tasks.flatMap((tid) => readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    return children.filter((child) => {
      try {
        return readFileSync(`/proc/${child}/cmdline`, 'utf8').includes(marker);
      } catch {
        return false;
      }
    });
  } catch {
    return [];
  }
}
