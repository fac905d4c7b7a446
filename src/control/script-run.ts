import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DEFAULT_REGION, sageMakerArn } from '../domain/iam/arn.ts';
import { threadBudget } from '../domain/training/instance-types.ts';
import { failureReason, scriptArguments, scriptEnvironment } from '../domain/training/script-mode.ts';
import type { ScriptSpec, TrainingJob } from '../domain/training/training-job.ts';
import { prepareScriptJobFolder } from '../runtime/script-mode/job-folder.ts';
import { packModelDir } from '../runtime/script-mode/model-output.ts';
import { runScript, type ScriptExit } from '../runtime/script-mode/script-process.ts';
import { locateProgram, unpackSourceDir } from '../runtime/script-mode/source-code.ts';
import { TraceFollower } from '../runtime/training/trace-files.ts';
import { JobDebugger } from './job-debugger.ts';
import { childUri, writeObject } from './object-locations.ts';
import { ABORTED, stoppedStatus, type RunContext } from './run-context.ts';
import { scriptChannelSource, scriptSourceCode } from './script-data.ts';

export type ScriptJob = TrainingJob & { spec: ScriptSpec };

/** How often a running script's job is checked for a stop request (StopTrainingJob, MaxRuntimeInSeconds, early stopping). */
const STOP_POLL_MS = 250;
/** The file a script appends its debugger records to (see domain/debugger/trace-protocol.ts), under output/tensors/, DebugHookConfig.LocalPath's default... */
const TRACE_FILE = 'kennel-trace.jsonl';
/** ...named by this variable. */
export const TRACE_VARIABLE = 'KENNEL_DEBUGGER_TRACE';
/** A script writing a bad trace is told about its first lines in the job's log, not about every one. */
const MAX_REPORTED_TRACE_ERRORS = 10;
/** FailureReason quotes this many of the script's last lines. */
const TAIL_LINES = 20;

/**
 * Script mode: lays out the job's /opt/ml folder (channels copied in, the code
 * unpacked), runs the entry point with this machine's interpreter under the
 * SageMaker training contract, and streams its output into the job's log,
 * where MetricDefinitions are scraped. Exit 0 uploads SM_MODEL_DIR as
 * model.tar.gz (and SM_OUTPUT_DATA_DIR as output.tar.gz); a non-zero exit
 * fails the job with the last lines of the output. A stop request sends
 * SIGTERM and, as SageMaker does, keeps what the script saved before it exits.
 * After a crash the job runs again from the start, in a fresh folder.
 */
export async function runScriptJob(run: RunContext, job: ScriptJob): Promise<void> {
  const { deps, jobName, signal } = run;
  const { spec } = job;
  const root = join(deps.jobsDir, jobName);
  await rm(root, { recursive: true, force: true });
  try {
    const channels = await Promise.all(
      spec.channels.map(async (channel) => ({
        name: channel.channelName,
        ...(channel.contentType !== undefined ? { contentType: channel.contentType } : {}),
        source: await scriptChannelSource(deps, channel),
      })),
    );
    const folder = await prepareScriptJobFolder(root, { hyperParameters: spec.hyperParameters, instanceType: spec.instanceType, channels });
    await unpackSourceDir(await scriptSourceCode(deps, spec.script.submitDirectory), folder.paths.codeDir);
    const program = await locateProgram(folder.paths.codeDir, spec.script.program);
    if (signal.aborted) throw ABORTED;

    const contract = scriptEnvironment({
      jobName,
      jobArn: sageMakerArn('training-job', jobName),
      region: DEFAULT_REGION,
      image: { framework: spec.script.framework, interpreter: spec.script.interpreter },
      hyperParameters: spec.hyperParameters,
      channels: folder.channels,
      paths: folder.paths,
      instanceType: spec.instanceType,
      numCpus: threadBudget(spec.instanceType, deps.cores),
    });
    const debug = await JobDebugger.open(run, job);
    const tracePath = join(folder.paths.outputDir, 'tensors', TRACE_FILE);
    await mkdir(dirname(tracePath), { recursive: true });
    const follower = new TraceFollower(tracePath);
    let rejectedLines = 0;
    const readTrace = async () => {
      const { records, rejected } = await follower.read();
      debug.record(records);
      for (const { line, error } of rejected) {
        if (++rejectedLines <= MAX_REPORTED_TRACE_ERRORS) run.log.line(`Debugger trace line ${line} ignored: ${error}`);
      }
      return records.length + rejected.length;
    };
    const { saveInterval, saveFirstSteps, saveFirstEvery } = debug.settings;
    const debuggerEnvironment = {
      [TRACE_VARIABLE]: tracePath,
      ...(saveInterval !== undefined
        ? { KENNEL_DEBUGGER_SAVE_INTERVAL: String(saveInterval), KENNEL_DEBUGGER_SAVE_FIRST_STEPS: String(saveFirstSteps), KENNEL_DEBUGGER_SAVE_FIRST_EVERY: String(saveFirstEvery) }
        : {}),
    };
    const args = scriptArguments(spec.hyperParameters);
    run.enter('Training', `Running ${spec.script.program} with ${spec.script.interpreter === 'node' ? 'Node.js' : 'Python'}`);
    run.log.line(`Invoking script with the following command: ${spec.script.interpreter} ${spec.script.program} ${args.join(' ')}`);

    const tail: string[] = [];
    const stop = new AbortController();
    const poll = setInterval(() => {
      if (run.stopRequested()) stop.abort();
    }, STOP_POLL_MS);
    let exit: ScriptExit;
    try {
      exit = await runScript({
        interpreter: spec.script.interpreter,
        program,
        args,
        // The contract's variables win over the job's Environment, as the toolkit sets them last.
        env: { ...spec.environment, ...contract, ...debuggerEnvironment },
        cwd: folder.paths.codeDir,
        signal: stop.signal,
        killSignal: signal,
        onSpawn: (pid) => debug.start(pid, { processGroup: true, poll: readTrace }),
        onLine: (_stream, line) => {
          run.log.line(line);
          tail.push(line);
          if (tail.length > TAIL_LINES) tail.shift();
        },
      });
    } finally {
      clearInterval(poll);
      // The rules have their last look before the job ends; an abandoned run (shutdown) runs again from the start.
      if (signal.aborted) await debug.abandon();
      else await debug.close();
    }
    if (signal.aborted) throw ABORTED;

    const current = deps.store.trainingJobs.get(jobName)!;
    const stopped = exit.stoppedBy !== undefined || current.stopRequest !== undefined;
    if (!stopped && exit.exitCode !== 0) {
      const reason = failureReason({ exitCode: exit.exitCode, signal: exit.signal, command: [spec.script.interpreter, spec.script.program, ...args], lastLines: tail });
      await writeFile(folder.paths.failureFile, reason).catch(() => {});
      await run.end('Failed', reason, { status: 'Failed', failureReason: reason, endedAtMs: deps.clock.now() });
      return;
    }
    const missing = run.log.objectiveNeverReported(spec);
    if (!stopped && missing) {
      await run.end('Failed', missing, { status: 'Failed', failureReason: missing, endedAtMs: deps.clock.now() });
      return;
    }

    run.enter('Uploading', 'Uploading the model folder (SM_MODEL_DIR) as model.tar.gz');
    const model = await packModelDir(folder.paths.modelDir);
    for (const skipped of model.skipped) run.log.line(`Not packed into model.tar.gz: ${skipped.path} (${skipped.reason})`);
    const modelArtifactsUri = childUri(spec.outputPath, jobName, 'output', 'model.tar.gz');
    await writeObject(deps, modelArtifactsUri, model.archive, 'application/gzip');
    const output = await packModelDir(folder.paths.outputDataDir);
    if (output.files.length > 0) await writeObject(deps, childUri(spec.outputPath, jobName, 'output', 'output.tar.gz'), output.archive, 'application/gzip');

    const ending = stopped ? stoppedStatus(current) : 'Completed';
    const message =
      ending === 'Completed'
        ? 'Training job completed'
        : `${ending === 'MaxRuntimeExceeded' ? 'Stopped at StoppingCondition.MaxRuntimeInSeconds' : 'Stopped on request'}; what the script saved to SM_MODEL_DIR was uploaded`;
    await run.end(ending, message, {
      status: ending === 'Completed' ? 'Completed' : 'Stopped',
      modelArtifactsUri,
      endedAtMs: deps.clock.now(),
    });
  } finally {
    await run.log.close();
    await rm(root, { recursive: true, force: true }).catch(() => {});
  }
}
