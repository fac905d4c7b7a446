import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The layering of DESIGN §2, enforced: imports run one way
 * (cli, api → control → runtime, store → domain → core) and there are no cycles.
 * runtime may use the store's interfaces (the embedding cache) but never the reverse.
 */
const ALLOWED: Record<string, string[]> = {
  core: [],
  domain: ['core'],
  store: ['domain', 'core'],
  runtime: ['store', 'domain', 'core'],
  control: ['runtime', 'store', 'domain', 'core'],
  api: ['control', 'runtime', 'store', 'domain', 'core'],
  cli: ['api', 'control', 'runtime', 'store', 'domain', 'core'],
  testing: ['cli', 'api', 'control', 'runtime', 'store', 'domain', 'core'],
};
/** Node modules that do I/O or reach the environment: not allowed in pure domain code. */
const IO_MODULES = /^(node:)?(fs|fs\/promises|net|http|https|dns|child_process|worker_threads|os|process|dgram|tls|cluster)$/;

const srcDir = dirname(fileURLToPath(import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map(
    (match) => match[1] ?? match[2],
  );
}

const layerOf = (file: string) => relative(srcDir, file).split('/')[0];
const files = sourceFiles(srcDir).filter((file) => !file.endsWith('.test.ts') && layerOf(file) in ALLOWED);

test('every import follows the layering of DESIGN §2', () => {
  const violations: string[] = [];
  for (const file of files) {
    const from = layerOf(file);
    for (const specifier of imports(file)) {
      if (!specifier.startsWith('.')) {
        if (from === 'domain' && IO_MODULES.test(specifier)) violations.push(`${relative(srcDir, file)} imports ${specifier}`);
        continue;
      }
      const to = layerOf(resolve(dirname(file), specifier));
      if (to !== from && !ALLOWED[from].includes(to)) violations.push(`${relative(srcDir, file)} (${from}) imports ${specifier} (${to})`);
    }
  }
  assert.deepEqual(violations, []);
});

test('there are no import cycles', () => {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    graph.set(
      file,
      imports(file)
        .filter((specifier) => specifier.startsWith('.'))
        .map((specifier) => resolve(dirname(file), specifier)),
    );
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const cycles: string[] = [];
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'visiting') {
      cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(srcDir, f)).join(' → '));
      return;
    }
    state.set(file, 'visiting');
    for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
    state.set(file, 'done');
  };
  for (const file of graph.keys()) visit(file, []);
  assert.deepEqual(cycles, []);
});

/** DESIGN §2's folders: a new one is a decision to write down there first, not something to slip in. */
const KNOWN_FOLDERS: Record<string, string[] | undefined> = {
  domain: ['data', 'training', 'tuning', 'debugger', 'serving', 'functions', 'iam'],
};

test('every folder under src/ is a layer of DESIGN §2, and domain/ has only its named parts', () => {
  const topLevel = readdirSync(srcDir, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  assert.deepEqual(topLevel.filter((name) => !(name in ALLOWED)), [], 'unknown layers');
  for (const [layer, known] of Object.entries(KNOWN_FOLDERS)) {
    const folders = readdirSync(join(srcDir, layer), { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    assert.deepEqual(folders.filter((name) => !known!.includes(name)), [], `unknown folders in ${layer}/`);
  }
});

test('domain/ takes time and randomness as arguments: no Date.now, new Date() or Math.random', () => {
  const impure = /\bDate\.now\s*\(|\bnew Date\s*\(\s*\)|\bMath\.random\s*\(/;
  const offenders = files
    .filter((file) => layerOf(file) === 'domain')
    .flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, index) => (impure.test(line) ? [`${relative(srcDir, file)}:${index + 1}: ${line.trim()}`] : [])),
    );
  assert.deepEqual(offenders, []);
});
