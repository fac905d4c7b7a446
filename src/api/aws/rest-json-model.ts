import { getOperation, getShape, type Shape, type ShapeRef, type ServiceModel } from './service-model.ts';

/**
 * The parts of a service model that only the REST protocols read: each
 * operation's HTTP method and URI, and where each member of its input and
 * output goes on the HTTP message (botocore's `location`). service-model.ts
 * types what every protocol shares; these fields are read from the same files.
 */

/** Where a member travels: a URI label, a query parameter, a header, a set of prefixed headers, or the response's status code. */
export type MemberLocation = 'uri' | 'querystring' | 'header' | 'headers' | 'statusCode';

export interface RestMemberRef extends ShapeRef {
  location?: MemberLocation;
  /** A header whose value is JSON, base64-encoded (`@mediaType("application/json")` on a header string). */
  jsonvalue?: boolean;
}

export interface HttpBinding {
  method: string;
  /** The path with `{Label}` / `{Greedy+}` segments, and optionally a fixed query (`?List=ALL`). */
  requestUri: string;
  /** The status of a successful answer; 200 when the model does not say. */
  responseCode?: number;
}

export interface BoundMember {
  name: string;
  ref: RestMemberRef;
  shape: Shape;
  /** The label, query parameter, header or header prefix it travels as. */
  wireName: string;
}

/** An input or output structure, its members sorted by where they go. */
export interface MessageBindings {
  labels: BoundMember[];
  query: BoundMember[];
  /** A map member that takes every query parameter no other member names. */
  queryMap?: BoundMember;
  headers: BoundMember[];
  /** Map members that take every header starting with their prefix (`wireName`). */
  headerMaps: BoundMember[];
  statusCode?: BoundMember;
  /** The member that is the whole body (a blob is sent raw, a structure as its JSON). */
  payload?: BoundMember;
  /** The members of the JSON body when there is no payload member. */
  body: BoundMember[];
}

export function httpBinding(model: ServiceModel, operationName: string): HttpBinding {
  const http = (getOperation(model, operationName) as { http?: HttpBinding }).http;
  if (!http) throw new Error(`${model.metadata.serviceId} ${operationName} has no HTTP binding`);
  return http;
}

const EMPTY: MessageBindings = { labels: [], query: [], headers: [], headerMaps: [], body: [] };

/** Where each member of `shapeName` goes; an operation without an input or output shape has none. */
export function messageBindings(model: ServiceModel, shapeName: string | undefined): MessageBindings {
  if (shapeName === undefined) return EMPTY;
  const shape = getShape(model, shapeName);
  if (shape.type !== 'structure') throw new Error(`${shapeName} is not a structure`);
  const payloadName = (shape as { payload?: string }).payload;
  const bindings: MessageBindings = { labels: [], query: [], headers: [], headerMaps: [], body: [] };
  for (const [name, memberRef] of Object.entries(shape.members)) {
    const ref = memberRef as RestMemberRef;
    const member: BoundMember = { name, ref, shape: getShape(model, ref.shape), wireName: ref.locationName ?? name };
    if (name === payloadName) bindings.payload = member;
    else if (ref.location === 'uri') bindings.labels.push(member);
    else if (ref.location === 'querystring' && member.shape.type === 'map') bindings.queryMap = member;
    else if (ref.location === 'querystring') bindings.query.push(member);
    else if (ref.location === 'header') bindings.headers.push(member);
    else if (ref.location === 'headers') bindings.headerMaps.push(member);
    else if (ref.location === 'statusCode') bindings.statusCode = member;
    else bindings.body.push(member);
  }
  for (const member of bindings.body) refuseJsonNames(model, member.name, member.ref, new Set());
  if (bindings.payload && bindings.payload.shape.type === 'structure') refuseJsonNames(model, bindings.payload.name, bindings.payload.ref, new Set());
  return bindings;
}

/**
 * The body is read and written with member names as JSON keys, as the shape
 * validator checks them. A model that renames a body member on the wire
 * (`locationName` without a `location`) would be read wrongly: refuse it when
 * the routes are built instead.
 */
function refuseJsonNames(model: ServiceModel, path: string, ref: ShapeRef, seen: Set<string>): void {
  if (seen.has(ref.shape)) return;
  seen.add(ref.shape);
  const shape = getShape(model, ref.shape);
  const children: [string, ShapeRef][] =
    shape.type === 'structure'
      ? Object.entries(shape.members)
      : shape.type === 'list'
        ? [['member', shape.member]]
        : shape.type === 'map'
          ? [['value', shape.value]]
          : [];
  for (const [name, child] of children) {
    if (shape.type === 'structure' && child.locationName !== undefined) {
      throw new Error(`${ref.shape}.${name} (in ${path}) is named ${child.locationName} in JSON bodies, which the REST-JSON codec does not support`);
    }
    refuseJsonNames(model, `${path}.${name}`, child, seen);
  }
}
