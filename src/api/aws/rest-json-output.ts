import type { BoundMember, MessageBindings } from './rest-json-model.ts';
import { getShape, type Shape, type ShapeRef, type ServiceModel, type TimestampFormat } from './service-model.ts';

/**
 * Writes an operation's output as a REST-JSON response: members bound to a
 * header become headers, a prefixed-header map becomes one header per entry,
 * a `statusCode` member becomes the status (otherwise the operation's
 * `http.responseCode`, or 200); a payload member is the whole body (a blob
 * raw, a structure as its JSON), and otherwise the remaining members are the
 * JSON body. Only modelled members go on the wire; unset ones are left out.
 *
 * Handlers give blobs as Buffers/Uint8Arrays (or strings, sent as UTF-8) and
 * timestamps as Dates, epoch-second numbers or date strings; each is written
 * in its place's format: epoch seconds in the body, HTTP dates in headers,
 * unless the model names another.
 */

export interface EncodedOutput {
  status: number;
  headers: Record<string, string>;
  /** Absent for an empty body. */
  body?: Uint8Array | string;
  contentType?: string;
}

/** Statuses whose responses never have a body. */
const NO_BODY = new Set([204, 205, 304]);

/** A blob payload's content type; what Lambda's Invoke answers with, whatever the function returned. */
const BLOB_PAYLOAD_CONTENT_TYPE = 'application/json';

export function encodeRestJsonOutput(model: ServiceModel, bindings: MessageBindings, responseCode: number | undefined, output: unknown): EncodedOutput {
  const values = isObject(output) ? output : {};
  const statusValue = bindings.statusCode ? values[bindings.statusCode.name] : undefined;
  const status = typeof statusValue === 'number' && Number.isInteger(statusValue) ? statusValue : (responseCode ?? 200);
  const headers: Record<string, string> = {};
  for (const member of bindings.headers) {
    const value = values[member.name];
    if (value !== undefined && value !== null) headers[member.wireName] = headerValue(model, member, value);
  }
  for (const member of bindings.headerMaps) {
    const map = values[member.name];
    if (isObject(map)) for (const [key, value] of Object.entries(map)) if (value !== undefined && value !== null) headers[`${member.wireName}${key}`] = String(value);
  }
  if (NO_BODY.has(status)) return { status, headers };
  const payload = bindings.payload;
  if (payload) {
    const value = values[payload.name];
    if (value === undefined || value === null) return { status, headers };
    if (payload.shape.type === 'blob') return { status, headers, body: bytes(value), contentType: BLOB_PAYLOAD_CONTENT_TYPE };
    if (payload.shape.type === 'string') return { status, headers, body: String(value), contentType: 'text/plain' };
    return { status, headers, body: JSON.stringify(jsonValue(model, payload.ref, value)), contentType: 'application/json' };
  }
  if (bindings.body.length === 0) return { status, headers };
  const body: Record<string, unknown> = {};
  for (const member of bindings.body) {
    const value = values[member.name];
    if (value !== undefined && value !== null) body[member.name] = jsonValue(model, member.ref, value);
  }
  return { status, headers, body: JSON.stringify(body), contentType: 'application/json' };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function bytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  throw new Error(`a blob must be a Buffer, a Uint8Array or a string, not ${typeof value}`);
}

function base64(value: unknown): string {
  const data = bytes(value);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
}

function millis(value: unknown): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value * 1000 : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new Error(`a timestamp must be a Date, epoch seconds or a date string, not ${String(value)}`);
  return ms;
}

function timestamp(shape: Shape, ref: ShapeRef, value: unknown, fallback: TimestampFormat): string | number {
  const format = ref.timestampFormat ?? (shape.type === 'timestamp' ? shape.timestampFormat : undefined) ?? fallback;
  const ms = millis(value);
  if (format === 'iso8601') return new Date(ms).toISOString();
  if (format === 'rfc822') return new Date(ms).toUTCString();
  return ms / 1000;
}

/** JSON has no NaN or infinities: the AWS protocols send them as strings. */
function number(value: number): number | string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  return value;
}

function jsonValue(model: ServiceModel, ref: ShapeRef, value: unknown): unknown {
  const shape = getShape(model, ref.shape);
  switch (shape.type) {
    case 'structure': {
      const object: Record<string, unknown> = {};
      for (const [name, member] of Object.entries(shape.members)) {
        const inner = (value as Record<string, unknown>)[name];
        if (inner !== undefined && inner !== null) object[name] = jsonValue(model, member, inner);
      }
      return object;
    }
    case 'list':
      return (value as unknown[]).map((element) => jsonValue(model, shape.member, element));
    case 'map':
      return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([key, inner]) => [key, jsonValue(model, shape.value, inner)]));
    case 'blob':
      return base64(value);
    case 'timestamp':
      return timestamp(shape, ref, value, 'unixTimestamp');
    case 'float':
    case 'double':
      return number(value as number);
    default:
      return value;
  }
}

function headerValue(model: ServiceModel, member: BoundMember, value: unknown): string {
  if (member.shape.type === 'list') {
    const elementRef = member.shape.member;
    const element = getShape(model, elementRef.shape);
    return (value as unknown[])
      .map((item) => {
        const text = headerText(element, elementRef, item, false);
        // Elements that hold the separator are quoted, except HTTP dates, whose comma every client expects.
        return element.type === 'string' && /[",]/.test(text) ? `"${text.replace(/["\\]/g, '\\$&')}"` : text;
      })
      .join(', ');
  }
  return headerText(member.shape, member.ref, value, member.ref.jsonvalue === true);
}

function headerText(shape: Shape, ref: ShapeRef, value: unknown, jsonvalue: boolean): string {
  switch (shape.type) {
    case 'timestamp':
      return String(timestamp(shape, ref, value, 'rfc822'));
    case 'blob':
      return base64(value);
    case 'float':
    case 'double':
      return String(number(value as number));
    case 'string':
      return jsonvalue ? Buffer.from(String(value), 'utf8').toString('base64') : String(value);
    default:
      return String(value);
  }
}
