import type { BoundMember, MessageBindings } from './rest-json-model.ts';
import { getShape, type Shape, type ServiceModel, type ShapeRef, type TimestampFormat } from './service-model.ts';
import { awsMemberName, formatViolations, jsonTypeProblem, validateInput, type ShapeViolation, type ValidationOptions } from './shape-validator.ts';

/**
 * Reads a REST-JSON request into an operation's input: URI labels
 * (percent-decoded), query parameters and headers (read by their member's
 * type: numbers, booleans, timestamps, lists), prefixed-header maps, and the
 * body, either a JSON object of the remaining members or, when the input names
 * a payload member, that member alone (a blob payload is the raw bytes).
 *
 * Everything is first put in its JSON form and checked by the shape validator,
 * as the JSON protocol's bodies are; only then are blobs turned into Buffers
 * and timestamps into Dates, which is what handlers receive.
 */

export interface RestRequestParts {
  /** By label name, the path segment(s) as sent, still percent-encoded. */
  labels: Readonly<Record<string, string>>;
  query: URLSearchParams;
  headers: Headers;
  body: Uint8Array;
}

export type RestInputOutcome =
  | { ok: true; input: Record<string, unknown> }
  /** The body is not JSON, not an object, or a member has the wrong JSON type. */
  | { ok: false; kind: 'unreadable'; message: string }
  /** A value the model's constraints refuse, or a label, query parameter or header that does not read as its member's type. */
  | { ok: false; kind: 'invalid'; message: string };

type Read = { ok: true; value: unknown } | { ok: false; violation: ShapeViolation };

/** Where an unmarked timestamp travels in each place, as the REST protocols define it. */
const DEFAULT_TEXT_TIMESTAMP: Record<'uri' | 'querystring' | 'header', TimestampFormat> = { uri: 'iso8601', querystring: 'iso8601', header: 'rfc822' };

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function readRestJsonInput(
  model: ServiceModel,
  inputShape: string | undefined,
  bindings: MessageBindings,
  request: RestRequestParts,
  options: ValidationOptions = {},
): RestInputOutcome {
  const wire: Record<string, unknown> = {};
  const misread: ShapeViolation[] = [];
  const put = (member: BoundMember, read: Read) => {
    if (read.ok) wire[member.name] = read.value;
    else misread.push(read.violation);
  };

  for (const member of bindings.labels) {
    const raw = request.labels[member.wireName];
    if (raw === undefined) continue;
    let text: string;
    try {
      text = decodeURIComponent(raw);
    } catch {
      misread.push(violation(member, raw, 'Member must be percent-encoded UTF-8'));
      continue;
    }
    put(member, readText(member, member.shape, member.ref, text, 'uri'));
  }
  for (const member of bindings.query) {
    const values = request.query.getAll(member.wireName);
    if (values.length === 0) continue;
    if (member.shape.type !== 'list') {
      put(member, readText(member, member.shape, member.ref, values[0]!, 'querystring'));
      continue;
    }
    put(member, readList(model, member, values, 'querystring'));
  }
  if (bindings.queryMap) wire[bindings.queryMap.name] = queryMap(model, bindings, request.query);
  for (const member of bindings.headers) {
    const value = request.headers.get(member.wireName);
    if (value === null) continue;
    put(member, member.shape.type === 'list' ? readList(model, member, splitHeaderList(model, member, value), 'header') : readHeader(member, value));
  }
  for (const member of bindings.headerMaps) {
    const prefix = member.wireName.toLowerCase();
    const entries: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      if (name.startsWith(prefix)) entries[name.slice(prefix.length)] = value;
    });
    if (Object.keys(entries).length > 0) wire[member.name] = entries;
  }
  if (misread.length > 0) return { ok: false, kind: 'invalid', message: formatViolations(misread) };

  const rawPayload = bindings.payload && isRawPayload(bindings.payload) ? bindings.payload : undefined;
  const body = readBody(bindings, request.body, wire);
  if (!body.ok) return body;
  // The validator reads blobs as base64 text, which a raw payload never was: it sees an empty stand-in, so that a
  // required payload counts as set, and its lengths are checked here on the bytes.
  if (rawPayload && request.body.byteLength > 0) wire[rawPayload.name] = '';

  if (inputShape !== undefined) {
    const outcome = validateInput(model, inputShape, wire, options);
    if (!outcome.ok && outcome.kind === 'serialization') {
      // Only the body can hold a value of the wrong JSON type: labels, query parameters and headers were read by their type above.
      return { ok: false, kind: 'unreadable', message: outcome.message };
    }
    let violations = outcome.ok ? [] : outcome.violations;
    let count = outcome.ok ? 0 : outcome.violationCount;
    if (rawPayload && request.body.byteLength > 0) {
      const standIn = violations.filter((found) => found.path === awsMemberName(rawPayload.name));
      violations = [...violations.filter((found) => !standIn.includes(found)), ...blobLengthViolations(rawPayload, request.body)];
      count += violations.length - (outcome.ok ? 0 : outcome.violations.length);
    }
    if (violations.length > 0) return { ok: false, kind: 'invalid', message: formatViolations(violations, count) };
  }

  const input = inputShape === undefined ? {} : (materialise(model, { shape: inputShape }, wire) as Record<string, unknown>);
  if (rawPayload && request.body.byteLength > 0) input[rawPayload.name] = Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength);
  return { ok: true, input };
}

/** A blob payload is the body's bytes as they are; any other payload is read as JSON (a structure) or text (a string). */
function isRawPayload(member: BoundMember): boolean {
  return member.shape.type === 'blob';
}

function readBody(bindings: MessageBindings, body: Uint8Array, wire: Record<string, unknown>): { ok: true } | Extract<RestInputOutcome, { kind: 'unreadable' }> {
  const payload = bindings.payload;
  if (payload && isRawPayload(payload)) return { ok: true };
  if (!payload && bindings.body.length === 0) return { ok: true };
  if (body.byteLength === 0) return { ok: true };
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return { ok: false, kind: 'unreadable', message: 'the request body is not valid UTF-8' };
  }
  if (payload && payload.shape.type === 'string') {
    wire[payload.name] = text;
    return { ok: true };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { ok: false, kind: 'unreadable', message: (error as Error).message };
  }
  if (payload) {
    // A JSON null is no payload at all, as an absent body is.
    if (parsed !== null) wire[payload.name] = parsed;
    return { ok: true };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, kind: 'unreadable', message: 'the request body must be a JSON object' };
  }
  const object = parsed as Record<string, unknown>;
  // Members that travel elsewhere (a label, a header) are not read from the body, even when a client puts them there too.
  for (const member of bindings.body) if (Object.hasOwn(object, member.name)) wire[member.name] = object[member.name];
  return { ok: true };
}

/** A raw blob payload's length constraints, on its bytes. */
function blobLengthViolations(payload: BoundMember, body: Uint8Array): ShapeViolation[] {
  if (payload.shape.type !== 'blob') return [];
  const found: ShapeViolation[] = [];
  const { min, max } = payload.shape;
  const shown = `(${body.byteLength} bytes)`;
  if (max !== undefined && body.byteLength > max) found.push(violation(payload, shown, `Member must have length less than or equal to ${max}`));
  if (min !== undefined && body.byteLength < min) found.push(violation(payload, shown, `Member must have length greater than or equal to ${min}`));
  return found;
}

function violation(member: BoundMember, value: unknown, constraint: string): ShapeViolation {
  return { path: awsMemberName(member.name), sdkPath: member.name, value, constraint };
}

function readList(model: ServiceModel, member: BoundMember, values: readonly string[], location: 'querystring' | 'header'): Read {
  if (member.shape.type !== 'list') throw new Error(`${member.name} is not a list`);
  const elementRef = member.shape.member;
  const elementShape = getShape(model, elementRef.shape);
  const elements: unknown[] = [];
  for (const text of values) {
    const read = readText(member, elementShape, elementRef, text, location);
    if (!read.ok) return read;
    elements.push(read.value);
  }
  return { ok: true, value: elements };
}

function readHeader(member: BoundMember, value: string): Read {
  if (member.ref.jsonvalue && member.shape.type === 'string') {
    const json = Buffer.from(value, 'base64').toString('utf8');
    try {
      JSON.parse(json);
    } catch {
      return { ok: false, violation: violation(member, value, 'Member must be base64-encoded JSON') };
    }
    return { ok: true, value: json };
  }
  return readText(member, member.shape, member.ref, value, 'header');
}

/**
 * A label, query parameter or header value in the JSON form the shape
 * validator reads: numbers and booleans as such, timestamps as epoch seconds
 * unless their shape names a string format, blobs still base64.
 */
function readText(member: BoundMember, shape: Shape, ref: ShapeRef, text: string, location: 'uri' | 'querystring' | 'header'): Read {
  const wrong = (expected: string): Read => ({ ok: false, violation: violation(member, text, `Member must be ${expected}`) });
  switch (shape.type) {
    case 'string':
      return { ok: true, value: text };
    case 'blob':
      return jsonTypeProblem(shape, ref, text) ? wrong('base64-encoded bytes') : { ok: true, value: text };
    case 'integer':
    case 'long': {
      const value = /^[+-]?\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
      const inRange = shape.type === 'integer' ? value >= -(2 ** 31) && value <= 2 ** 31 - 1 : Number.isSafeInteger(value);
      return Number.isInteger(value) && inRange ? { ok: true, value } : wrong(shape.type === 'integer' ? 'a 32-bit integer' : 'an integer');
    }
    case 'float':
    case 'double': {
      if (text === 'NaN') return { ok: true, value: Number.NaN };
      const value = text.trim() === '' ? Number.NaN : Number(text);
      return Number.isNaN(value) ? wrong('a number') : { ok: true, value };
    }
    case 'boolean':
      return text === 'true' || text === 'false' ? { ok: true, value: text === 'true' } : wrong('true or false');
    case 'timestamp': {
      const declared = ref.timestampFormat ?? shape.timestampFormat;
      const format = declared ?? DEFAULT_TEXT_TIMESTAMP[location];
      const ms = format === 'unixTimestamp' ? (text.trim() === '' ? Number.NaN : Number(text) * 1000) : Date.parse(text);
      if (Number.isNaN(ms)) return wrong(format === 'unixTimestamp' ? 'a timestamp in seconds since the epoch' : format === 'rfc822' ? 'an HTTP date' : 'an ISO 8601 timestamp');
      return { ok: true, value: declared === undefined || declared === 'unixTimestamp' ? ms / 1000 : new Date(ms).toISOString() };
    }
    default:
      throw new Error(`${member.name}: a ${shape.type} cannot travel outside the body`);
  }
}

/** Every query parameter no other member names, as a map of strings or of lists of strings. */
function queryMap(model: ServiceModel, bindings: MessageBindings, query: URLSearchParams): Record<string, unknown> {
  const member = bindings.queryMap!;
  if (member.shape.type !== 'map') throw new Error(`${member.name} is not a map`);
  const named = new Set(bindings.query.map((bound) => bound.wireName));
  const valuesAreLists = getShape(model, member.shape.value.shape).type === 'list';
  const map: Record<string, unknown> = {};
  for (const name of new Set(query.keys())) {
    if (named.has(name)) continue;
    map[name] = valuesAreLists ? query.getAll(name) : query.get(name);
  }
  return map;
}

/**
 * A list header: comma-separated, with elements that hold a comma or a quote
 * in double quotes. HTTP dates hold a comma of their own ("Mon, 16 Dec 2019
 * 23:48:18 GMT"), so a list of them is split every second comma.
 */
function splitHeaderList(model: ServiceModel, member: BoundMember, value: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let index = 0; index < value.length; index++) {
    const char = value[index]!;
    if (quoted && char === '\\' && index + 1 < value.length) current += value[++index];
    else if (char === '"') quoted = !quoted;
    else if (char === ',' && !quoted) {
      parts.push(current.trim());
      current = '';
    } else current += char;
  }
  parts.push(current.trim());
  if (member.shape.type !== 'list') return parts;
  const element = getShape(model, member.shape.member.shape);
  const format = member.shape.member.timestampFormat ?? (element.type === 'timestamp' ? element.timestampFormat : undefined);
  if (element.type !== 'timestamp' || (format ?? 'rfc822') !== 'rfc822') return parts;
  const dates: string[] = [];
  for (let index = 0; index < parts.length; index += 2) dates.push(`${parts[index]}, ${parts[index + 1] ?? ''}`.trim());
  return dates;
}

/** A validated JSON-form value as handlers receive it: blobs as Buffers, timestamps as Dates. */
function materialise(model: ServiceModel, ref: ShapeRef, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  const shape = getShape(model, ref.shape);
  switch (shape.type) {
    case 'blob':
      return Buffer.from(value as string, 'base64');
    case 'timestamp':
      return typeof value === 'number' ? new Date(value * 1000) : new Date(Date.parse(value as string));
    case 'structure': {
      const result: Record<string, unknown> = {};
      for (const [name, inner] of Object.entries(value as Record<string, unknown>)) {
        const member = Object.hasOwn(shape.members, name) ? shape.members[name] : undefined;
        // Members the shape does not declare are dropped, as the validator ignored them.
        if (member && inner !== null && inner !== undefined) result[name] = materialise(model, member, inner);
      }
      return result;
    }
    case 'list':
      return (value as unknown[]).map((element) => materialise(model, shape.member, element));
    case 'map':
      return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([key, inner]) => [key, materialise(model, shape.value, inner)]));
    default:
      return value;
  }
}
