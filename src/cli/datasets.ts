import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Dataset } from '../domain/data/dataset.ts';
import { connect, print, table, time } from './context.ts';

interface ValidationReport {
  classes: { folder: string; label: string; counts: Record<string, number> }[];
  totals: Record<string, number>;
  problems: { severity: string; message: string }[];
}

export function registerDatasets(program: Command): void {
  const group = program.command('datasets').description('Image folders in the dogImages layout: {train,valid,test}/<NNN.Class>/*.jpg');

  group
    .command('register')
    .description('Validate a folder and register it as a dataset')
    .requiredOption('--name <name>', 'dataset name')
    .requiredOption('--path <dir>', 'folder holding train/, valid/ and test/')
    .action(async (options: { name: string; path: string }, command: Command) => {
      const client = await connect(command);
      const result = await client.kennel<{ dataset: Dataset; report: ValidationReport }>('POST', '/datasets', {
        name: options.name,
        path: resolve(options.path),
      });
      print(command, result, ({ dataset, report }) => `Registered dataset ${dataset.name}\n${renderReport(report)}`);
    });

  group
    .command('validate')
    .description('Check a folder without registering it: counts per class and every problem found')
    .requiredOption('--path <dir>', 'folder holding train/, valid/ and test/')
    .action(async (options: { path: string }, command: Command) => {
      const client = await connect(command);
      const result = await client.kennel<{ report: ValidationReport }>('POST', '/datasets/validate', { path: resolve(options.path) });
      print(command, result, ({ report }) => renderReport(report));
      if (result.report.problems.some((problem) => problem.severity === 'error')) process.exitCode = 1;
    });

  group
    .command('list')
    .description('List registered datasets')
    .action(async (_options: unknown, command: Command) => {
      const { datasets } = await (await connect(command)).kennel<{ datasets: Dataset[] }>('GET', '/datasets');
      print(command, datasets, (rows) =>
        table(
          ['NAME', 'CLASSES', 'TRAIN', 'VALID', 'TEST', 'CREATED', 'PATH'],
          rows.map((d) => [d.name, d.classes.length, d.counts.train, d.counts.valid, d.counts.test, time(d.createdAtMs / 1000), d.path]),
        ),
      );
    });

  group
    .command('describe <name>')
    .description('Show one dataset')
    .action(async (name: string, _options: unknown, command: Command) => {
      const dataset = await (await connect(command)).kennel<Dataset>('GET', `/datasets/${encodeURIComponent(name)}`);
      print(command, dataset, (d) => JSON.stringify(d, null, 2));
    });
}

function renderReport(report: ValidationReport): string {
  const lines = [
    `${report.classes.length} classes; images: train ${report.totals.train ?? 0}, valid ${report.totals.valid ?? 0}, test ${report.totals.test ?? 0}`,
    table(
      ['  CLASS', 'LABEL', 'TRAIN', 'VALID', 'TEST'],
      report.classes.map((c) => [`  ${c.folder}`, c.label, c.counts.train ?? 0, c.counts.valid ?? 0, c.counts.test ?? 0]),
    ),
  ];
  for (const problem of report.problems) lines.push(`  ${problem.severity}: ${problem.message}`);
  if (report.problems.length === 0) lines.push('  no problems found');
  return lines.join('\n');
}
