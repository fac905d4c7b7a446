/**
 * The hook's defaults. SageMaker saves tensors every 500 steps; Kennel's jobs are shorter (the
 * reference job is about 105 steps an epoch), so every 100. Its profiler samples the system
 * every 500 ms, as SageMaker's ProfilingIntervalInMilliseconds does by default.
 */
export const DEFAULT_SAVE_INTERVAL = 100;
export const DEFAULT_PROFILING_INTERVAL_MS = 500;
/** The values ProfilerConfig.ProfilingIntervalInMilliseconds may take, as on SageMaker. */
export const PROFILING_INTERVALS_MS: readonly number[] = [100, 200, 500, 1000, 5000, 60000];
