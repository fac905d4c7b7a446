import { getOperation, getShape, type ServiceModel, type ShapeRef, type StructureShape } from '../api/aws/service-model.ts';
import { awsMemberName, formatViolations, isScalar, validateInput } from '../api/aws/shape-validator.ts';

/**
 * Conformance cases derived from a service model: from one valid input, every
 * mutation AWS would reject with a ValidationException that names the member.
 * The expected paths follow AWS's path rules as written out here, apart from the
 * validator's own walk, so running these cases checks the validator (or a
 * server) against the rules rather than against itself.
 */

export interface ConformanceCase {
  description: string;
  input: unknown;
  expect: {
    code: 'ValidationException';
    /** Appears in AWS's message: `at 'resourceConfig.instanceType'`. */
    pathFragment: string;
    /** The same member as the SDKs spell it: `ResourceConfig.InstanceType`. */
    sdkPathFragment: string;
  };
}

/** A value no enum in the models has. */
export const INVALID_ENUM_VALUE = 'kennel-not-an-enum-value';

type Key = string | number;

interface Place {
  /** Where the value sits in the input, for making the mutation. */
  keys: readonly Key[];
  path: string;
  sdkPath: string;
}

/** Where AWS reports a value: scalars inside lists and maps are reported at the collection. */
interface Reported {
  path: string;
  sdkPath: string;
}

/**
 * Cases for `operationName` given a `validInput` that passes the model's checks:
 * each required member removed (at every depth where its parent is present), each
 * enum string given a value outside the set, each string with a maximum length made
 * one character too long, and each list with a minimum of one or more emptied.
 */
export function mutationCases(model: ServiceModel, operationName: string, validInput: Record<string, unknown>): ConformanceCase[] {
  const operation = getOperation(model, operationName);
  if (!operation.input) return [];
  const outcome = validateInput(model, operation.input.shape, validInput);
  if (!outcome.ok) {
    const why = outcome.kind === 'serialization' ? outcome.message : formatViolations(outcome.violations, outcome.violationCount);
    throw new Error(`The valid input given for ${operationName} is not valid: ${why}`);
  }
  const cases: ConformanceCase[] = [];
  const add = (description: string, input: unknown, at: Reported): void => {
    const expect = { code: 'ValidationException', pathFragment: at.path, sdkPathFragment: at.sdkPath } as const;
    cases.push({ description: `${operationName} ${description}`, input, expect });
  };

  const visit = (ref: ShapeRef, value: unknown, place: Place, reported: Reported): void => {
    const shape = getShape(model, ref.shape);
    if (shape.type === 'structure') {
      visitStructure(shape, value as Record<string, unknown>, place);
    } else if (shape.type === 'list') {
      const list = value as unknown[];
      if ((shape.min ?? 0) >= 1) add(`with ${place.sdkPath} empty (at least ${shape.min} required)`, replaced(validInput, place.keys, []), place);
      const scalar = isScalar(getShape(model, shape.member.shape));
      list.forEach((element, index) => {
        const elementPlace = { keys: [...place.keys, index], path: `${place.path}.${index + 1}.member`, sdkPath: `${place.sdkPath}[${index}]` };
        visit(shape.member, element, elementPlace, scalar ? { path: place.path, sdkPath: elementPlace.sdkPath } : elementPlace);
      });
    } else if (shape.type === 'map') {
      const map = value as Record<string, unknown>;
      const scalar = isScalar(getShape(model, shape.value.shape));
      for (const key of Object.keys(map)) {
        const keyShape = getShape(model, shape.key.shape);
        if (keyShape.type === 'string') {
          for (const [what, bad] of badStrings(keyShape.enum, keyShape.max, key)) {
            add(`with a key of ${place.sdkPath} ${what}`, renamedKey(validInput, place.keys, key, bad), place);
          }
        }
        const valuePlace = { keys: [...place.keys, key], path: `${place.path}.${key}.member`, sdkPath: `${place.sdkPath}.${key}` };
        visit(shape.value, map[key], valuePlace, scalar ? { path: place.path, sdkPath: valuePlace.sdkPath } : valuePlace);
      }
    } else if (shape.type === 'string') {
      for (const [what, bad] of badStrings(shape.enum, shape.max, value as string)) {
        add(`with ${place.sdkPath} ${what}`, replaced(validInput, place.keys, bad), reported);
      }
    }
  };

  const visitStructure = (shape: StructureShape, value: Record<string, unknown>, place: Place): void => {
    const required = new Set(shape.required ?? []);
    for (const [member, ref] of Object.entries(shape.members)) {
      const memberPlace = {
        keys: [...place.keys, member],
        path: place.path ? `${place.path}.${awsMemberName(member)}` : awsMemberName(member),
        sdkPath: place.sdkPath ? `${place.sdkPath}.${member}` : member,
      };
      if (required.has(member)) add(`without ${memberPlace.sdkPath} (required)`, removed(validInput, memberPlace.keys), memberPlace);
      const memberValue = value[member];
      if (memberValue !== null && memberValue !== undefined) visit(ref, memberValue, memberPlace, memberPlace);
    }
  };

  visitStructure(getShape(model, operation.input.shape) as StructureShape, validInput, { keys: [], path: '', sdkPath: '' });
  return cases;
}

/**
 * Why an error answer does not meet a case's expectation, or undefined when it
 * does: the error type (with or without a namespace prefix) and both paths in the message.
 */
export function expectationMismatch(expect: ConformanceCase['expect'], error: { type: string; message: string }): string | undefined {
  const type = error.type.slice(error.type.lastIndexOf('#') + 1);
  if (type !== expect.code) return `expected a ${expect.code} but got ${error.type}: ${error.message}`;
  if (!error.message.includes(`'${expect.pathFragment}`)) return `the message does not name '${expect.pathFragment}': ${error.message}`;
  if (!error.message.includes(expect.sdkPathFragment)) return `the message does not name ${expect.sdkPathFragment}: ${error.message}`;
  return undefined;
}

/** The invalid strings a value can be turned into, with what makes each invalid. */
function badStrings(allowed: readonly string[] | undefined, max: number | undefined, value: string): [string, string][] {
  const bad: [string, string][] = [];
  if (allowed) bad.push([`'${INVALID_ENUM_VALUE}' (not in its enum)`, INVALID_ENUM_VALUE]);
  if (max !== undefined && value.length <= max) {
    // Repeating the last character keeps most patterns satisfied, so the length is what fails.
    const padding = (value.at(-1) ?? 'a').repeat(max + 1 - value.length);
    bad.push([`one character longer than its maximum of ${max}`, value + padding]);
  }
  return bad;
}

function parentOf(root: unknown, keys: readonly Key[]): Record<Key, unknown> {
  let node = root as Record<Key, unknown>;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<Key, unknown>;
  return node;
}

function replaced(input: unknown, keys: readonly Key[], value: unknown): unknown {
  const copy = structuredClone(input);
  parentOf(copy, keys)[keys[keys.length - 1]] = value;
  return copy;
}

function removed(input: unknown, keys: readonly Key[]): unknown {
  const copy = structuredClone(input);
  delete parentOf(copy, keys)[keys[keys.length - 1]];
  return copy;
}

function renamedKey(input: unknown, mapKeys: readonly Key[], from: string, to: string): unknown {
  const map = parentOf(input, mapKeys)[mapKeys[mapKeys.length - 1]] as Record<string, unknown>;
  const renamed = Object.fromEntries(Object.entries(map).map(([key, value]) => [key === from ? to : key, value]));
  return replaced(input, mapKeys, renamed);
}
