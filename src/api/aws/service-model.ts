import { readFileSync } from 'node:fs';

/**
 * The part of an AWS service model (botocore's service-2.json) that Kennel serves,
 * as committed under models/ by scripts/service-models.js. The files keep all of
 * botocore's fields except documentation; the types name the ones Kennel reads.
 */

export interface ShapeRef {
  shape: string;
  /**
   * Without it, a protocol's own default applies: epoch seconds in JSON 1.1,
   * ISO 8601 in the query protocol.
   */
  timestampFormat?: TimestampFormat;
  /** The name on the query/XML wire when it is not the member's (`Tags.member.1` → `Tag.1` for a flattened list). */
  locationName?: string;
}

export interface StructureShape {
  type: 'structure';
  members: Record<string, ShapeRef>;
  required?: string[];
  /** Exactly one member must be set. */
  union?: boolean;
}

export interface ListShape {
  type: 'list';
  member: ShapeRef;
  /** Query/XML: elements repeat under the list's own name instead of inside `member`. */
  flattened?: boolean;
  min?: number;
  max?: number;
}

export interface MapShape {
  type: 'map';
  key: ShapeRef;
  value: ShapeRef;
  /** Query/XML: entries repeat under the map's own name instead of inside `entry`. */
  flattened?: boolean;
  min?: number;
  max?: number;
}

export interface StringShape {
  type: 'string';
  enum?: string[];
  min?: number;
  max?: number;
  /** A Java regular expression that must match the whole value. */
  pattern?: string;
}

export interface NumberShape {
  type: 'integer' | 'long' | 'float' | 'double';
  min?: number;
  max?: number;
}

export interface BooleanShape {
  type: 'boolean';
}

export interface TimestampShape {
  type: 'timestamp';
  timestampFormat?: TimestampFormat;
}

export type TimestampFormat = 'unixTimestamp' | 'iso8601' | 'rfc822';

export interface BlobShape {
  type: 'blob';
  /** Lengths of a blob count decoded bytes. */
  min?: number;
  max?: number;
}

export type Shape = StructureShape | ListShape | MapShape | StringShape | NumberShape | BooleanShape | TimestampShape | BlobShape;
export type ShapeType = Shape['type'];

export interface Operation {
  name: string;
  input?: { shape: string };
  /** Query protocol: the element that wraps the output in the response (`CreateUserResult`). */
  output?: { shape: string; resultWrapper?: string };
  errors?: { shape: string }[];
}

export interface ServiceMetadata {
  apiVersion: string;
  endpointPrefix: string;
  protocol: string;
  serviceId: string;
  jsonVersion?: string;
  signingName?: string;
  targetPrefix?: string;
  uid?: string;
  /** Query protocol: the namespace of every response and error document. */
  xmlNamespace?: string;
}

export interface ServiceModel {
  metadata: ServiceMetadata;
  operations: Record<string, Operation>;
  shapes: Record<string, Shape>;
}

const loaded = new Map<string, ServiceModel>();

/** The committed model of `service` (e.g. 'sagemaker'), read once per process. */
export function loadServiceModel(service: string): ServiceModel {
  const cached = loaded.get(service);
  if (cached) return cached;
  // The name becomes part of a file path: only model-file names get that far.
  if (!/^[a-z0-9-]+$/.test(service)) throw new Error(`Invalid service name ${JSON.stringify(service)}`);
  const model = JSON.parse(readFileSync(new URL(`./models/${service}.json`, import.meta.url), 'utf8')) as ServiceModel;
  loaded.set(service, model);
  return model;
}

export function operationNames(model: ServiceModel): string[] {
  return Object.keys(model.operations).sort();
}

export function getOperation(model: ServiceModel, operationName: string): Operation {
  const operation = Object.hasOwn(model.operations, operationName) ? model.operations[operationName] : undefined;
  if (!operation) throw new Error(`${model.metadata.serviceId} has no operation ${operationName}`);
  return operation;
}

export function getShape(model: ServiceModel, shapeName: string): Shape {
  const shape = Object.hasOwn(model.shapes, shapeName) ? model.shapes[shapeName] : undefined;
  if (!shape) throw new Error(`${model.metadata.serviceId} has no shape ${shapeName}`);
  return shape;
}
