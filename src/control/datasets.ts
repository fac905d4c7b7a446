import { DomainError } from '../core/errors.ts';
import { assertResourceName } from '../core/names.ts';
import type { Dataset } from '../domain/data/dataset.ts';
import { scanDataset, type DatasetScan } from '../runtime/datasets/scan.ts';
import type { ControlDeps } from './deps.ts';
import { assertNameFree, requireRecord } from './records.ts';

export interface RegisterDatasetInput {
  name: string;
  path: string;
}

export class DatasetService {
  constructor(private readonly deps: ControlDeps) {}

  /** Scans the folder without registering it: the report lists counts and every problem found. */
  async validate(path: string): Promise<DatasetScan> {
    return scanDataset(path);
  }

  async register(input: RegisterDatasetInput): Promise<{ dataset: Dataset; scan: DatasetScan }> {
    const name = assertResourceName('Dataset', input.name);
    assertNameFree(this.deps.store.datasets, 'Dataset', name);
    const scan = await scanDataset(input.path);
    const errors = scan.report.problems.filter((problem) => problem.severity === 'error');
    if (errors.length > 0) {
      throw new DomainError(
        'ValidationError',
        `Dataset folder ${scan.path} is not usable: ${errors.map((problem) => problem.message).join('; ')}`,
        { problems: scan.report.problems },
      );
    }
    const dataset: Dataset = {
      name,
      path: scan.path,
      classes: scan.report.classes.map((entry) => entry.folder),
      counts: scan.report.totals,
      createdAtMs: this.deps.clock.now(),
    };
    this.deps.store.datasets.create(dataset);
    return { dataset, scan };
  }

  describe(name: string): Dataset {
    return requireRecord(this.deps.store.datasets, 'Dataset', name);
  }

  list(): Dataset[] {
    return this.deps.store.datasets.list();
  }
}
