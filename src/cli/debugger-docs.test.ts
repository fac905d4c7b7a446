import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { BUILT_IN_RULES } from '../domain/debugger/built-in-rules.ts';

describe('the debugger’s documentation', () => {
  it('docs/debugger.md documents every rule and every parameter', () => {
    const docs = readFileSync(new URL('../../docs/debugger.md', import.meta.url), 'utf8');
    for (const rule of BUILT_IN_RULES) {
      assert.ok(docs.includes(`| ${rule.name} |`), `${rule.name} has a row`);
      if (rule.name === 'ProfilerReport') continue;
      for (const name of Object.keys(rule.parameters)) assert.ok(docs.includes(`\`${name}\` (${rule.parameters[name]!.default || '—'})`), `${rule.name}'s ${name} and its default`);
    }
  });
});
