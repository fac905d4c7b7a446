import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { combinePolicyDecisions } from './scaling.ts';

type Decision = { kind: 'none' | 'scale-out' | 'scale-in'; to?: number; scaleInDisabled?: boolean; name: string };

describe('combinePolicyDecisions', () => {
  const cases: [string, Decision[], string | undefined][] = [
    ['any scale-out wins, the largest', [{ kind: 'scale-in', to: 1, name: 'a' }, { kind: 'scale-out', to: 3, name: 'b' }, { kind: 'scale-out', to: 5, name: 'c' }], 'c'],
    ['scale-in needs every policy', [{ kind: 'scale-in', to: 1, name: 'a' }, { kind: 'none', name: 'b' }], undefined],
    ['and goes only as far as the most cautious', [{ kind: 'scale-in', to: 1, name: 'a' }, { kind: 'scale-in', to: 2, name: 'b' }], 'b'],
    ['a policy with DisableScaleIn has no say in scale-in', [{ kind: 'scale-in', to: 1, name: 'a' }, { kind: 'none', scaleInDisabled: true, name: 'b' }], 'a'],
    ['nothing when no policy asks', [{ kind: 'none', name: 'a' }], undefined],
  ];
  for (const [name, decisions, chosen] of cases) {
    it(name, () => assert.equal(combinePolicyDecisions(decisions)?.name, chosen));
  }
});
