// `node scripts/service-models.js [--check]`: writes src/api/aws/models/<service>.json, the part of
// botocore's service model that Kennel serves (the operations in manifest.json and every shape they
// reach), without documentation. The server reads these committed files, so it needs no Debian
// package at run time; `--check` fails when they no longer match what botocore would give.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const modelsDir = join(root, 'src/api/aws/models');
const botocoreData = process.env.BOTOCORE_DATA || '/usr/lib/python3/dist-packages/botocore/data';
const DOC_FIELDS = new Set(['documentation', 'documentationUrl']);

function fail(message) {
  console.error(`service-models: ${message}`);
  process.exit(1);
}

function withoutDocs(node) {
  return Object.fromEntries(Object.entries(node).filter(([key]) => !DOC_FIELDS.has(key)));
}

/** Strips documentation from a shape and from the member references it holds. */
function cleanShape(shape) {
  const clean = withoutDocs(shape);
  if (shape.members) clean.members = Object.fromEntries(Object.entries(shape.members).map(([name, ref]) => [name, withoutDocs(ref)]));
  for (const field of ['member', 'key', 'value']) if (shape[field]) clean[field] = withoutDocs(shape[field]);
  return clean;
}

function cleanOperation(operation) {
  const clean = withoutDocs(operation);
  for (const field of ['input', 'output']) if (operation[field]) clean[field] = withoutDocs(operation[field]);
  if (operation.errors) clean.errors = operation.errors.map(withoutDocs);
  return clean;
}

function shapeReferences(shape) {
  const refs = Object.values(shape.members ?? {});
  for (const field of ['member', 'key', 'value']) if (shape[field]) refs.push(shape[field]);
  return refs.map((ref) => ref.shape);
}

function subset(model, operationNames, source) {
  const operations = {};
  const pending = [];
  for (const name of operationNames) {
    const operation = model.operations[name];
    if (!operation) fail(`${source} has no operation ${name} (listed in manifest.json)`);
    operations[name] = cleanOperation(operation);
    for (const ref of [operation.input, operation.output, ...(operation.errors ?? [])]) if (ref) pending.push(ref.shape);
  }
  const shapes = {};
  while (pending.length > 0) {
    const name = pending.pop();
    if (name in shapes) continue;
    const shape = model.shapes[name];
    if (!shape) fail(`${source} refers to shape ${name} but does not define it`);
    shapes[name] = cleanShape(shape);
    pending.push(...shapeReferences(shape));
  }
  return { metadata: model.metadata, operations, shapes };
}

/**
 * Members that newer releases of the service model have and Debian's botocore
 * does not yet (manifest `newerMembers`: the shapes they need, and where they
 * go). A model that already has a member keeps its own definition.
 */
function withNewerMembers(model, newer) {
  if (!newer) return model;
  for (const [name, shape] of Object.entries(newer.shapes ?? {})) model.shapes[name] ??= shape;
  for (const [parent, members] of Object.entries(newer.members ?? {})) {
    const shape = model.shapes[parent];
    if (!shape?.members) fail(`newerMembers: ${parent} is not a structure the served operations reach`);
    for (const [member, ref] of Object.entries(members)) shape.members[member] ??= ref;
  }
  return model;
}

/**
 * Enum values that newer releases of the service model have and Debian's
 * botocore does not yet (manifest `newerEnumValues`: per enum shape, the values
 * to accept). They go after botocore's own, which keep their order; a value
 * botocore already lists is not repeated.
 */
function withNewerEnumValues(model, newer) {
  if (!newer) return model;
  for (const [name, values] of Object.entries(newer.values ?? {})) {
    const shape = model.shapes[name];
    if (!Array.isArray(shape?.enum)) fail(`newerEnumValues: ${name} is not an enum shape the served operations reach`);
    for (const value of values) if (!shape.enum.includes(value)) shape.enum.push(value);
  }
  return model;
}

/** Object keys sorted at every depth; arrays keep their order (enums and `required` lists mean it). */
function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys(value[key])]),
  );
}

function generate(service, entry) {
  const source = join(botocoreData, entry.botocore, 'service-2.json');
  if (!existsSync(source)) {
    fail(
      `${source} not found. Install Debian's python3-botocore (apt-get install python3-botocore), ` +
        'or point BOTOCORE_DATA at a botocore/data folder that has it.',
    );
  }
  const model = JSON.parse(readFileSync(source, 'utf8'));
  const served = withNewerEnumValues(
    withNewerMembers(subset(model, entry.operations, `${entry.botocore}/service-2.json`), entry.newerMembers),
    entry.newerEnumValues,
  );
  return `${JSON.stringify(sortKeys(served), null, 2)}\n`;
}

const args = process.argv.slice(2);
if (args.some((arg) => arg !== '--check')) fail('usage: node scripts/service-models.js [--check]');
const check = args.includes('--check');
if (!existsSync(botocoreData)) {
  fail(`botocore's data folder ${botocoreData} does not exist: install python3-botocore (apt-get install python3-botocore), or set BOTOCORE_DATA.`);
}

const manifest = JSON.parse(readFileSync(join(modelsDir, 'manifest.json'), 'utf8'));
const stale = [];
for (const [service, entry] of Object.entries(manifest)) {
  const target = join(modelsDir, `${service}.json`);
  const text = generate(service, entry);
  if (!check) writeFileSync(target, text);
  else if (!existsSync(target) || readFileSync(target, 'utf8') !== text) stale.push(relative(root, target));
}
if (stale.length > 0) {
  fail(`${stale.join(', ')} differ${stale.length === 1 ? 's' : ''} from what ${botocoreData} generates: run node scripts/service-models.js`);
}
if (check) console.log(`service-models: ${Object.keys(manifest).length} model file(s) match ${botocoreData}`);
