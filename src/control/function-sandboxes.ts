import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FunctionSettings } from '../domain/functions/function.ts';
import { DEFAULT_REGION } from '../domain/iam/arn.ts';
import { ExecutionEnvironment } from '../runtime/functions/execution-environment.ts';
import type { ControlDeps } from './deps.ts';
import type { EnvironmentTarget, InitializationType, StartedEnvironment } from './function-environments.ts';
import type { FunctionCodeStore } from './function-code.ts';
import type { ExecutionRoles } from './function-roles.ts';

/** What one environment runs: a function version's settings under a key that changes with them. */
export interface SandboxTarget extends EnvironmentTarget {
  settings: FunctionSettings;
}

export function sandboxTarget(functionName: string, version: string, settings: FunctionSettings): SandboxTarget {
  const key = createHash('sha256').update(JSON.stringify([functionName, version, settings])).digest('hex').slice(0, 16);
  return { functionName, version, key, timeoutSeconds: settings.timeoutSeconds, settings };
}

/**
 * The variables that point the AWS SDKs at Kennel: the generic
 * AWS_ENDPOINT_URL and the per-service ones (newer SDKs read them), and
 * KENNEL_ENDPOINT_URL for code that passes `endpoint_url` itself, as every
 * boto3 (Debian's included) accepts.
 */
export function endpointVariables(url: string | undefined): Record<string, string> {
  if (url === undefined) return {};
  const services = ['SAGEMAKER_RUNTIME', 'SAGEMAKER', 'LAMBDA', 'IAM', 'STS', 'APPLICATION_AUTO_SCALING'];
  return { AWS_ENDPOINT_URL: url, KENNEL_ENDPOINT_URL: url, ...Object.fromEntries(services.map((service) => [`AWS_ENDPOINT_URL_${service}`, url])) };
}

/**
 * Starts execution environments: unpacks the code, makes the private temporary
 * folder, assumes the execution role, and launches the sandboxed runtime with
 * the function's variables, the role's credentials and the endpoint variables.
 */
export function environmentStarter(
  deps: ControlDeps,
  code: FunctionCodeStore,
  roles: ExecutionRoles,
): (target: EnvironmentTarget, initializationType: InitializationType) => Promise<StartedEnvironment> {
  return async (target, initializationType) => {
    const { settings } = target as SandboxTarget;
    let tmpDir: string | undefined;
    try {
      const codeDir = await code.unpacked(settings.code);
      await mkdir(deps.functions.sandboxDir, { recursive: true, mode: 0o700 });
      tmpDir = await mkdtemp(join(deps.functions.sandboxDir, `${target.functionName}-`));
      const credentials = roles.credentials(settings.roleArn, target.functionName);
      const started = await ExecutionEnvironment.start({
        runtime: settings.runtime,
        handler: settings.handler,
        codeDir,
        tmpDir,
        memorySizeMb: settings.memorySizeMb,
        ephemeralStorageMb: settings.ephemeralStorageMb,
        timeoutSeconds: settings.timeoutSeconds,
        environment: {
          ...settings.environment,
          ...endpointVariables(deps.functions.endpointUrl()),
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
          AWS_SESSION_TOKEN: credentials.sessionToken,
        },
        functionName: target.functionName,
        functionVersion: target.version,
        region: DEFAULT_REGION,
        logGroupName: `/aws/lambda/${target.functionName}`,
        logStreamName: `${new Date(deps.clock.now()).toISOString().slice(0, 10).replaceAll('-', '/')}/[${target.version}]${target.key}`,
        readableDirs: deps.functions.readableDirs,
      }, { initializationType });
      if (!started.ok) {
        await rm(tmpDir, { recursive: true, force: true });
        return { ok: false, errorType: started.errorType, errorMessage: started.errorMessage, payload: started.payload, logs: started.logs };
      }
      const folder = tmpDir;
      started.environment.onExit(() => void rm(folder, { recursive: true, force: true }));
      return { ok: true, environment: started.environment, credentialsExpireAtMs: credentials.expiresAtMs };
    } catch (error) {
      if (tmpDir !== undefined) await rm(tmpDir, { recursive: true, force: true });
      const errorMessage = error instanceof Error ? error.message : String(error);
      deps.logger.warn('a function environment could not start', { functionName: target.functionName, error: errorMessage });
      return { ok: false, errorType: 'Runtime.Unknown', errorMessage, payload: Buffer.from(JSON.stringify({ errorType: 'Runtime.Unknown', errorMessage })), logs: '' };
    }
  };
}
