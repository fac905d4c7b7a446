import { getShape, type ListShape, type MapShape, type Shape, type ShapeRef, type ServiceModel, type StructureShape, type TimestampShape } from './service-model.ts';
import { javaPattern } from './java-pattern.ts';

/**
 * Validates a parsed JSON 1.1 request body (or a query-protocol input once
 * query-input.ts has decoded it) against an operation's input shape the way
 * AWS's services do: a value of the wrong JSON type fails deserialization
 * (a SerializationException, reported alone); everything else is checked against
 * the model's constraints and reported together as one ValidationException, in
 * AWS's words and paths ("Value null at 'productionVariants.1.member.modelName'
 * failed to satisfy constraint: Member must not be null").
 *
 * As AWS does: JSON null means "not set", members the shape does not declare are
 * ignored, and the constraints of scalar list elements (and of map keys and
 * values) are reported once for the whole collection, listing every constraint of
 * the element ("Member must satisfy constraint: [...]", "Map value must satisfy
 * constraint: [...]").
 */

export interface ShapeViolation {
  /** AWS's path: members with a lower-case first letter, list elements as `<list>.<n>.member` (1-based). */
  path: string;
  /** The same place as the SDKs spell it: `ProductionVariants[0].ModelName`, `HyperParameters.lr`. */
  sdkPath: string;
  value: unknown;
  /** AWS's wording, e.g. "Member must have length less than or equal to 63". */
  constraint: string;
}

export type InputValidation =
  | { ok: true }
  | { ok: false; kind: 'serialization'; message: string; sdkPath: string }
  | { ok: false; kind: 'validation'; violations: ShapeViolation[]; violationCount: number };

export interface ValidationOptions {
  /** Per shape name, a Java pattern that replaces the model's (Kennel also accepts file:// URIs). */
  overrides?: Record<string, { pattern?: string }>;
  /** The query protocol hands timestamps over as Dates, decoded from its strings; JSON bodies keep their numbers or strings. */
  timestampsAsDates?: boolean;
}

/** AWS lists every violation; past this many a message stops helping. */
export const MAX_REPORTED_VIOLATIONS = 10;

export function validateInput(model: ServiceModel, shapeName: string, value: unknown, options: ValidationOptions = {}): InputValidation {
  const walk = new InputWalk(model, options);
  try {
    // An empty body is an input with nothing set.
    walk.value({ shape: shapeName }, value ?? {}, ROOT);
  } catch (error) {
    if (error instanceof SerializationFailure) return { ok: false, kind: 'serialization', message: error.message, sdkPath: error.sdkPath };
    throw error;
  }
  if (walk.violationCount === 0) return { ok: true };
  return { ok: false, kind: 'validation', violations: walk.violations, violationCount: walk.violationCount };
}

/**
 * AWS's ValidationException message, then the members as the SDKs spell them:
 * a boto3 user wrote `TrainingJobName=`, not `trainingJobName`.
 */
export function formatViolations(violations: readonly ShapeViolation[], violationCount = violations.length): string {
  const shown = violations.slice(0, MAX_REPORTED_VIOLATIONS);
  const details = shown.map(
    (violation) => `Value ${renderValue(violation.value)} at '${violation.path}' failed to satisfy constraint: ${violation.constraint}`,
  );
  const more = violationCount - shown.length;
  if (more > 0) details.push(`and ${more} more`);
  const sdkPaths = [...new Set(shown.map((violation) => violation.sdkPath || '(the request)'))];
  const errors = `${violationCount} validation error${violationCount === 1 ? '' : 's'}`;
  return `${errors} detected: ${details.join('; ')} (in SDK terms: ${sdkPaths.join(', ')})`;
}

/**
 * What is wrong with the JSON type of `value` for `shape`, or undefined when it is
 * right. Shared with the output checker: responses use the same wire types.
 */
export function jsonTypeProblem(shape: Shape, ref: ShapeRef, value: unknown): string | undefined {
  if (!hasJsonType(shape, ref, value)) return `expected ${expectedJsonType(shape, ref)} but got ${describeJsonValue(value)}`;
  return undefined;
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isScalar(shape: Shape): boolean {
  return shape.type !== 'structure' && shape.type !== 'list' && shape.type !== 'map';
}

/** AWS's path for a member: the name with its first letter lower-cased. */
export function awsMemberName(member: string): string {
  return member.charAt(0).toLowerCase() + member.slice(1);
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
/**
 * Base64 with padding: whole quads of the alphabet, at most two `=` at the end.
 * Checked as a length and a flat character class because a pattern that walks
 * quad by quad runs out of stack on a few megabytes (a Lambda deployment package).
 */
const BASE64_CHARACTERS = /^[A-Za-z0-9+/]*={0,2}$/;
const isBase64 = (value: string) => value.length % 4 === 0 && BASE64_CHARACTERS.test(value);
/** AWS echoes whole values; a 6 MB one would bury the message. */
const MAX_RENDERED_CHARACTERS = 200;

function timestampIsNumber(shape: Shape, ref: ShapeRef): boolean {
  const format = ref.timestampFormat ?? (shape.type === 'timestamp' ? shape.timestampFormat : undefined);
  return format === undefined || format === 'unixTimestamp';
}

function hasJsonType(shape: Shape, ref: ShapeRef, value: unknown): boolean {
  switch (shape.type) {
    case 'structure':
    case 'map':
      return isJsonObject(value);
    case 'list':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'integer':
      return Number.isInteger(value) && (value as number) >= INT32_MIN && (value as number) <= INT32_MAX;
    case 'long':
      return Number.isSafeInteger(value);
    case 'float':
    case 'double':
      return typeof value === 'number';
    case 'timestamp':
      // JSON 1.1 timestamps are epoch seconds; Coral refuses strings ("can not be converted to milliseconds since epoch").
      if (timestampIsNumber(shape, ref)) return typeof value === 'number';
      return typeof value === 'string' && !Number.isNaN(Date.parse(value));
    case 'blob':
      return typeof value === 'string' && isBase64(value);
  }
}

function expectedJsonType(shape: Shape, ref: ShapeRef): string {
  switch (shape.type) {
    case 'structure':
      return 'a structure (JSON object)';
    case 'map':
      return 'a map (JSON object)';
    case 'list':
      return 'a list (JSON array)';
    case 'string':
      return 'a string';
    case 'boolean':
      return 'a boolean';
    case 'integer':
      return 'a 32-bit integer';
    case 'long':
      return 'an integer';
    case 'float':
    case 'double':
      return 'a number';
    case 'timestamp':
      return timestampIsNumber(shape, ref) ? 'a timestamp in seconds since the epoch (a JSON number)' : 'a timestamp string';
    case 'blob':
      return 'base64-encoded bytes (a string)';
  }
}

function dateProblem(shape: TimestampShape, ref: ShapeRef, value: unknown): string | undefined {
  if (value instanceof Date && !Number.isNaN(value.getTime())) return undefined;
  const format = ref.timestampFormat ?? shape.timestampFormat ?? 'iso8601';
  const expected = { iso8601: 'an ISO 8601 timestamp', unixTimestamp: 'a timestamp in seconds since the epoch', rfc822: 'an RFC 822 timestamp' }[format];
  return `expected ${expected} but got ${describeJsonValue(value)}`;
}

function describeJsonValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return value.length > 40 ? 'a string' : `the string ${JSON.stringify(value)}`;
  if (typeof value === 'number') return `the number ${value}`;
  return `${typeof value} ${String(value)}`;
}

interface Location {
  path: string;
  sdkPath: string;
}

const ROOT: Location = { path: '', sdkPath: '' };

function memberLocation(parent: Location, member: string): Location {
  return {
    path: parent.path ? `${parent.path}.${awsMemberName(member)}` : awsMemberName(member),
    sdkPath: parent.sdkPath ? `${parent.sdkPath}.${member}` : member,
  };
}

class SerializationFailure extends Error {
  constructor(
    message: string,
    readonly sdkPath: string,
  ) {
    super(message);
  }
}

interface Check {
  constraint: string;
  holds: (value: unknown) => boolean;
}

/** Java prints the bounds of float and double shapes as doubles ("1.0"). */
function formatBound(shape: Shape, bound: number): string {
  return (shape.type === 'float' || shape.type === 'double') && Number.isInteger(bound) ? `${bound}.0` : String(bound);
}

function lengthOf(shape: Shape, value: unknown): number {
  if (shape.type === 'blob') return Buffer.byteLength(value as string, 'base64');
  if (shape.type === 'map') return Object.keys(value as object).length;
  // Java counts UTF-16 code units, as JavaScript's length does.
  return (value as string | unknown[]).length;
}

class InputWalk {
  readonly violations: ShapeViolation[] = [];
  violationCount = 0;
  private readonly checks = new Map<string, Check[]>();

  constructor(
    private readonly model: ServiceModel,
    private readonly options: ValidationOptions,
  ) {}

  /** `value` is set: the parent dealt with null. */
  value(ref: ShapeRef, value: unknown, at: Location): void {
    const shape = this.readable(ref, value, at);
    if (shape.type === 'structure') this.structure(shape, value as Record<string, unknown>, at);
    else if (shape.type === 'list') this.list(ref.shape, shape, value as unknown[], at);
    else if (shape.type === 'map') this.map(ref.shape, shape, value as Record<string, unknown>, at);
    else for (const check of this.checksFor(ref.shape)) if (!check.holds(value)) this.report(at, value, check.constraint);
  }

  /** The shape of `ref`, once `value` is known to have its JSON type. */
  private readable(ref: ShapeRef, value: unknown, at: Location): Shape {
    const shape = getShape(this.model, ref.shape);
    const problem = shape.type === 'timestamp' && this.options.timestampsAsDates ? dateProblem(shape, ref, value) : jsonTypeProblem(shape, ref, value);
    if (problem) throw new SerializationFailure(`Cannot read ${at.sdkPath || 'the request body'}: ${problem}.`, at.sdkPath);
    return shape;
  }

  private structure(shape: StructureShape, value: Record<string, unknown>, at: Location): void {
    const required = new Set(shape.required ?? []);
    const set: string[] = [];
    for (const [member, ref] of Object.entries(shape.members)) {
      const memberValue = Object.hasOwn(value, member) ? value[member] : undefined;
      const location = memberLocation(at, member);
      if (memberValue === null || memberValue === undefined) {
        if (required.has(member)) this.report(location, null, 'Member must not be null');
        continue;
      }
      // Worded as smithy-java words it: Coral's own text for unions is not on record.
      if (shape.union && set.length > 0) this.report(location, memberValue, `Union member conflicts with '${set[0]}'`);
      set.push(member);
      this.value(ref, memberValue, location);
    }
    if (shape.union && set.length === 0) this.report(at, value, 'No member is set in the union');
  }

  private list(shapeName: string, shape: ListShape, value: unknown[], at: Location): void {
    this.collectionLength(shapeName, value, at);
    const entries = value.map((element, index): Entry => [{ path: `${at.path}.${index + 1}.member`, sdkPath: `${at.sdkPath}[${index}]` }, element]);
    this.elements(shape.member, entries, at, value, 'Member must satisfy constraint');
  }

  private map(shapeName: string, shape: MapShape, value: Record<string, unknown>, at: Location): void {
    this.collectionLength(shapeName, value, at);
    const keys = Object.keys(value);
    // JSON keys are strings already: only the key shape's constraints can fail.
    const keyChecks = this.checksFor(shape.key.shape);
    const badKey = keys.find((key) => keyChecks.some((check) => !check.holds(key)));
    if (badKey !== undefined) {
      const constraint = `Map keys must satisfy constraint: [${constraintList(keyChecks)}]`;
      this.report({ path: at.path, sdkPath: `${at.sdkPath} (key: ${badKey})` }, value, constraint);
    }
    const entries = keys.map((key): Entry => [{ path: `${at.path}.${key}.member`, sdkPath: `${at.sdkPath}.${key}` }, value[key]]);
    this.elements(shape.value, entries, at, value, 'Map value must satisfy constraint');
  }

  /**
   * The elements of a list or the values of a map: structured ones are walked one
   * by one, scalar ones reported together at the collection's path.
   */
  private elements(ref: ShapeRef, entries: readonly Entry[], at: Location, collection: unknown, prefix: string): void {
    const scalar = isScalar(getShape(this.model, ref.shape));
    const checks = scalar ? this.checksFor(ref.shape) : [];
    let firstBad: Location | undefined;
    for (const [location, element] of entries) {
      if (element === null || element === undefined) {
        this.report(location, null, 'Member must not be null');
      } else if (!scalar) {
        this.value(ref, element, location);
      } else {
        this.readable(ref, element, location);
        if (!firstBad && checks.some((check) => !check.holds(element))) firstBad = location;
      }
    }
    if (firstBad) this.report({ path: at.path, sdkPath: firstBad.sdkPath }, collection, `${prefix}: [${constraintList(checks)}]`);
  }

  private collectionLength(shapeName: string, value: unknown, at: Location): void {
    for (const check of this.checksFor(shapeName)) if (!check.holds(value)) this.report(at, value, check.constraint);
  }

  /** The constraints of a shape, in the order AWS lists them. */
  private checksFor(shapeName: string): Check[] {
    const cached = this.checks.get(shapeName);
    if (cached) return cached;
    const shape = getShape(this.model, shapeName);
    const checks: Check[] = [];
    if (shape.type === 'string' && shape.enum) {
      const allowed = new Set(shape.enum);
      checks.push({ constraint: `Member must satisfy enum value set: [${shape.enum.join(', ')}]`, holds: (value) => allowed.has(value as string) });
    }
    if (shape.type === 'string' || shape.type === 'blob' || shape.type === 'list' || shape.type === 'map') {
      const { min, max } = shape;
      if (max !== undefined) {
        checks.push({ constraint: `Member must have length less than or equal to ${max}`, holds: (value) => lengthOf(shape, value) <= max });
      }
      if (min !== undefined) {
        checks.push({ constraint: `Member must have length greater than or equal to ${min}`, holds: (value) => lengthOf(shape, value) >= min });
      }
    }
    if (shape.type === 'string') {
      const pattern = this.options.overrides?.[shapeName]?.pattern ?? shape.pattern;
      if (pattern !== undefined) {
        const regex = javaPattern(pattern);
        checks.push({ constraint: `Member must satisfy regular expression pattern: ${pattern}`, holds: (value) => regex.test(value as string) });
      }
    }
    if (shape.type === 'integer' || shape.type === 'long' || shape.type === 'float' || shape.type === 'double') {
      const { min, max } = shape;
      if (max !== undefined) {
        const constraint = `Member must have value less than or equal to ${formatBound(shape, max)}`;
        checks.push({ constraint, holds: (value) => (value as number) <= max });
      }
      if (min !== undefined) {
        const constraint = `Member must have value greater than or equal to ${formatBound(shape, min)}`;
        checks.push({ constraint, holds: (value) => (value as number) >= min });
      }
    }
    this.checks.set(shapeName, checks);
    return checks;
  }

  private report(at: Location, value: unknown, constraint: string): void {
    this.violationCount += 1;
    if (this.violations.length < MAX_REPORTED_VIOLATIONS) this.violations.push({ path: at.path, sdkPath: at.sdkPath, value, constraint });
  }
}

type Entry = readonly [Location, unknown];

function constraintList(checks: readonly Check[]): string {
  return checks.map((check) => check.constraint).join(', ');
}

/** As Coral prints values: in single quotes (numbers too), collections as Java's toString writes them, null bare. */
function renderValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  const text = renderInner(value);
  return `'${text.length > MAX_RENDERED_CHARACTERS ? `${text.slice(0, MAX_RENDERED_CHARACTERS)}...` : text}'`;
}

function renderInner(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(renderInner).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value).map(([key, inner]) => `${key}=${renderInner(inner)}`);
    return `{${entries.join(', ')}}`;
  }
  return String(value);
}
