// `npm run bench -- NAME [args]`: runs bench/NAME/index.ts.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const [name, ...args] = process.argv.slice(2);
const available = readdirSync(join(root, 'bench'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(root, 'bench', entry.name, 'index.ts')))
  .map((entry) => entry.name);

if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name>\navailable: ${available.join(', ') || '(none)'}`);
  process.exit(2);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench', name, 'index.ts'), ...args], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
