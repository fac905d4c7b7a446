import { getShape, type ServiceModel, type Shape, type ShapeRef, type StructureShape } from './service-model.ts';
import { formatViolations, validateInput } from './shape-validator.ts';

/**
 * The input of a query-protocol request (IAM, STS), decoded from its form
 * parameters the way botocore's QuerySerializer and the JavaScript SDK write
 * them, then checked against the model by the same validator as JSON bodies, so
 * the messages are AWS's ("1 validation error detected: Value '' at 'userName'
 * failed to satisfy constraint: ...").
 */
export type QueryInput = { ok: true; input: Record<string, unknown> } | { ok: false; message: string };

export function readQueryInput(model: ServiceModel, shapeName: string, params: URLSearchParams): QueryInput {
  const input = decodeQueryInput(model, shapeName, params);
  const outcome = validateInput(model, shapeName, input, { timestampsAsDates: true });
  if (outcome.ok) return { ok: true, input };
  if (outcome.kind === 'serialization') return { ok: false, message: outcome.message };
  return { ok: false, message: formatViolations(outcome.violations, outcome.violationCount) };
}

/**
 * Structure members by name (or locationName), list elements numbered from 1
 * under `member` (directly under the list's name when flattened), map entries as
 * `entry.N.key` / `entry.N.value`, and an empty list or map as its bare name with
 * an empty value. Scalars take their shape's type: numbers and booleans from
 * their text, timestamps as Dates. A value that does not convert stays a string,
 * so the validator names it and what it should be; parameters the model does not
 * know are ignored, as AWS ignores them, and of a repeated parameter the first
 * counts.
 */
export function decodeQueryInput(model: ServiceModel, shapeName: string, params: URLSearchParams): Record<string, unknown> {
  const shape = getShape(model, shapeName);
  if (shape.type !== 'structure') throw new Error(`${shapeName} is not a structure: query inputs are`);
  return decodeStructure(model, shape, paramTree(params));
}

/** Parameter names split at their dots: `Tags.member.1.Key` is the path Tags → member → 1 → Key. */
interface ParamNode {
  value?: string;
  children: Map<string, ParamNode>;
}

function paramTree(params: URLSearchParams): ParamNode {
  const root: ParamNode = { children: new Map() };
  for (const [name, value] of params) {
    let node = root;
    for (const part of name.split('.')) {
      let child = node.children.get(part);
      if (!child) {
        child = { children: new Map() };
        node.children.set(part, child);
      }
      node = child;
    }
    node.value ??= value;
  }
  return root;
}

function decodeStructure(model: ServiceModel, shape: StructureShape, node: ParamNode): Record<string, unknown> {
  const decoded: Record<string, unknown> = {};
  for (const [member, ref] of Object.entries(shape.members)) {
    const child = wireNames(model, member, ref)
      .map((name) => node.children.get(name))
      .find((found) => found !== undefined);
    if (!child) continue;
    const value = decodeValue(model, ref, child);
    if (value !== undefined) decoded[member] = value;
  }
  return decoded;
}

/**
 * The parameter names a member may arrive under. botocore names a flattened list
 * after its element's locationName (SQS's `AttributeName.1`), the JavaScript SDK
 * after the member: both are accepted.
 */
function wireNames(model: ServiceModel, member: string, ref: ShapeRef): string[] {
  const name = ref.locationName ?? member;
  const shape = getShape(model, ref.shape);
  if (shape.type === 'list' && shape.flattened && shape.member.locationName && shape.member.locationName !== name) {
    return [shape.member.locationName, name];
  }
  return [name];
}

/** The value at `node`, or undefined when nothing of it was sent. */
function decodeValue(model: ServiceModel, ref: ShapeRef, node: ParamNode): unknown {
  const shape = getShape(model, ref.shape);
  switch (shape.type) {
    case 'structure':
      // A bare value where members belong is left for the validator to name.
      return node.children.size > 0 ? decodeStructure(model, shape, node) : node.value;
    case 'list': {
      const elements = numbered(shape.flattened ? node : node.children.get(shape.member.locationName ?? 'member'));
      if (elements.length === 0) return emptyCollection(node, []);
      // A position with nothing decodable is null, which the validator reports.
      return elements.map((element) => decodeValue(model, shape.member, element) ?? null);
    }
    case 'map': {
      const entries = numbered(shape.flattened ? node : node.children.get('entry'));
      if (entries.length === 0) return emptyCollection(node, {});
      const keyName = shape.key.locationName ?? 'key';
      const valueName = shape.value.locationName ?? 'value';
      const pairs: [string, unknown][] = [];
      for (const entry of entries) {
        const key = entry.children.get(keyName)?.value;
        const value = entry.children.get(valueName);
        if (key !== undefined) pairs.push([key, value ? (decodeValue(model, shape.value, value) ?? null) : null]);
      }
      // fromEntries defines own properties, so a key such as `__proto__` stays a key.
      return Object.fromEntries(pairs);
    }
    default:
      return node.value === undefined ? undefined : decodeScalar(shape, ref, node.value);
  }
}

/** Query clients send an empty list as `Name=`; any other bare value is the validator's to report. */
function emptyCollection(node: ParamNode, empty: unknown): unknown {
  return node.value === '' ? empty : node.value;
}

/** The children named 1, 2, ... in numeric order (gaps close up); other names are not positions. */
function numbered(node: ParamNode | undefined): ParamNode[] {
  if (!node) return [];
  return [...node.children.entries()]
    .filter(([position]) => /^[1-9][0-9]*$/.test(position))
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([, child]) => child);
}

const INTEGER = /^[+-]?[0-9]+$/;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})$/i;

function decodeScalar(shape: Shape, ref: ShapeRef, text: string): unknown {
  switch (shape.type) {
    case 'integer':
    case 'long':
      return INTEGER.test(text) ? Number(text) : text;
    case 'float':
    case 'double':
      return text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
    case 'boolean': {
      const lower = text.toLowerCase();
      return lower === 'true' ? true : lower === 'false' ? false : text;
    }
    case 'timestamp':
      return decodeTimestamp(ref.timestampFormat ?? shape.timestampFormat ?? 'iso8601', text);
    default:
      // Strings as they are; blobs stay base64 text, as JSON handlers receive them.
      return text;
  }
}

function decodeTimestamp(format: 'iso8601' | 'unixTimestamp' | 'rfc822', text: string): Date | string {
  let date: Date | undefined;
  if (format === 'iso8601' && ISO_8601.test(text)) date = new Date(text);
  else if (format === 'unixTimestamp' && text.trim() !== '' && Number.isFinite(Number(text))) date = new Date(Number(text) * 1000);
  else if (format === 'rfc822') date = new Date(text);
  return date && !Number.isNaN(date.getTime()) ? date : text;
}
