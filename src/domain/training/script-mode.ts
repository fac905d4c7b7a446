import { DomainError, isDomainError } from '../../core/errors.ts';
import { parseObjectUri, type ObjectUri } from '../data/object-uri.ts';

/**
 * SageMaker "script mode": a training job whose image is a framework image runs
 * the user's own entry point. What the script sees is the contract of the
 * SageMaker training toolkit (aws/sagemaker-training-toolkit: environment.py,
 * mapping.py, params.py), reproduced here as pure functions of the job so that
 * a script written for SageMaker runs unchanged: the same arguments, the same
 * SM_* variables, byte for byte, and the same /opt/ml layout.
 */

export type Framework = 'pytorch' | 'tensorflow' | 'python' | 'node';
export type Interpreter = 'python' | 'node';

export interface FrameworkImage {
  framework: Framework;
  interpreter: Interpreter;
}

/** Training repositories of SageMaker's Deep Learning Containers, and Kennel's own script images. */
const FRAMEWORK_REPOSITORIES: Readonly<Record<string, FrameworkImage>> = {
  'pytorch-training': { framework: 'pytorch', interpreter: 'python' },
  'tensorflow-training': { framework: 'tensorflow', interpreter: 'python' },
  'kennel/python': { framework: 'python', interpreter: 'python' },
  'kennel/node': { framework: 'node', interpreter: 'node' },
};

/** SAGEMAKER_TRAINING_MODULE as each Deep Learning Container's Dockerfile sets it. */
const FRAMEWORK_MODULES: Partial<Record<Framework, string>> = {
  pytorch: 'sagemaker_pytorch_container.training:main',
  tensorflow: 'sagemaker_tensorflow_container.training:main',
};

/**
 * The framework an image name stands for, or undefined when it is not a
 * script-mode training image. Any registry, account, region, tag or digest is
 * accepted (`763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:1.13.1-cpu-py39`);
 * inference images (`pytorch-inference`) are not training images.
 */
export function resolveFrameworkImage(image: string): FrameworkImage | undefined {
  const parts = image.split('/');
  // A first part with a dot or a colon is a registry host, as Docker reads image names.
  if (parts.length > 1 && /[.:]/.test(parts[0])) parts.shift();
  const path = parts.join('/').replace(/@.*$/, '');
  const colon = path.lastIndexOf(':');
  const repository = colon === -1 ? path : path.slice(0, colon);
  return Object.hasOwn(FRAMEWORK_REPOSITORIES, repository) ? FRAMEWORK_REPOSITORIES[repository] : undefined;
}

// --- Values as Python sees them -------------------------------------------------
// The toolkit json.loads every hyperparameter and prints the result with str() or
// json.dumps(). Python keeps ints and floats apart (1 and 1.0 print differently)
// and has its own float formatting (1e-05), so values are modelled as Python's.

/** A Python int, kept as its decimal digits: Python ints have no size limit. */
class PyInt {
  constructor(readonly digits: string) {}
}

/** What Python's json.loads returns: a JS number stands for a Python float. */
type PyValue = null | boolean | string | number | PyInt | PyValue[] | Map<string, PyValue>;

const pyInt = (value: number) => new PyInt(String(value));
const pyList = (items: readonly string[]): PyValue[] => [...items];
const pyDict = (entries: Record<string, PyValue>) => new Map(Object.entries(entries));

const NOT_JSON = Symbol('not JSON');

/** Python's json.loads (which also reads NaN and Infinity), or NOT_JSON where it would raise. */
function pyJsonLoads(text: string): PyValue | typeof NOT_JSON {
  let at = 0;
  const fail = (): never => {
    throw new SyntaxError('not JSON');
  };
  const space = () => {
    while (at < text.length && ' \t\n\r'.includes(text[at])) at++;
  };
  const literal = (word: string, value: PyValue): PyValue => {
    if (!text.startsWith(word, at)) fail();
    at += word.length;
    return value;
  };
  const string = (): string => {
    const start = at++;
    while (at < text.length && text[at] !== '"') at += text[at] === '\\' ? 2 : 1;
    if (at >= text.length) fail();
    return JSON.parse(text.slice(start, ++at)) as string;
  };
  const value = (): PyValue => {
    space();
    const ch = text[at];
    if (ch === '"') return string();
    if (ch === '{') {
      at++;
      const dict = new Map<string, PyValue>();
      space();
      if (text[at] === '}') return at++, dict;
      for (;;) {
        space();
        if (text[at] !== '"') fail();
        const key = string();
        space();
        if (text[at++] !== ':') fail();
        dict.set(key, value());
        space();
        if (text[at] === '}') return at++, dict;
        if (text[at++] !== ',') fail();
      }
    }
    if (ch === '[') {
      at++;
      const list: PyValue[] = [];
      space();
      if (text[at] === ']') return at++, list;
      for (;;) {
        list.push(value());
        space();
        if (text[at] === ']') return at++, list;
        if (text[at++] !== ',') fail();
      }
    }
    if (ch === 't') return literal('true', true);
    if (ch === 'f') return literal('false', false);
    if (ch === 'n') return literal('null', null);
    if (ch === 'N') return literal('NaN', NaN);
    if (ch === 'I') return literal('Infinity', Infinity);
    if (text.startsWith('-Infinity', at)) return literal('-Infinity', -Infinity);
    const number = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/.exec(text.slice(at));
    if (!number) return fail();
    at += number[0].length;
    if (number[1] === undefined && number[2] === undefined) return new PyInt(BigInt(number[0]).toString());
    return Number(number[0]);
  };
  try {
    const result = value();
    space();
    return at === text.length ? result : NOT_JSON;
  } catch {
    return NOT_JSON;
  }
}

/** Python's repr() of a float: the shortest round-trip digits, in exponent form below 1e-4 or from 1e16. */
function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  const [mantissa, exponent] = Math.abs(x).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const point = Number(exponent) + 1;
  if (point <= -4 || point > 16) {
    const e = point - 1;
    const rest = digits.length > 1 ? `.${digits.slice(1)}` : '';
    return `${sign}${digits[0]}${rest}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}.0`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** Python's repr() of a str. */
function pyStrRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === ' ' || !/[\p{C}\p{Z}]/u.test(ch)) out += ch;
    else if (code < 0x100) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code < 0x10000) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += `\\U${code.toString(16).padStart(8, '0')}`;
  }
  return out + quote;
}

/** Python's str(): what `'%s' % value` and `str(value)` print. */
function pyStr(value: PyValue): string {
  return typeof value === 'string' ? value : pyRepr(value);
}

function pyRepr(value: PyValue): string {
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return pyStrRepr(value);
  if (typeof value === 'number') return pyFloatRepr(value);
  if (value instanceof PyInt) return value.digits;
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  return `{${[...value].map(([key, item]) => `${pyStrRepr(key)}: ${pyRepr(item)}`).join(', ')}}`;
}

/** Python's order of str keys, by code point (JS compares UTF-16 units, which differs above U+FFFF). */
function byCodePoint(a: string, b: string): number {
  const rank = (unit: number) => (unit >= 0xd800 && unit <= 0xdfff ? unit + 0x2000 : unit >= 0xe000 ? unit - 0x800 : unit);
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a.charCodeAt(i) !== b.charCodeAt(i)) return rank(a.charCodeAt(i)) - rank(b.charCodeAt(i));
  }
  return a.length - b.length;
}

/** json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True), as mapping.to_env_vars calls it. */
function pyJsonDumps(value: PyValue): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
    return pyFloatRepr(value);
  }
  if (value instanceof PyInt) return value.digits;
  if (typeof value === 'string') {
    const short: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };
    return `"${value.replace(/[^ -~]|["\\]/g, (ch) => short[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
  }
  if (Array.isArray(value)) return `[${value.map(pyJsonDumps).join(',')}]`;
  const keys = [...value.keys()].sort(byCodePoint);
  return `{${keys.map((key) => `${pyJsonDumps(key)}:${pyJsonDumps(value.get(key)!)}`).join(',')}}`;
}

// --- Hyperparameters ---------------------------------------------------------------

/** The toolkit's own hyperparameters (params.SAGEMAKER_HYPERPARAMETERS): never the script's. */
const TOOLKIT_HYPERPARAMETERS: ReadonlySet<string> = new Set([
  'sagemaker_program',
  'sagemaker_submit_directory',
  'sagemaker_enable_cloudwatch_metrics',
  'sagemaker_region',
  'sagemaker_container_log_level',
  'sagemaker_job_name',
  'default_user_module_name',
  '_tuning_objective_metric',
  'sagemaker_s3_output',
]);

interface SplitHyperParameters {
  /** What the script gets, as --name value and in SM_HPS. */
  user: Map<string, PyValue>;
  toolkit: Map<string, PyValue>;
  /** Other `sagemaker_` names (sagemaker_mpi_enabled, ...): SM_FRAMEWORK_PARAMS. */
  framework: Map<string, PyValue>;
}

/** Every value json-decoded, falling back to the string itself, as environment.read_hyperparameters does. */
function splitHyperParameters(hyperParameters: Readonly<Record<string, string>>): SplitHyperParameters {
  const split: SplitHyperParameters = { user: new Map(), toolkit: new Map(), framework: new Map() };
  for (const [name, raw] of Object.entries(hyperParameters)) {
    const decoded = pyJsonLoads(raw);
    const value = decoded === NOT_JSON ? raw : decoded;
    if (TOOLKIT_HYPERPARAMETERS.has(name)) split.toolkit.set(name, value);
    else if (name.startsWith('sagemaker_')) split.framework.set(name, value);
    else split.user.set(name, value);
  }
  return split;
}

export interface ScriptModeSettings {
  /** sagemaker_program: the entry point, relative to the source folder. */
  program: string;
  /** sagemaker_submit_directory as the SDK sent it: a folder or a sourcedir.tar.gz. */
  submitDirectory: string;
  submitDirectoryUri: ObjectUri;
}

const PROGRAM_EXTENSIONS: Record<Interpreter, { pattern: RegExp; example: string }> = {
  python: { pattern: /\.py$/, example: 'train.py' },
  node: { pattern: /\.[cm]?js$/, example: 'train.js' },
};

function invalid(field: string, message: string): DomainError {
  return new DomainError('ValidationError', message, { field });
}

/** Refuses names that become the same variable once upper-cased: the toolkit would silently keep one. */
function refuseCollisions(names: Iterable<string>, prefix: string, field: string, noun: string): void {
  const seen = new Map<string, string>();
  for (const name of names) {
    const variable = `${prefix}${name.toUpperCase()}`;
    const other = seen.get(variable);
    if (other !== undefined) throw invalid(field, `${noun} ${other} and ${name} would both be ${variable}: rename one of them`);
    seen.set(variable, name);
  }
}

/**
 * Checks what a script-mode job needs before anything runs, and reads the
 * entry point and the source location from the hyperparameters. Names that
 * would collide once upper-cased (SM_HP_LR from `lr` and `LR`) are refused.
 */
export function scriptModeSettings(input: {
  hyperParameters: Readonly<Record<string, string>>;
  image: FrameworkImage;
  channelNames: readonly string[];
}): ScriptModeSettings {
  for (const [name, value] of Object.entries(input.hyperParameters)) {
    const field = `HyperParameters.${name}`;
    if (name === '') throw invalid('HyperParameters', 'A hyperparameter has an empty name: every hyperparameter becomes --name value, so give it a name');
    if (/[=\0]/.test(name)) throw invalid(field, `Hyperparameter name ${JSON.stringify(name)} contains "=" or a NUL character, which cannot be part of the environment variable SM_HP_${name.toUpperCase()}: rename it`);
    if (value.includes('\0')) throw invalid(field, `Hyperparameter ${name} contains a NUL character, which cannot be passed to a process: remove it`);
  }
  const { user, toolkit } = splitHyperParameters(input.hyperParameters);
  refuseCollisions(user.keys(), 'SM_HP_', 'HyperParameters', 'Hyperparameters');
  refuseCollisions(input.channelNames, 'SM_CHANNEL_', 'InputDataConfig', 'Channels');

  const program = toolkit.get('sagemaker_program');
  if (typeof program !== 'string' || program === '') {
    throw invalid(
      'HyperParameters.sagemaker_program',
      `HyperParameters.sagemaker_program must name the training script, e.g. "${PROGRAM_EXTENSIONS[input.image.interpreter].example}" (the SageMaker Python SDK sets it from entry_point)`,
    );
  }
  const segments = program.split('/');
  if (program.startsWith('/') || segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw invalid('HyperParameters.sagemaker_program', `HyperParameters.sagemaker_program ${JSON.stringify(program)} must be a path inside the source folder, such as "train.py" or "src/train.py"`);
  }
  if (program.startsWith('-')) {
    throw invalid('HyperParameters.sagemaker_program', `HyperParameters.sagemaker_program ${JSON.stringify(program)} starts with "-", which the interpreter would read as an option: rename the script`);
  }
  const { pattern, example } = PROGRAM_EXTENSIONS[input.image.interpreter];
  if (!pattern.test(program)) {
    throw invalid(
      'HyperParameters.sagemaker_program',
      `HyperParameters.sagemaker_program ${JSON.stringify(program)} cannot run on a ${input.image.framework} image, which runs ${input.image.interpreter === 'python' ? 'Python files (.py)' : 'JavaScript files (.js, .mjs, .cjs)'}: name a file such as "${example}"`,
    );
  }

  const submitDirectory = toolkit.get('sagemaker_submit_directory');
  if (typeof submitDirectory !== 'string' || submitDirectory === '') {
    throw invalid(
      'HyperParameters.sagemaker_submit_directory',
      'HyperParameters.sagemaker_submit_directory must give the source code: an s3:// or file:// URI of a folder or of a sourcedir.tar.gz holding sagemaker_program (the SageMaker Python SDK sets it from source_dir)',
    );
  }
  try {
    return { program, submitDirectory, submitDirectoryUri: parseObjectUri(submitDirectory) };
  } catch (error) {
    if (!isDomainError(error)) throw error;
    throw invalid('HyperParameters.sagemaker_submit_directory', `HyperParameters.sagemaker_submit_directory: ${error.message}`);
  }
}

/**
 * The script's command-line arguments, as mapping.to_cmd_args builds them:
 * every user hyperparameter in sorted order as `--name value` (`-n value` for a
 * one-character name), values printed by Python's str(): `"\"0.01\""` gives
 * 0.01, `true` gives True, `1.0` stays 1.0, a JSON object gives `a=1,b=2`.
 */
export function scriptArguments(hyperParameters: Readonly<Record<string, string>>): string[] {
  const { user } = splitHyperParameters(hyperParameters);
  return [...user.keys()].sort(byCodePoint).flatMap((name) => {
    const value = user.get(name)!;
    const text =
      value instanceof Map
        ? [...value.keys()].sort(byCodePoint).map((key) => `${key}=${pyStr(value.get(key)!)}`).join(',')
        : value === null
          ? ''
          : pyStr(value);
    return [[...name].length > 1 ? `--${name}` : `-${name}`, text];
  });
}

// --- The /opt/ml tree and the environment ---------------------------------------------

/** The one host of a Kennel training job, named as SageMaker names the first. */
export const CURRENT_HOST = 'algo-1';
const INSTANCE_GROUP = 'homogeneousCluster';
const NETWORK_INTERFACE = 'eth0';
/** Python's logging.INFO, the toolkit's default log level. */
const DEFAULT_LOG_LEVEL = 20;

/** The job's copy of SageMaker's /opt/ml tree: every path absolute. */
export interface ScriptPaths {
  /** /opt/ml/input */
  inputDir: string;
  /** /opt/ml/input/config: hyperparameters.json, resourceconfig.json, inputdataconfig.json */
  inputConfigDir: string;
  /** /opt/ml/input/data: one folder per channel */
  inputDataDir: string;
  /** /opt/ml/model: SM_MODEL_DIR, packed as model.tar.gz */
  modelDir: string;
  /** /opt/ml/output */
  outputDir: string;
  /** /opt/ml/output/data: SM_OUTPUT_DATA_DIR */
  outputDataDir: string;
  /** /opt/ml/output/intermediate */
  outputIntermediateDir: string;
  /** /opt/ml/output/failure: where the toolkit writes why the script failed */
  failureFile: string;
  /** /opt/ml/code: the unpacked source folder, the script's working directory */
  codeDir: string;
}

export interface ScriptChannel {
  /** The folder holding the channel's files: SM_CHANNEL_<NAME>. */
  path: string;
  contentType?: string;
}

/** resourceconfig.json as SageMaker writes it for a one-instance job. */
export function resourceConfig(instanceType: string): Record<string, unknown> {
  return {
    current_host: CURRENT_HOST,
    current_instance_type: instanceType,
    current_group_name: INSTANCE_GROUP,
    hosts: [CURRENT_HOST],
    instance_groups: [{ instance_group_name: INSTANCE_GROUP, instance_type: instanceType, hosts: [CURRENT_HOST] }],
    network_interface_name: NETWORK_INTERFACE,
  };
}

/** inputdataconfig.json: every channel is File mode, because Kennel puts the files in the channel folder before the script starts. */
export function inputDataConfig(channels: Readonly<Record<string, { contentType?: string }>>): Record<string, Record<string, string>> {
  return Object.fromEntries(
    Object.entries(channels).map(([name, { contentType }]) => [
      name,
      { ...(contentType === undefined ? {} : { ContentType: contentType }), TrainingInputMode: 'File', S3DistributionType: 'FullyReplicated', RecordWrapperType: 'None' },
    ]),
  );
}

/** Plain JSON (the config files) as a Python value, so it prints as the toolkit prints what it read. */
function fromJson(value: unknown): PyValue {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isInteger(value) ? pyInt(value) : value;
  if (Array.isArray(value)) return value.map(fromJson);
  return new Map(Object.entries(value as Record<string, unknown>).map(([key, item]) => [key, fromJson(item)]));
}

export interface ScriptJob {
  jobName: string;
  jobArn: string;
  region: string;
  image: FrameworkImage;
  /** All of them, as CreateTrainingJob has them, sagemaker_program included. */
  hyperParameters: Readonly<Record<string, string>>;
  channels: Readonly<Record<string, ScriptChannel>>;
  paths: ScriptPaths;
  instanceType: string;
  /** The CPUs the job may use: SM_NUM_CPUS. */
  numCpus: number;
}

/**
 * The variables the toolkit sets for the script (Environment.to_env_vars, and
 * the few it puts in os.environ): SM_HPS, SM_HP_<NAME>, SM_USER_ARGS,
 * SM_CHANNELS, SM_CHANNEL_<NAME>, SM_MODEL_DIR, SM_TRAINING_ENV and the rest,
 * each printed as the toolkit prints it (strings as they are, anything else as
 * compact JSON with sorted keys). Paths are the job folder's, not /opt/ml.
 */
export function scriptEnvironment(job: ScriptJob): Record<string, string> {
  const { user, toolkit, framework } = splitHyperParameters(job.hyperParameters);
  const program = pyStr(toolkit.get('sagemaker_program') ?? null);
  const channelNames = Object.keys(job.channels).sort(byCodePoint);
  const frameworkModule = FRAMEWORK_MODULES[job.image.framework] ?? null;
  const hosts = pyList([CURRENT_HOST]);
  // The Environment's properties: dict(self) is SM_TRAINING_ENV, and most of them are SM_* variables too.
  const shared = {
    current_host: CURRENT_HOST,
    current_instance_group: INSTANCE_GROUP,
    current_instance_group_hosts: hosts,
    current_instance_type: job.instanceType,
    distribution_instance_groups: [],
    framework_module: frameworkModule,
    hosts,
    input_config_dir: job.paths.inputConfigDir,
    input_data_config: fromJson(inputDataConfig(job.channels)),
    input_dir: job.paths.inputDir,
    instance_groups: pyList([INSTANCE_GROUP]),
    instance_groups_dict: pyDict({ [INSTANCE_GROUP]: pyDict({ instance_group_name: INSTANCE_GROUP, instance_type: job.instanceType, hosts }) }),
    is_hetero: false,
    log_level: toolkit.get('sagemaker_container_log_level') ?? pyInt(DEFAULT_LOG_LEVEL),
    model_dir: job.paths.modelDir,
    module_dir: toolkit.get('sagemaker_submit_directory') ?? job.paths.codeDir,
    module_name: program.replace(/\.py$/, ''),
    network_interface_name: NETWORK_INTERFACE,
    num_cpus: pyInt(job.numCpus),
    num_gpus: pyInt(0),
    num_neurons: pyInt(0),
    output_data_dir: job.paths.outputDataDir,
    output_dir: job.paths.outputDir,
    output_intermediate_dir: job.paths.outputIntermediateDir,
    resource_config: fromJson(resourceConfig(job.instanceType)),
    user_entry_point: program,
  } satisfies Record<string, PyValue>;
  const trainingEnv = pyDict({
    ...shared,
    additional_framework_parameters: framework,
    channel_input_dirs: new Map(channelNames.map((name) => [name, job.channels[name].path])),
    distribution_hosts: [],
    hyperparameters: user,
    is_master: true,
    is_modelparallel_enabled: null,
    is_smddpmprun_installed: false,
    job_name: job.jobName,
    master_hostname: CURRENT_HOST,
  });
  const variables: Record<string, PyValue> = {
    ...shared,
    hps: user,
    framework_params: framework,
    channels: pyList(channelNames),
    training_env: trainingEnv,
    user_args: pyList(scriptArguments(job.hyperParameters)),
  };
  for (const name of channelNames) variables[`channel_${name}`] = job.channels[name].path;
  for (const [name, value] of user) variables[`hp_${name}`] = value;

  const env: Record<string, string> = {};
  // mapping.to_env_vars: SM_ + the upper-cased key; strings as they are, None as "", anything else as JSON.
  for (const [key, value] of Object.entries(variables)) env[`SM_${key.toUpperCase()}`] = value === null ? '' : typeof value === 'string' ? value : pyJsonDumps(value);
  // What the platform and the toolkit put in os.environ, which the script inherits.
  env.TRAINING_JOB_NAME = job.jobName;
  env.TRAINING_JOB_ARN = job.jobArn;
  env.CURRENT_HOST = CURRENT_HOST;
  env.SAGEMAKER_JOB_NAME = pyStr(toolkit.get('sagemaker_job_name') ?? '');
  env.SAGEMAKER_REGION = pyStr(toolkit.get('sagemaker_region') ?? job.region);
  if (frameworkModule !== null) env.SAGEMAKER_TRAINING_MODULE = frameworkModule;
  // environment.write_env_vars puts the code folder on PYTHONPATH, so modules beside the entry point import.
  if (job.image.interpreter === 'python') env.PYTHONPATH = job.paths.codeDir;
  return env;
}

// --- Failure reasons -------------------------------------------------------------------

/** The longest FailureReason SageMaker's service model allows. */
export const FAILURE_REASON_MAX_LENGTH = 1024;
const COMMAND_MAX_LENGTH = 300;

/** Linux signal numbers, for the 128 + n exit code a shell reports. */
const SIGNALS = ' HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS'
  .split(' ')
  .map((name) => `SIG${name}`);

export interface ScriptFailure {
  exitCode: number | null;
  signal: string | null;
  /** The command that ran: interpreter, program and arguments. */
  command: readonly string[];
  /** The last lines the script printed, oldest first. */
  lastLines: readonly string[];
}

/**
 * FailureReason for a script that exited non-zero or was killed, worded as
 * SageMaker words it (the toolkit's ExecuteUserScriptError in the failure
 * file, which the platform prefixes and suffixes):
 *
 *     AlgorithmError: ExecuteUserScriptError:
 *     ExitCode 1
 *     ErrorMessage "ValueError: ..."
 *     Command "python3 train.py --epochs 1", exit code: 1
 *
 * The ErrorMessage is the tail of the output, cut at its start so the whole
 * stays within FAILURE_REASON_MAX_LENGTH: the end is where the error is.
 */
export function failureReason(failure: ScriptFailure): string {
  const number = failure.signal === null ? -1 : SIGNALS.indexOf(failure.signal);
  const exitCode = failure.exitCode ?? (number > 0 ? 128 + number : 1);
  const killed = failure.signal === null ? '' : `Process killed by ${failure.signal}${number > 0 ? ` (signal ${number})` : ''}`;
  // The toolkit's words for 137: on a machine without a stop request the kernel's OOM killer is what sends SIGKILL.
  const extra = killed === '' ? '' : `\nExtraInfo "${failure.signal === 'SIGKILL' ? `OutOfMemory: ${killed}` : killed}"`;
  let command = failure.command.join(' ');
  if (command.length > COMMAND_MAX_LENGTH) command = `${command.slice(0, COMMAND_MAX_LENGTH - 1)}…`;
  const head = `AlgorithmError: ExecuteUserScriptError:\nExitCode ${exitCode}\nErrorMessage "`;
  const tail = `"${extra}\nCommand "${command}", exit code: ${exitCode}`;
  const budget = FAILURE_REASON_MAX_LENGTH - head.length - tail.length;
  let message = failure.lastLines.map((line) => line.trimEnd()).filter((line) => line !== '').join('\n');
  if (message.length > budget) message = `…${message.slice(message.length - budget + 1)}`;
  return head + message + tail;
}
