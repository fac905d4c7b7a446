// `npm test`: type-check, then run every *.test.ts under src/ with node's test runner.
// Node 20's runner does not expand globs, so the file list is built here.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function findTests(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findTests(path));
    else if (entry.name.endsWith('.test.ts')) found.push(relative(root, path));
  }
  return found.sort();
}

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const only = process.argv.slice(2);
if (only.length === 0) run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', root]);
const files = only.length > 0 ? only : findTests(join(root, 'src'));
// TAP for the whole log, then a list of what failed at its very end.
const reporters = [
  '--test-reporter=tap', '--test-reporter-destination=stdout',
  `--test-reporter=${join(root, 'scripts/failure-summary.mjs')}`, '--test-reporter-destination=stdout',
];
run(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...reporters, ...files]);
