import { getShape, type ShapeRef, type ServiceModel } from './service-model.ts';
import { jsonTypeProblem } from './shape-validator.ts';

/**
 * What is wrong with a response body against an output shape: missing required
 * members (at any depth), wrong JSON types (timestamps as epoch-second numbers,
 * integers integral), enum values outside their set, null members (a JSON 1.1
 * response leaves a member out instead) and members the shape does not declare,
 * so a typo in one of Kennel's responses fails its conformance test instead of
 * being silently dropped by the SDKs. Empty when the body is fine.
 */
export function checkOutput(model: ServiceModel, shapeName: string, value: unknown): string[] {
  const problems: string[] = [];
  check(model, { shape: shapeName }, value, '', problems);
  return problems;
}

function check(model: ServiceModel, ref: ShapeRef, value: unknown, path: string, problems: string[]): void {
  const where = path || '(top level)';
  const shape = getShape(model, ref.shape);
  const problem = jsonTypeProblem(shape, ref, value);
  if (problem) {
    problems.push(`${where}: ${problem}`);
    return;
  }
  switch (shape.type) {
    case 'structure': {
      const body = value as Record<string, unknown>;
      const required = new Set(shape.required ?? []);
      for (const member of required) {
        if (!Object.hasOwn(body, member) || body[member] === undefined) {
          problems.push(`${join(path, member)}: required member of ${ref.shape} is missing`);
        }
      }
      for (const [member, memberValue] of Object.entries(body)) {
        const memberRef = Object.hasOwn(shape.members, member) ? shape.members[member] : undefined;
        if (!memberRef) problems.push(`${join(path, member)}: ${ref.shape} has no member ${member}`);
        else if (memberValue === null) {
          problems.push(`${join(path, member)}: null (${required.has(member) ? 'a required member needs a value' : 'leave the member out instead'})`);
        }
        else if (memberValue !== undefined) check(model, memberRef, memberValue, join(path, member), problems);
      }
      return;
    }
    case 'list':
      (value as unknown[]).forEach((element, index) => {
        if (element === null) problems.push(`${path}[${index}]: null element`);
        else check(model, shape.member, element, `${path}[${index}]`, problems);
      });
      return;
    case 'map':
      for (const [key, entry] of Object.entries(value as Record<string, unknown>)) {
        check(model, shape.key, key, `${where} (key: ${key})`, problems);
        if (entry === null) problems.push(`${join(path, key)}: null value`);
        else check(model, shape.value, entry, join(path, key), problems);
      }
      return;
    case 'string':
      if (shape.enum && !shape.enum.includes(value as string)) {
        problems.push(`${where}: ${JSON.stringify(value)} is not one of ${ref.shape}'s values [${shape.enum.join(', ')}]`);
      }
      return;
    default:
      return;
  }
}

function join(path: string, member: string): string {
  return path ? `${path}.${member}` : member;
}
