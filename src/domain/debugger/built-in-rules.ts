import { DomainError } from '../../core/errors.ts';
import { PROFILER_RULES } from './profiler-rules.ts';
import type { BuiltInRule } from './rule.ts';
import { TRAINING_RULES } from './training-rules.ts';

export const BUILT_IN_RULES: readonly BuiltInRule[] = [...TRAINING_RULES, ...PROFILER_RULES];

/** The rule a configuration's `rule_to_invoke` names, refused with the list of what there is. */
export function builtInRule(name: string, kind: BuiltInRule['kind']): BuiltInRule {
  const rule = BUILT_IN_RULES.find((candidate) => candidate.name === name && candidate.kind === kind);
  if (rule) return rule;
  const names = BUILT_IN_RULES.filter((candidate) => candidate.kind === kind).map((candidate) => candidate.name);
  const other = BUILT_IN_RULES.find((candidate) => candidate.name === name);
  const hint = other ? ` (${name} is a ${other.kind === 'debug' ? 'debugger' : 'profiler'} rule: configure it there)` : '';
  throw new DomainError('ValidationError', `There is no built-in ${kind === 'debug' ? 'debugger' : 'profiler'} rule ${name}${hint}; the rules are ${names.join(', ')}`, { field: 'rule_to_invoke' });
}
