import { realpath } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DomainError } from '../../core/errors.ts';
import { BOOTSTRAP_DIR, LANDLOCK_LAUNCHER, nodeInstall, probePython, pythonCommand, pythonMissing, type PythonInstall } from './interpreters.ts';
import { runtimeFamily, SUPPORTED_RUNTIMES, type RuntimeFamily } from './runtimes.ts';
import type { EnvironmentSpec } from './types.ts';

/**
 * How a function's process is launched, and what it may touch.
 *
 * Its environment is built from nothing: only the function's variables (with
 * what the caller injects) and Lambda's own. Nothing of Kennel's leaks
 * (KENNEL_HOME, the server's AWS_* credentials, NODE_EXTRA_CA_CERTS, which
 * would make every Node.js start load a certificate bundle).
 *
 * Its filesystem is its code (read), its tmp folder (read-write), the
 * interpreter's install, the system's libraries and a few files of /etc, /dev
 * and /proc it needs, Kennel's bootstraps, and the caller's readableDirs.
 * Everything else, the Kennel state folder around the code above all, is
 * refused. Where the kernel has Landlock, a small launcher (landlock.py)
 * applies that before exec, for the runtime and everything it starts; Node.js
 * functions are also held by Node's permission model. Without Landlock, Node.js
 * functions have the permission model alone (and may not start processes,
 * which it could not follow), and Python functions an audit hook, which code
 * in C can get around: describeIsolation says which is in effect.
 */

export type IsolationLayer = 'landlock' | 'node-permissions' | 'audit-hook';

export interface LaunchRequest {
  spec: EnvironmentSpec;
  /** host:port of the environment's Runtime API. */
  runtimeApi: string;
  /** Written by the bootstrap after each invocation (see bootstraps/). */
  marker: string;
  /** Node.js only: register the ES module resolve hook from the start. */
  resolveHook: boolean;
  /** Use Landlock where the kernel has it. */
  useLandlock: boolean;
  initializationType: 'on-demand' | 'provisioned-concurrency';
  serverEnv?: NodeJS.ProcessEnv;
}

export interface Launch {
  file: string;
  args: string[];
  /** The process's environment at spawn. */
  env: Record<string, string>;
  /** For the launcher: the function's environment (NAME=value entries, each ended by a NUL byte), to be written to its stdin. */
  stdin?: string;
  cwd: string;
  isolation: IsolationLayer[];
}

/** What the Node.js heap may take of MemorySize: the rest of the process (code, buffers, the runtime itself) needs the remainder. */
const HEAP_SHARE = 0.9;
const SYSTEM_READ = [
  '/usr',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/bin',
  '/sbin',
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/ssl',
  '/etc/ca-certificates',
  '/etc/pki',
  '/etc/resolv.conf',
  '/etc/hosts',
  '/etc/host.conf',
  '/etc/nsswitch.conf',
  '/etc/gai.conf',
  '/etc/services',
  '/etc/protocols',
  '/etc/passwd',
  '/etc/group',
  '/etc/localtime',
  '/etc/mime.types',
  '/dev/urandom',
  '/dev/random',
  '/dev/zero',
  // The launcher resolves /proc/self to its own pid, which the runtime keeps across exec.
  '/proc/self',
  '/proc/cpuinfo',
  '/proc/meminfo',
  '/proc/stat',
  '/proc/loadavg',
  '/proc/uptime',
  '/sys/devices/system/cpu',
];
const SYSTEM_WRITE = ['/dev/null'];
/** Caller options that would widen Node's permission model. */
const PERMISSION_WIDENING = /^--(allow-|experimental-permission|permission)/;

export function unsupportedRuntime(runtime: string): DomainError {
  return new DomainError('ValidationError', `Runtime ${runtime} is not supported; use one of ${SUPPORTED_RUNTIMES.join(', ')}.`, { runtime });
}

export async function planLaunch(request: LaunchRequest): Promise<Launch> {
  const { spec } = request;
  const family = runtimeFamily(spec.runtime);
  if (family === undefined) throw unsupportedRuntime(spec.runtime);
  const probe = await probePython(pythonCommand(request.serverEnv));
  if (family === 'python' && !probe.found) throw pythonMissing(pythonCommand(request.serverEnv), probe.reason);
  const python = probe.found ? probe.install : undefined;
  const landlock = request.useLandlock && python !== undefined && python.landlockAbi > 0;
  const codeDir = await realpath(spec.codeDir);
  const tmpDir = await realpath(spec.tmpDir);
  const readableDirs = await Promise.all((spec.readableDirs ?? []).map((dir) => realpath(dir)));
  const interpreter = family === 'nodejs' ? nodeInstall().executable : python!.executable;
  const interpreterPrefixes = family === 'nodejs' ? [nodeInstall().prefix] : python!.prefixes;
  const writable = outermost([tmpDir, ...SYSTEM_WRITE]);
  const readable = outermost([codeDir, BOOTSTRAP_DIR.replace(/\/$/, ''), ...interpreterPrefixes, ...readableDirs, ...SYSTEM_READ]).filter((path) => !writable.includes(path));
  const env = functionEnvironment(spec, { family, codeDir, tmpDir, interpreter, readableDirs, runtimeApi: request.runtimeApi, initializationType: request.initializationType });

  const runtimeArgs =
    family === 'nodejs'
      ? nodeArgs(spec, request, readable, writable, landlock)
      : // -B: the bootstrap's own modules must not leave bytecode in Kennel's source tree.
        ['-B', join(BOOTSTRAP_DIR, 'python', 'bootstrap.py'), request.marker, ...(landlock ? [] : [JSON.stringify({ read: readable, write: writable })])];
  const runtimeLayers: IsolationLayer[] = family === 'nodejs' ? ['node-permissions'] : landlock ? [] : ['audit-hook'];
  if (!landlock) return { file: interpreter, args: runtimeArgs, env, cwd: codeDir, isolation: runtimeLayers };
  return { ...launcher(python!, readable, writable, [interpreter, ...runtimeArgs], env), cwd: codeDir, isolation: ['landlock', ...runtimeLayers] };
}

/**
 * `command` run through the Landlock launcher on `python`: the rules for `readable` and `writable`,
 * and the environment on its stdin (NAME=value entries, each ended by a NUL byte), not its own.
 */
function launcher(python: PythonInstall, readable: readonly string[], writable: readonly string[], command: readonly string[], env: Readonly<Record<string, string>>): Pick<Launch, 'file' | 'args' | 'env' | 'stdin'> {
  const rules = [...readable.flatMap((path) => ['--ro', path]), ...writable.flatMap((path) => ['--rw', path])];
  return {
    file: python.executable,
    args: ['-I', '-S', LANDLOCK_LAUNCHER, ...rules, '--', ...command],
    env: {},
    stdin: Object.entries(env)
      .map(([name, value]) => `${name}=${value}\0`)
      .join(''),
  };
}

/** A command to run confined: what it may read and write besides what any runtime needs of the system. */
export interface ConfineRequest {
  interpreter: 'python' | 'node';
  /** Arguments after the interpreter. */
  args: readonly string[];
  env: Readonly<Record<string, string>>;
  read: readonly string[];
  write: readonly string[];
  serverEnv?: NodeJS.ProcessEnv;
}

/**
 * The launch of an interpreter held by Landlock as a Python function is, for other workers that run
 * user code (inference scripts): it may read `read`, the interpreter's install and the system's
 * libraries, and write only `write`; Kennel's state folder around them is refused. Undefined where
 * the kernel has no Landlock or no Python is there to apply it: the caller runs the command as it is.
 */
export async function confinedLaunch(request: ConfineRequest): Promise<Launch | undefined> {
  const probe = await probePython(pythonCommand(request.serverEnv));
  if (!probe.found || probe.install.landlockAbi === 0) return undefined;
  const python = probe.install;
  const interpreter = request.interpreter === 'node' ? nodeInstall() : { executable: python.executable, prefix: '' };
  const prefixes = request.interpreter === 'node' ? [interpreter.prefix] : python.prefixes;
  const writable = outermost([...(await Promise.all(request.write.map((dir) => realpath(dir)))), ...SYSTEM_WRITE]);
  const read = await Promise.all(request.read.map((dir) => realpath(dir)));
  const readable = outermost([...read, ...prefixes, ...SYSTEM_READ]).filter((path) => !writable.includes(path));
  return { ...launcher(python, readable, writable, [interpreter.executable, ...request.args], request.env), cwd: read[0] ?? '/', isolation: ['landlock'] };
}

/**
 * The paths without those already inside another: one rule per tree. Node 20's
 * permission model also aborts on a path given twice.
 */
export function outermost(paths: readonly string[]): string[] {
  const inside = (path: string, other: string) => path === other || path.startsWith(other.endsWith('/') ? other : `${other}/`);
  const unique = [...new Set(paths)];
  return unique.filter((path) => !unique.some((other) => other !== path && inside(path, other)));
}

/** Node's permission model is --experimental-permission on Node.js 20 and --permission from 22.13 on. */
function permissionFlag(): string {
  const [major, minor] = process.versions.node.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 13) ? '--permission' : '--experimental-permission';
}

function nodeArgs(spec: EnvironmentSpec, request: LaunchRequest, readable: string[], writable: string[], landlock: boolean): string[] {
  return [
    // Both are printed once per process by flags Kennel chose, not by the function: noise in its log.
    '--disable-warning=ExperimentalWarning',
    '--disable-warning=SecurityWarning',
    `--max-old-space-size=${Math.max(16, Math.floor(spec.memorySizeMb * HEAP_SHARE))}`,
    permissionFlag(),
    // Writing does not imply reading in Node's model, as it does in Landlock's read-write rules. Node checks
    // paths as written: /proc/self/root/... would reach any file, so /proc is in only where Landlock backs it.
    ...outermost([...readable, ...writable])
      .filter((path) => landlock || !path.startsWith('/proc/'))
      .map((path) => `--allow-fs-read=${path}`),
    ...writable.map((path) => `--allow-fs-write=${path}`),
    // Workers share the process's permissions; the resolve hook runs in one.
    '--allow-worker',
    // A child process is outside the permission model: allowed only when Landlock holds it.
    ...(landlock ? ['--allow-child-process'] : []),
    join(BOOTSTRAP_DIR, 'node', 'bootstrap.mjs'),
    request.marker,
    ...(request.resolveHook ? ['resolve-hook'] : []),
  ];
}

interface EnvironmentFacts {
  family: RuntimeFamily;
  codeDir: string;
  tmpDir: string;
  interpreter: string;
  readableDirs: readonly string[];
  runtimeApi: string;
  initializationType: 'on-demand' | 'provisioned-concurrency';
}

/**
 * The function's environment: Lambda's defaults the function may change (LANG,
 * PATH, TZ, as on Lambda), then its own variables, then what Lambda reserves,
 * which always wins. HOME and TMPDIR are its tmp folder, the only place it can
 * write. NODE_PATH and NODE_OPTIONS of the function's are kept, extended with
 * the readable node_modules folders and stripped of what would widen the
 * permission model respectively.
 */
function functionEnvironment(spec: EnvironmentSpec, facts: EnvironmentFacts): Record<string, string> {
  const own = { ...spec.environment };
  delete own._X_AMZN_TRACE_ID;
  const nodePath = [own.NODE_PATH, ...facts.readableDirs.filter((dir) => basename(dir) === 'node_modules')].filter(Boolean).join(':');
  if (own.NODE_OPTIONS !== undefined) own.NODE_OPTIONS = own.NODE_OPTIONS.split(/\s+/).filter((option) => option !== '' && !PERMISSION_WIDENING.test(option)).join(' ');
  return {
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    PATH: `${dirname(facts.interpreter)}:/usr/local/bin:/usr/bin:/bin`,
    ...own,
    ...(facts.family === 'nodejs' && nodePath !== '' ? { NODE_PATH: nodePath } : {}),
    AWS_LAMBDA_FUNCTION_NAME: spec.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: spec.functionVersion,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memorySizeMb),
    AWS_LAMBDA_LOG_GROUP_NAME: spec.logGroupName,
    AWS_LAMBDA_LOG_STREAM_NAME: spec.logStreamName,
    AWS_LAMBDA_RUNTIME_API: facts.runtimeApi,
    AWS_LAMBDA_INITIALIZATION_TYPE: facts.initializationType,
    AWS_REGION: spec.region,
    AWS_DEFAULT_REGION: spec.region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${spec.runtime}`,
    LAMBDA_TASK_ROOT: facts.codeDir,
    LAMBDA_RUNTIME_DIR: join(BOOTSTRAP_DIR, facts.family === 'nodejs' ? 'node' : 'python'),
    _HANDLER: spec.handler,
    HOME: facts.tmpDir,
    TMPDIR: facts.tmpDir,
  };
}

export interface IsolationReport {
  landlock: { available: true; abi: number } | { available: false; reason: string };
  nodejs: string;
  python: string;
  /** One sentence for the server's log. */
  summary: string;
}

/** Which isolation functions get on this machine, for the server to log at start. */
export async function describeIsolation(serverEnv: NodeJS.ProcessEnv = process.env): Promise<IsolationReport> {
  const probe = await probePython(pythonCommand(serverEnv));
  const abi = probe.found ? probe.install.landlockAbi : 0;
  const landlock: IsolationReport['landlock'] =
    abi > 0 ? { available: true, abi } : { available: false, reason: probe.found ? landlockReason(probe.install) : `Python, which applies it, is missing: ${probe.reason}` };
  const nodejs = landlock.available ? 'Landlock and Node.js’s permission model' : 'Node.js’s permission model alone, without child processes';
  const python = !probe.found ? `none: Python functions cannot run (${probe.reason})` : landlock.available ? 'Landlock' : 'an audit hook (a fallback that code in C can get around)';
  const kernel = landlock.available ? `Landlock ABI ${landlock.abi}` : `no Landlock (${landlock.reason})`;
  const scripts = landlock.available ? 'Landlock' : 'nothing (they run unconfined, as training scripts do)';
  return { landlock, nodejs, python, summary: `Function sandboxes: ${kernel}; Node.js functions under ${nodejs}; Python functions under ${python}; endpoints' inference scripts under ${scripts}.` };
}

function landlockReason(install: PythonInstall): string {
  return `the kernel does not offer it: ${install.landlockUnavailableReason ?? 'unknown reason'}`;
}
