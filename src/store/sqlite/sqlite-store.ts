import type { Dataset } from '../../domain/data/dataset.ts';
import type { Endpoint, EndpointConfig, Model } from '../../domain/serving/endpoint.ts';
import type { EpochMetrics, TrainingJob, TrainingJobStatus } from '../../domain/training/training-job.ts';
import { RECORD_KINDS } from '../records.ts';
import type { TuningJob, TuningJobStatus } from '../../domain/tuning/tuning-job.ts';
import { compareActivitiesNewestFirst, type RegisteredScalableTarget, type ScalingActivity, type ScalingPolicy } from '../../domain/serving/scaling.ts';
import type { AccessKey, IamGroup, IamRole, IamUser, ManagedPolicyRecord, StsSession } from '../../domain/iam/entities.ts';
import type { AsyncEvent, AsyncEventStatus, FunctionAlias, FunctionVersion, LambdaFunction } from '../../domain/functions/function.ts';
import type { AccessKeyTable, AsyncEventTable, FunctionChildTable, ScalingActivityTable, ScalingPolicyTable, Store, TrainingJobTable, TuningJobTable } from '../store.ts';
import { SqliteAuditLog } from './audit-log.ts';
import { SqliteEmbeddingCache } from './embedding-cache.ts';
import { SqliteObjectTable } from './object-table.ts';
import { openKennelDatabase } from './open-database.ts';
import { SqliteRecordTable } from './record-table.ts';

class SqliteTrainingJobTable extends SqliteRecordTable<TrainingJob> implements TrainingJobTable {
  appendEpochs(name: string, metrics: readonly EpochMetrics[], atMs: number): TrainingJob {
    return this.modify(name, (job) => ({ ...job, epochs: [...job.epochs, ...metrics], lastModifiedAtMs: atMs }));
  }

  listByStatus(statuses: readonly TrainingJobStatus[]): TrainingJob[] {
    return this.listWhere('status', statuses);
  }
}

class SqliteAccessKeyTable extends SqliteRecordTable<AccessKey> implements AccessKeyTable {
  listForUser(userName: string): AccessKey[] {
    return this.listWhere('user_name', [userName]);
  }
}

class SqliteTuningJobTable extends SqliteRecordTable<TuningJob> implements TuningJobTable {
  listByStatus(statuses: readonly TuningJobStatus[]): TuningJob[] {
    return this.listWhere('status', statuses);
  }
}

class SqliteScalingPolicyTable extends SqliteRecordTable<ScalingPolicy> implements ScalingPolicyTable {
  listForTarget(targetId: string): ScalingPolicy[] {
    return this.listWhere('target_id', [targetId]);
  }
}

class SqliteScalingActivityTable extends SqliteRecordTable<ScalingActivity> implements ScalingActivityTable {
  listForTarget(targetId: string): ScalingActivity[] {
    return this.listWhere('target_id', [targetId]).sort(compareActivitiesNewestFirst);
  }
}

class SqliteFunctionChildTable<T extends { functionName: string }> extends SqliteRecordTable<T> implements FunctionChildTable<T> {
  listForFunction(functionName: string): T[] {
    return this.listWhere('function_name', [functionName]);
  }
}

class SqliteAsyncEventTable extends SqliteRecordTable<AsyncEvent> implements AsyncEventTable {
  listByStatus(status: AsyncEventStatus): AsyncEvent[] {
    return this.listWhere('status', [status]);
  }
}

/**
 * The Store on a SQLite file (created if missing). Throws DomainError
 * 'ValidationError' for a file that is not a Kennel state database, and
 * 'Conflict' for one written by a newer Kennel; in both cases the file is left
 * as it was.
 */
export function openSqliteStore(file: string): Store {
  const db = openKennelDatabase(file);

  const resourceTable = <T extends { name: string }>(table: string, kind: keyof typeof RECORD_KINDS) =>
    new SqliteRecordTable<T>(db, { table, kind: RECORD_KINDS[kind], keyField: 'name', keyColumn: 'name' });

  const keyedTable = <T extends object>(table: string, kind: keyof typeof RECORD_KINDS, keyField: keyof T & string, keyColumn: string) =>
    new SqliteRecordTable<T>(db, { table, kind: RECORD_KINDS[kind], keyField, keyColumn });

  return {
    datasets: resourceTable<Dataset>('datasets', 'datasets'),
    trainingJobs: new SqliteTrainingJobTable(db, {
      table: 'training_jobs',
      kind: RECORD_KINDS.trainingJobs,
      keyField: 'name',
      keyColumn: 'name',
      indexedColumns: [{ column: 'status', value: (job) => job.status }],
    }),
    models: resourceTable<Model>('models', 'models'),
    endpointConfigs: resourceTable<EndpointConfig>('endpoint_configs', 'endpointConfigs'),
    endpoints: resourceTable<Endpoint>('endpoints', 'endpoints'),
    tuningJobs: new SqliteTuningJobTable(db, {
      table: 'tuning_jobs',
      kind: RECORD_KINDS.tuningJobs,
      keyField: 'name',
      keyColumn: 'name',
      indexedColumns: [{ column: 'status', value: (job) => job.status }],
    }),
    embeddings: new SqliteEmbeddingCache(db),
    accessKeys: new SqliteAccessKeyTable(db, {
      table: 'access_keys',
      kind: RECORD_KINDS.accessKeys,
      keyField: 'accessKeyId',
      keyColumn: 'access_key_id',
      indexedColumns: [{ column: 'user_name', value: (key) => key.userName }],
    }),
    objects: new SqliteObjectTable(db),
    scalableTargets: new SqliteRecordTable<RegisteredScalableTarget>(db, {
      table: 'scalable_targets',
      kind: RECORD_KINDS.scalableTargets,
      keyField: 'id',
      keyColumn: 'id',
    }),
    scalingPolicies: new SqliteScalingPolicyTable(db, {
      table: 'scaling_policies',
      kind: RECORD_KINDS.scalingPolicies,
      keyField: 'policyArn',
      keyColumn: 'policy_arn',
      indexedColumns: [{ column: 'target_id', value: (policy) => policy.targetId }],
    }),
    scalingActivities: new SqliteScalingActivityTable(db, {
      table: 'scaling_activities',
      kind: RECORD_KINDS.scalingActivities,
      keyField: 'activityId',
      keyColumn: 'activity_id',
      indexedColumns: [{ column: 'target_id', value: (activity) => activity.targetId }],
    }),
    iamUsers: keyedTable<IamUser>('iam_users', 'iamUsers', 'userName', 'user_name'),
    iamGroups: keyedTable<IamGroup>('iam_groups', 'iamGroups', 'groupName', 'group_name'),
    iamRoles: keyedTable<IamRole>('iam_roles', 'iamRoles', 'roleName', 'role_name'),
    iamPolicies: keyedTable<ManagedPolicyRecord>('iam_policies', 'iamPolicies', 'arn', 'arn'),
    stsSessions: keyedTable<StsSession>('sts_sessions', 'stsSessions', 'accessKeyId', 'access_key_id'),
    auditEvents: new SqliteAuditLog(db),
    lambdaFunctions: resourceTable<LambdaFunction>('lambda_functions', 'lambdaFunctions'),
    functionVersions: new SqliteFunctionChildTable<FunctionVersion>(db, {
      table: 'function_versions',
      kind: RECORD_KINDS.functionVersions,
      keyField: 'key',
      keyColumn: 'key',
      indexedColumns: [{ column: 'function_name', value: (version) => version.functionName }],
    }),
    functionAliases: new SqliteFunctionChildTable<FunctionAlias>(db, {
      table: 'function_aliases',
      kind: RECORD_KINDS.functionAliases,
      keyField: 'key',
      keyColumn: 'key',
      indexedColumns: [{ column: 'function_name', value: (alias) => alias.functionName }],
    }),
    asyncEvents: new SqliteAsyncEventTable(db, {
      table: 'async_events',
      kind: RECORD_KINDS.asyncEvents,
      keyField: 'requestId',
      keyColumn: 'request_id',
      indexedColumns: [{ column: 'status', value: (event) => event.status }],
    }),
    close: () => db.close(),
  };
}
