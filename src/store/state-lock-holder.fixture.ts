/**
 * A child process for state-lock.test.ts: takes the state lock on the folder
 * given as its argument, prints "locked", and holds it until it is killed.
 */
import { acquireStateLock } from './state-lock.ts';

const home = process.argv[2];
if (home === undefined) throw new Error('usage: state-lock-holder.fixture.ts <home>');
const lock = acquireStateLock(home);
process.stdout.write('locked\n');
// Referenced from a live timer, the lock (and its connection) is never garbage-collected.
setInterval(() => lock, 60_000);
