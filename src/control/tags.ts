import { DomainError } from '../core/errors.ts';
import { parseSageMakerArn, type SageMakerResourceType } from '../domain/iam/arn.ts';
import { mergeTags, removeTags, type Tag } from '../domain/tags.ts';
import type { ResourceTable } from '../store/store.ts';
import type { ControlDeps } from './deps.ts';
import { resourceNotFound } from './sagemaker-resources.ts';

type Tagged = { name: string; tags: Tag[] };

/** AddTags, ListTags and DeleteTags: tags live on the records themselves, so a deleted resource takes its tags with it. */
export class TagService {
  constructor(private readonly deps: ControlDeps) {}

  add(resourceArn: string, tags: readonly Tag[]): Tag[] {
    const { table, name } = this.resolve(resourceArn);
    return table.modify(name, (record) => ({ ...record, tags: mergeTags(record.tags, tags) })).tags;
  }

  list(resourceArn: string): Tag[] {
    const { table, name, type } = this.resolve(resourceArn);
    const record = table.get(name);
    if (!record) throw resourceNotFound(type, name);
    return record.tags;
  }

  /** The tags of the resource an ARN names, or none when it names nothing Kennel has: for aws:ResourceTag conditions. */
  find(resourceArn: string): Tag[] {
    try {
      return this.list(resourceArn);
    } catch {
      return [];
    }
  }

  delete(resourceArn: string, keys: readonly string[]): void {
    const { table, name } = this.resolve(resourceArn);
    table.modify(name, (record) => ({ ...record, tags: removeTags(record.tags, keys) }));
  }

  private resolve(resourceArn: string): { table: ResourceTable<Tagged>; name: string; type: SageMakerResourceType } {
    const parsed = parseSageMakerArn(resourceArn);
    if (!parsed) {
      throw new DomainError(
        'ValidationError',
        `${JSON.stringify(resourceArn)} is not the ARN of a Kennel SageMaker resource: expected arn:aws:sagemaker:<region>:<account>:{training-job,model,endpoint-config,endpoint,hyper-parameter-tuning-job}/<name>`,
        { field: 'ResourceArn' },
      );
    }
    const { store } = this.deps;
    const tables: Record<SageMakerResourceType, ResourceTable<Tagged>> = {
      'training-job': store.trainingJobs,
      model: store.models,
      'endpoint-config': store.endpointConfigs,
      endpoint: store.endpoints,
      'hyper-parameter-tuning-job': store.tuningJobs,
    };
    const table = tables[parsed.resourceType];
    if (!table.get(parsed.name)) throw resourceNotFound(parsed.resourceType, parsed.name);
    return { table, name: parsed.name, type: parsed.resourceType };
  }
}
