import { Command, CommanderError, Option } from 'commander';
import { DomainError } from '../core/errors.ts';
import { registerApply } from './apply.ts';
import { registerDatasets } from './datasets.ts';
import { registerEndpointConfigs } from './endpoint-configs.ts';
import { registerEndpoints } from './endpoints.ts';
import { registerExamples } from './examples.ts';
import { registerFunctions } from './functions.ts';
import { registerIam } from './iam.ts';
import { registerLoad } from './load.ts';
import { registerModels } from './models.ts';
import { registerObjects } from './objects.ts';
import { registerTrainingJobs } from './training-jobs.ts';
import { registerTuningJobs } from './tuning-jobs.ts';
import { registerUp } from './up.ts';

// A reader that went away (`kennel ... | head`, a closed terminal) is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

const program = new Command('kennel')
  .description('Kennel: train, tune and serve image classifiers on one machine, with AWS-compatible APIs')
  .option('--home <dir>', 'state folder (default $KENNEL_HOME or ./.kennel)')
  .option('--endpoint-url <url>', 'Kennel server URL (default $KENNEL_ENDPOINT_URL or http://127.0.0.1:8080)')
  .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
  .showHelpAfterError()
  .exitOverride();

registerUp(program);
registerDatasets(program);
registerTrainingJobs(program);
registerTuningJobs(program);
registerModels(program);
registerEndpointConfigs(program);
registerEndpoints(program);
registerFunctions(program);
registerLoad(program);
registerObjects(program);
registerIam(program);
registerApply(program);
registerExamples(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has printed the usage problem (or the help) already.
    process.exit(error.exitCode);
  }
  const message = error instanceof DomainError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`kennel: ${message}\n`);
  process.exit(error instanceof DomainError && error.code === 'ValidationError' ? 2 : 1);
}
