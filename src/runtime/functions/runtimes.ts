/**
 * The Lambda runtimes Kennel runs. Every Node.js runtime runs on the Node.js
 * that runs Kennel, and every Python runtime on the one Python Kennel finds
 * (interpreters.ts): the identifier says which Lambda API the function
 * expects, not which interpreter build it gets.
 */
export const SUPPORTED_RUNTIMES = [
  'nodejs18.x',
  'nodejs20.x',
  'nodejs22.x',
  'python3.8',
  'python3.9',
  'python3.10',
  'python3.11',
  'python3.12',
  'python3.13',
] as const;

export type SupportedRuntime = (typeof SUPPORTED_RUNTIMES)[number];
export type RuntimeFamily = 'nodejs' | 'python';

export function isSupportedRuntime(runtime: string): runtime is SupportedRuntime {
  return (SUPPORTED_RUNTIMES as readonly string[]).includes(runtime);
}

/** Which bootstrap runs `runtime`; undefined for a runtime Kennel does not run. */
export function runtimeFamily(runtime: string): RuntimeFamily | undefined {
  if (!isSupportedRuntime(runtime)) return undefined;
  return runtime.startsWith('nodejs') ? 'nodejs' : 'python';
}
