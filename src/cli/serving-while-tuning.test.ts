import { classified } from '../testing/serving.ts';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deploySmallClassifier, imageClassifierTuningJob, startTestKennel, type TestKennel } from '../testing/test-kennel.ts';

/**
 * Trials train in worker threads and report to the server's thread in batches,
 * so a tuning job never holds up the server: the endpoint and /ping keep
 * answering while its trials train.
 */
describe('serving while a tuning job trains', () => {
  let test: TestKennel;
  before(async () => {
    test = await startTestKennel();
    await deploySmallClassifier(test);
  });
  after(() => test.close());

  it('answers invocations and /ping while trials are training', async () => {
    const { platform } = test.kennel;
    const imagesDir = join(test.home, 'toy-images');
    const classDir = join(imagesDir, 'test', (await readdir(join(imagesDir, 'test')))[0]);
    const jpeg = await readFile(join(classDir, (await readdir(classDir))[0]));

    await platform.tuningJobs.create(
      imageClassifierTuningJob(
        'busy',
        imagesDir,
        // Some seconds of epochs per trial on the small dataset, hundreds of them a second.
        { epochs: '2000', hidden_units: '256', batch_size: '16' },
        { maxParallelTrainingJobs: 2, randomSeed: 5 },
      ),
    );
    const training = () => {
      const job = platform.tuningJobs.describe('busy');
      return job.trials.some((trial) => platform.trainingJobs.describe(trial.trainingJobName).status === 'InProgress');
    };
    while (!training()) {
      assert.equal(platform.tuningJobs.describe('busy').status, 'InProgress', 'the tuning job ended before its trials were seen training');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    let answeredWhileTraining = 0;
    while (answeredWhileTraining < 20) {
      assert.ok(training(), `the trials finished after only ${answeredWhileTraining} answers`);
      const [ping, answer] = await Promise.all([fetch(`${test.url}/ping`), platform.endpoints.invoke('toy', { contentType: 'image/jpeg', body: jpeg })]);
      assert.equal(ping.status, 200);
      assert.equal(classified(answer).predictions.length, 4);
      if (training()) answeredWhileTraining++;
    }
    platform.tuningJobs.stop('busy');
  });
});
