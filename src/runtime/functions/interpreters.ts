import { execFile } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeError, DomainError } from '../../core/errors.ts';

/** Kennel's bootstraps and launcher, shipped as they are (plain .mjs and .py, run outside tsx). */
export const BOOTSTRAP_DIR = fileURLToPath(new URL('./bootstraps/', import.meta.url));
export const LANDLOCK_LAUNCHER = `${BOOTSTRAP_DIR}landlock.py`;
const PROBE_TIMEOUT_MS = 15_000;

/** The Python Kennel found, and what the kernel offers it. */
export interface PythonInstall {
  /** What was asked for: `python3`, or KENNEL_PYTHON. */
  command: string;
  /** The interpreter itself, past any shim (pyenv's python3 is a shell script): what functions run on. */
  executable: string;
  /** sys.prefix and sys.base_prefix: what the interpreter reads its library from. */
  prefixes: string[];
  version: string;
  /** 0 when the kernel has no Landlock. */
  landlockAbi: number;
  landlockUnavailableReason?: string;
}

export type PythonProbe = { found: true; install: PythonInstall } | { found: false; reason: string };

/**
 * Python is `python3` as found on PATH, or the interpreter KENNEL_PYTHON
 * names, as for training scripts (script-mode/script-process.ts).
 */
export function pythonCommand(serverEnv: NodeJS.ProcessEnv = process.env): string {
  return serverEnv.KENNEL_PYTHON || 'python3';
}

/** Node.js functions run on the Node.js that runs Kennel; its install prefix is what it may read. */
export function nodeInstall(): { executable: string; prefix: string } {
  const executable = realpathSync(process.execPath);
  return { executable, prefix: dirname(dirname(executable)) };
}

const probes = new Map<string, Promise<PythonProbe>>();

/**
 * Runs the launcher's --probe once per Python command: where the interpreter
 * lives and which Landlock ABI the kernel has. Later calls get the same answer.
 */
export function probePython(command: string): Promise<PythonProbe> {
  let probe = probes.get(command);
  if (probe === undefined) {
    probe = runProbe(command);
    probes.set(command, probe);
  }
  return probe;
}

function runProbe(command: string): Promise<PythonProbe> {
  return new Promise((resolve) => {
    execFile(command, ['-I', '-S', LANDLOCK_LAUNCHER, '--probe'], { timeout: PROBE_TIMEOUT_MS }, (error, stdout) => {
      if (error !== null) {
        const code = (error as NodeJS.ErrnoException).code;
        resolve({ found: false, reason: code === 'ENOENT' ? `${command} was not found` : `${command} could not be run (${describeError(error)})` });
        return;
      }
      try {
        const report = JSON.parse(stdout) as { executable: string; prefix: string; basePrefix: string; version: string; abi: number; reason?: string };
        resolve({
          found: true,
          install: {
            command,
            executable: report.executable,
            prefixes: [...new Set([report.prefix, report.basePrefix])],
            version: report.version,
            landlockAbi: report.abi,
            ...(report.reason === undefined ? {} : { landlockUnavailableReason: report.reason }),
          },
        });
      } catch {
        resolve({ found: false, reason: `${command} did not answer as Python 3 does` });
      }
    });
  });
}

/** Why a Python function cannot start on this server, and how to fix it. */
export function pythonMissing(command: string, reason: string): DomainError {
  return new DomainError(
    'ServiceUnavailable',
    `Cannot run Python functions: ${reason}. Install Python 3 so that python3 is on PATH, or set KENNEL_PYTHON to the path of the interpreter to use, then invoke the function again.`,
    { interpreter: command },
  );
}
