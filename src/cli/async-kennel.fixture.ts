/**
 * A Kennel server for control/async-invocations.e2e.test.ts, which kills it with SIGKILL: what `kennel up`
 * starts, on $KENNEL_HOME and a free port, with a fast async retry timing so that throttled events
 * come back within a fifth of a second instead of Lambda's seconds to minutes. Prints
 * "Kennel listening on <url>" then "Ready."; SIGTERM stops it cleanly.
 *
 *   node --import tsx src/cli/async-kennel.fixture.ts
 */
import { startKennel } from './start.ts';
import { createLogger } from '../core/logger.ts';
import { resolveKennelHome } from '../store/state-dir.ts';

const FAST_ASYNC_TIMING = { functionErrorDelaysMs: [100, 200], throttleBaseMs: 50, throttleCapMs: 200 };

const kennel = await startKennel({
  home: resolveKennelHome(process.env),
  host: '127.0.0.1',
  port: 0,
  logger: createLogger('warn'),
  functions: { asyncTiming: FAST_ASYNC_TIMING },
});
process.once('SIGTERM', () => {
  void kennel.close().then(() => process.exit(0));
});
process.stdout.write(`Kennel listening on ${kennel.server.url}\nReady.\n`);
