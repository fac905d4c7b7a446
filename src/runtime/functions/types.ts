/** What an execution environment is started with and what one invocation carries and returns. */

export interface EnvironmentSpec {
  /** 'nodejs20.x', 'python3.11', ...: one of SUPPORTED_RUNTIMES. */
  runtime: string;
  /** 'index.handler', 'src/app.handler' (Node.js), 'pkg.mod.fn' (Python). */
  handler: string;
  /** The unpacked code, read-only to the function. */
  codeDir: string;
  /** Private and read-write; the function's HOME and TMPDIR. It belongs to the caller: the environment never deletes it. */
  tmpDir: string;
  memorySizeMb: number;
  /** What tmpDir may hold (EphemeralStorage), in MB; Lambda's 512 when not given. */
  ephemeralStorageMb?: number;
  timeoutSeconds: number;
  /** The function's variables plus what the caller injects (credentials, endpoints). Lambda's reserved names are set by the environment and win. */
  environment: Record<string, string>;
  functionName: string;
  /** '$LATEST' or '3'. */
  functionVersion: string;
  region: string;
  /** '/aws/lambda/<name>'. */
  logGroupName: string;
  logStreamName: string;
  /**
   * More folders the function may read. A folder named node_modules is also a
   * place Node.js functions find packages in (NODE_PATH for require, a resolve
   * hook for import), as Lambda's Node.js runtimes find the AWS SDK.
   */
  readableDirs?: readonly string[];
}

export interface Invocation {
  requestId: string;
  payload: Buffer;
  invokedFunctionArn: string;
  /** Base64, as X-Amz-Client-Context carries it. */
  clientContext?: string;
  /** JSON, for invocations made with Cognito credentials. */
  cognitoIdentity?: string;
  /** X-Amzn-Trace-Id; a fresh one is made when absent. */
  traceId?: string;
}

export interface InvocationOutcome {
  requestId: string;
  /** The function's response, or the error JSON. */
  payload: Buffer;
  functionError?: 'Unhandled';
  errorType?: string;
  durationMs: number;
  billedDurationMs: number;
  maxMemoryUsedMb: number;
  /** Only on the first invocation of an environment that started on demand. */
  initDurationMs?: number;
  /** This invocation's log, START to REPORT, in Lambda's format, ending with a newline. */
  logs: string;
  /** The environment is gone (or must not be trusted again): start another for the next invocation. */
  environmentLost: boolean;
}
