import { getOperation, getShape, type ServiceModel, type ShapeRef, type StructureShape, type TimestampFormat } from './service-model.ts';

/**
 * The XML documents of the query protocol, as botocore's QueryParser and the
 * JavaScript SDK read them: `<OpResponse xmlns><OpResult>members</OpResult>
 * <ResponseMetadata><RequestId/></ResponseMetadata></OpResponse>`, lists as
 * `<member>` elements, maps as `<entry><key/><value/></entry>`, timestamps in
 * ISO 8601. Members that are undefined (or null) are left out; a value of the
 * wrong type for its shape is a bug in the handler and throws.
 */

export interface QueryErrorBody {
  type: 'Sender' | 'Receiver';
  code: string;
  message: string;
}

export function queryResponseXml(model: ServiceModel, operationName: string, output: unknown, requestId: string): string {
  const operation = getOperation(model, operationName);
  let result = '';
  if (operation.output) {
    const members = structureContent(model, operation.output.shape, output ?? {}, operationName);
    const wrapper = operation.output.resultWrapper;
    result = wrapper ? `<${wrapper}>${members}</${wrapper}>` : members;
  }
  const root = `${operationName}Response`;
  const metadata = `<ResponseMetadata><RequestId>${escapeXml(requestId)}</RequestId></ResponseMetadata>`;
  return `<${root}${namespaceAttribute(model)}>${result}${metadata}</${root}>`;
}

export function queryErrorXml(model: ServiceModel, error: QueryErrorBody, requestId: string): string {
  const body = `<Type>${error.type}</Type><Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message>`;
  return `<ErrorResponse${namespaceAttribute(model)}><Error>${body}</Error><RequestId>${escapeXml(requestId)}</RequestId></ErrorResponse>`;
}

function namespaceAttribute(model: ServiceModel): string {
  const namespace = model.metadata.xmlNamespace;
  return namespace ? ` xmlns="${escapeXml(namespace)}"` : '';
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  // As references, so parsers neither normalise line ends nor trim them away.
  '\t': '&#x9;',
  '\n': '&#xA;',
  '\r': '&#xD;',
  '\u0085': '&#x85;',
  '\u2028': '&#x2028;',
};
/** Characters XML 1.0 cannot carry at all, not even as references: other C0 controls, lone surrogates, U+FFFE/U+FFFF. */
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function escapeXml(text: string): string {
  return text.replace(NOT_XML, '\uFFFD').replace(/[&<>"'\t\n\r\u0085\u2028]/g, (character) => ESCAPES[character]);
}

/** The elements of a structure's members, in the model's order. */
function structureContent(model: ServiceModel, shapeName: string, value: unknown, path: string): string {
  const shape = getShape(model, shapeName) as StructureShape;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw wrongType(path, shapeName, 'an object', value);
  const record = value as Record<string, unknown>;
  let xml = '';
  for (const [member, ref] of Object.entries(shape.members)) {
    const memberValue = Object.hasOwn(record, member) ? record[member] : undefined;
    if (memberValue !== undefined && memberValue !== null) xml += memberElements(model, member, ref, memberValue, `${path}.${member}`);
  }
  return xml;
}

/** A member as elements of its parent: one, or one per element when its list or map is flattened. */
function memberElements(model: ServiceModel, member: string, ref: ShapeRef, value: unknown, path: string): string {
  const shape = getShape(model, ref.shape);
  const name = ref.locationName ?? member;
  if (shape.type === 'list' && shape.flattened) return listContent(model, ref, value, path, shape.member.locationName ?? name);
  if (shape.type === 'map' && shape.flattened) return mapContent(model, ref, value, path, name);
  return `<${name}>${content(model, ref, value, path)}</${name}>`;
}

/** What goes between a value's tags. */
function content(model: ServiceModel, ref: ShapeRef, value: unknown, path: string): string {
  const shape = getShape(model, ref.shape);
  switch (shape.type) {
    case 'structure':
      return structureContent(model, ref.shape, value, path);
    case 'list':
      return listContent(model, ref, value, path, shape.member.locationName ?? 'member');
    case 'map':
      return mapContent(model, ref, value, path, 'entry');
    case 'string':
      if (typeof value !== 'string') throw wrongType(path, ref.shape, 'a string', value);
      return escapeXml(value);
    case 'boolean':
      if (typeof value !== 'boolean') throw wrongType(path, ref.shape, 'a boolean', value);
      return String(value);
    case 'integer':
    case 'long':
    case 'float':
    case 'double':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw wrongType(path, ref.shape, 'a number', value);
      return String(value);
    case 'timestamp':
      return timestampText(ref.timestampFormat ?? shape.timestampFormat ?? 'iso8601', value, path, ref.shape);
    case 'blob':
      if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
      if (typeof value !== 'string') throw wrongType(path, ref.shape, 'bytes or a base64 string', value);
      return escapeXml(value);
  }
}

/** One element named `elementName` per list element (`member`, or the list's own name when flattened). */
function listContent(model: ServiceModel, ref: ShapeRef, value: unknown, path: string, elementName: string): string {
  const shape = getShape(model, ref.shape);
  if (shape.type !== 'list') throw new Error(`${ref.shape} is not a list`);
  if (!Array.isArray(value)) throw wrongType(path, ref.shape, 'an array', value);
  return value
    .map((element, index) => {
      if (element === null || element === undefined) throw new Error(`${path}[${index}]: a list element of ${ref.shape} is ${String(element)}`);
      return `<${elementName}>${content(model, shape.member, element, `${path}[${index}]`)}</${elementName}>`;
    })
    .join('');
}

/** `<entry><key/><value/></entry>` per entry, named `entryName` (the map's own name when flattened). */
function mapContent(model: ServiceModel, ref: ShapeRef, value: unknown, path: string, entryName: string): string {
  const shape = getShape(model, ref.shape);
  if (shape.type !== 'map') throw new Error(`${ref.shape} is not a map`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw wrongType(path, ref.shape, 'an object', value);
  const keyName = shape.key.locationName ?? 'key';
  const valueName = shape.value.locationName ?? 'value';
  return Object.entries(value)
    .filter(([, entry]) => entry !== undefined && entry !== null)
    .map(([key, entry]) => {
      const keyXml = `<${keyName}>${content(model, shape.key, key, `${path} (key)`)}</${keyName}>`;
      const valueXml = `<${valueName}>${content(model, shape.value, entry, `${path}.${key}`)}</${valueName}>`;
      return `<${entryName}>${keyXml}${valueXml}</${entryName}>`;
    })
    .join('');
}

/** A Date, epoch seconds or a date string; ISO 8601 to the second, with milliseconds only when there are some. */
function timestampText(format: TimestampFormat, value: unknown, path: string, shapeName: string): string {
  const date = value instanceof Date ? value : typeof value === 'number' ? new Date(value * 1000) : typeof value === 'string' ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) throw wrongType(path, shapeName, 'a Date, epoch seconds or a date string', value);
  if (format === 'unixTimestamp') return String(date.getTime() / 1000);
  if (format === 'rfc822') return date.toUTCString();
  return date.toISOString().replace('.000Z', 'Z');
}

function wrongType(path: string, shapeName: string, expected: string, value: unknown): Error {
  const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
  return new Error(`${path}: ${shapeName} needs ${expected}, got ${got}`);
}
