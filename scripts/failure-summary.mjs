// A node:test reporter that prints nothing until the run ends, then lists every
// failed test with its file, its suites and its error, so that the end of a long
// log says what failed without scrolling back through thousands of passing lines.
// Suites that failed only because a test inside them failed are left out.

function firstLines(text, count) {
  return String(text ?? '').split('\n').slice(0, count).join('\n    ');
}

export default async function* failureSummary(source) {
  const suitesByFile = new Map();
  const failures = [];
  for await (const event of source) {
    const { name, nesting, file = '?', details } = event.data ?? {};
    if (event.type === 'test:start') {
      const names = suitesByFile.get(file) ?? [];
      names.length = nesting;
      names.push(name);
      suitesByFile.set(file, names);
    }
    if (event.type !== 'test:fail') continue;
    const error = details?.error;
    if (error?.failureType === 'subtestsFailed') continue;
    const path = [...(suitesByFile.get(file) ?? []).slice(0, nesting), name].join(' › ');
    const cause = error?.cause ?? error;
    failures.push(`${file}: ${path}\n    ${firstLines(cause?.stack ?? cause?.message ?? cause, 12)}`);
  }
  if (failures.length === 0) return;
  yield `\n# ${failures.length} failed:\n`;
  for (const failure of failures) yield `# ✖ ${failure}\n`;
}
