import type Database from 'better-sqlite3';
import { DomainError, describeError } from '../../core/errors.ts';

/**
 * The state database's schema as an ordered list of migrations. The file's
 * `PRAGMA user_version` is the number of migrations applied; opening a file
 * applies the missing ones. Append new migrations; never edit a released one,
 * because existing databases have already run it.
 */
export interface Migration {
  description: string;
  sql: string;
}

/** "KNNL": marks a SQLite file as Kennel's, so another program's database is refused, not migrated. */
export const KENNEL_APPLICATION_ID = 0x4b4e4e4c;

/**
 * Resource records are JSON in `record`, keyed by name; a column is pulled out
 * of the JSON only where a query needs an index. Tables are STRICT so a bad
 * binding fails loudly instead of being stored with a surprising type.
 *
 * Embeddings use an ordinary rowid table with the (key, digest) primary key as
 * its index, not WITHOUT ROWID: the rows are ~8 KB vectors, and WITHOUT ROWID
 * keeps rows in index-format pages that spill most of each row to overflow
 * pages. Measured with 6,680 × 2048 floats: getMany 190-240 ms WITHOUT ROWID
 * against 50-55 ms as a rowid table.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    description: 'resource tables, access keys and the embedding cache',
    sql: `
      PRAGMA application_id = ${KENNEL_APPLICATION_ID};

      CREATE TABLE datasets (
        name TEXT PRIMARY KEY,
        record TEXT NOT NULL CHECK (json_valid(record))
      ) STRICT;

      CREATE TABLE training_jobs (
        name TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        record TEXT NOT NULL CHECK (json_valid(record))
      ) STRICT;
      CREATE INDEX training_jobs_by_status ON training_jobs (status);

      CREATE TABLE models (
        name TEXT PRIMARY KEY,
        record TEXT NOT NULL CHECK (json_valid(record))
      ) STRICT;

      CREATE TABLE endpoint_configs (
        name TEXT PRIMARY KEY,
        record TEXT NOT NULL CHECK (json_valid(record))
      ) STRICT;

      CREATE TABLE endpoints (
        name TEXT PRIMARY KEY,
        record TEXT NOT NULL CHECK (json_valid(record))
      ) STRICT;

      CREATE TABLE access_keys (
        access_key_id TEXT PRIMARY KEY,
        user_name TEXT NOT NULL,
        record TEXT NOT NULL CHECK (json_valid(record))
      ) STRICT;
      CREATE INDEX access_keys_by_user ON access_keys (user_name);

      CREATE TABLE embeddings (
        embedding_key TEXT NOT NULL,
        image_digest TEXT NOT NULL,
        vector BLOB NOT NULL,
        PRIMARY KEY (embedding_key, image_digest)
      ) STRICT;
    `,
  },
  {
    description: 'object store metadata',
    // WITHOUT ROWID: rows are small and always found or listed by (bucket, key), so the table is its own primary-key index.
    sql: `
      CREATE TABLE objects (
        bucket TEXT NOT NULL,
        object_key TEXT NOT NULL,
        digest TEXT NOT NULL,
        size_bytes INTEGER NOT NULL,
        last_modified_ms INTEGER NOT NULL,
        content_type TEXT,
        PRIMARY KEY (bucket, object_key)
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    description: 'SageMaker-shaped training jobs, models, endpoint configs and endpoints',
    // Records written before Kennel spoke SageMaker's control plane get the members it now
    // records, with the values the old Kennel used implicitly: the built-in image, the
    // dataset folder as a file:// channel, a 2-vCPU instance type, SageMaker's one-day
    // runtime limit. Their artifacts have no model.tar.gz, so none is claimed.
    sql: `
      UPDATE training_jobs SET record = json_remove(
        json_set(record,
          '$.spec', json_object(
            'algorithm', 'image-classifier',
            'trainingImage', 'kennel/image-classifier:latest',
            'trainingInputMode', 'File',
            'roleArn', 'arn:aws:iam::000000000000:role/KennelExecutionRole',
            'hyperParameters', json_object(
              'learning_rate', CAST(json_extract(record, '$.hyperParameters.learning_rate') AS TEXT),
              'batch_size', CAST(json_extract(record, '$.hyperParameters.batch_size') AS TEXT),
              'epochs', CAST(json_extract(record, '$.hyperParameters.epochs') AS TEXT),
              'hidden_units', CAST(json_extract(record, '$.hyperParameters.hidden_units') AS TEXT),
              'seed', CAST(json_extract(record, '$.hyperParameters.seed') AS TEXT)),
            'channels', json_array(json_object(
              'channelName', 'training',
              'uri', 'file://' || coalesce(
                (SELECT json_extract(datasets.record, '$.path') FROM datasets WHERE datasets.name = json_extract(training_jobs.record, '$.datasetName')),
                '/'),
              's3DataType', 'S3Prefix')),
            'outputPath', 's3://sagemaker-us-east-1-000000000000/',
            'instanceType', 'ml.m5.large',
            'instanceCount', 1,
            'volumeSizeInGB', 30,
            'maxRuntimeSeconds', 86400,
            'metricDefinitions', json_array(),
            'backbone', json(json_extract(record, '$.backbone')),
            'head', json(json_extract(record, '$.hyperParameters'))),
          '$.tags', json_array(),
          '$.secondaryStatus', CASE json_extract(record, '$.phase')
            WHEN 'Embedding' THEN 'Training' WHEN 'Evaluating' THEN 'Training'
            ELSE coalesce(json_extract(record, '$.phase'), 'Starting') END,
          '$.secondaryStatusTransitions', json_array(),
          '$.lastModifiedAtMs', coalesce(json_extract(record, '$.endedAtMs'), json_extract(record, '$.startedAtMs'), json_extract(record, '$.createdAtMs'))),
        '$.algorithm', '$.datasetName', '$.backbone', '$.hyperParameters', '$.phase')
      WHERE json_type(record, '$.spec') IS NULL;

      UPDATE models SET record = json_set(record,
          '$.executionRoleArn', 'arn:aws:iam::000000000000:role/KennelExecutionRole',
          '$.image', 'kennel/image-classifier:latest',
          '$.environment', json_object(),
          '$.tags', json_array())
      WHERE json_type(record, '$.image') IS NULL;

      UPDATE endpoint_configs SET record = json_set(record,
          '$.productionVariants[0].instanceType', 'ml.m5.large',
          '$.productionVariants[0].initialVariantWeight', 1,
          '$.tags', json_array())
      WHERE json_type(record, '$.tags') IS NULL;

      UPDATE endpoints SET record = json_set(record,
          '$.productionVariants[0].image', 'kennel/image-classifier:latest',
          '$.productionVariants[0].instanceType', 'ml.m5.large',
          '$.productionVariants[0].instanceCount', 1,
          '$.productionVariants[0].weight', 1,
          '$.tags', json_array())
      WHERE json_type(record, '$.tags') IS NULL AND json_array_length(record, '$.productionVariants') > 0;

      UPDATE endpoints SET record = json_set(record, '$.tags', json_array()) WHERE json_type(record, '$.tags') IS NULL;
    `,
  },
  {
    description: 'hyperparameter tuning jobs',
    sql: `
      CREATE TABLE tuning_jobs (
        name TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        record TEXT NOT NULL CHECK (json_valid(record))
      ) STRICT;
      CREATE INDEX tuning_jobs_by_status ON tuning_jobs (status);
    `,
  },
  {
    description: 'Application Auto Scaling: scalable targets, scaling policies and scaling activities',
    sql: `
      CREATE TABLE scalable_targets (
        id TEXT PRIMARY KEY,
        record TEXT NOT NULL CHECK (json_valid(record))
      ) STRICT;

      CREATE TABLE scaling_policies (
        policy_arn TEXT PRIMARY KEY,
        target_id TEXT NOT NULL,
        record TEXT NOT NULL CHECK (json_valid(record))
      ) STRICT;
      CREATE INDEX scaling_policies_by_target ON scaling_policies (target_id);

      CREATE TABLE scaling_activities (
        activity_id TEXT PRIMARY KEY,
        target_id TEXT NOT NULL,
        record TEXT NOT NULL CHECK (json_valid(record))
      ) STRICT;
      CREATE INDEX scaling_activities_by_target ON scaling_activities (target_id);
    `,
  },
  {
    description: 'IAM users, groups, roles, customer managed policies, STS sessions and the audit trail',
    sql: `
      CREATE TABLE iam_users (
        user_name TEXT PRIMARY KEY,
        record TEXT NOT NULL CHECK (json_valid(record))
      ) STRICT;
      CREATE TABLE iam_groups (
        group_name TEXT PRIMARY KEY,
        record TEXT NOT NULL CHECK (json_valid(record))
      ) STRICT;
      CREATE TABLE iam_roles (
        role_name TEXT PRIMARY KEY,
        record TEXT NOT NULL CHECK (json_valid(record))
      ) STRICT;
      CREATE TABLE iam_policies (
        arn TEXT PRIMARY KEY,
        record TEXT NOT NULL CHECK (json_valid(record))
      ) STRICT;
      CREATE TABLE sts_sessions (
        access_key_id TEXT PRIMARY KEY,
        record TEXT NOT NULL CHECK (json_valid(record))
      ) STRICT;

      CREATE TABLE audit_events (
        event_id TEXT PRIMARY KEY,
        time_ms INTEGER NOT NULL,
        principal_arn TEXT NOT NULL,
        action TEXT NOT NULL,
        decision TEXT NOT NULL,
        record TEXT NOT NULL CHECK (json_valid(record))
      ) STRICT;
      CREATE INDEX audit_events_by_time ON audit_events (time_ms, event_id);
      CREATE INDEX audit_events_by_principal ON audit_events (principal_arn, time_ms);
    `,
  },
  {
    description: 'Lambda functions, their versions and aliases, and queued asynchronous invocations',
    sql: `
      CREATE TABLE lambda_functions (
        name TEXT PRIMARY KEY,
        record TEXT NOT NULL CHECK (json_valid(record))
      ) STRICT;
      CREATE TABLE function_versions (
        key TEXT PRIMARY KEY,
        function_name TEXT NOT NULL,
        record TEXT NOT NULL CHECK (json_valid(record))
      ) STRICT;
      CREATE INDEX function_versions_by_function ON function_versions (function_name);
      CREATE TABLE function_aliases (
        key TEXT PRIMARY KEY,
        function_name TEXT NOT NULL,
        record TEXT NOT NULL CHECK (json_valid(record))
      ) STRICT;
      CREATE INDEX function_aliases_by_function ON function_aliases (function_name);
      CREATE TABLE async_events (
        request_id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        record TEXT NOT NULL CHECK (json_valid(record))
      ) STRICT;
      CREATE INDEX async_events_by_status ON async_events (status);
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

export function assertKnownSchemaVersion(version: number, file: string): void {
  if (version > SCHEMA_VERSION) {
    throw new DomainError(
      'Conflict',
      `Kennel state database ${file} has schema version ${version}, but this Kennel knows versions up to ${SCHEMA_VERSION}: it was written by a newer Kennel. Upgrade Kennel, or point KENNEL_HOME at another folder.`,
      { file, schemaVersion: version, knownSchemaVersion: SCHEMA_VERSION },
    );
  }
}

/** Applies the missing migrations, all in one transaction: a failure leaves the file as it was. */
export function migrate(db: Database.Database, file: string): void {
  if (schemaVersion(db) === SCHEMA_VERSION) return;
  const applyPending = db.transaction(() => {
    // Read again under the write lock: another process may have migrated since the check above.
    const current = schemaVersion(db);
    assertKnownSchemaVersion(current, file);
    for (let version = current + 1; version <= SCHEMA_VERSION; version++) {
      const migration = MIGRATIONS[version - 1];
      try {
        db.exec(migration.sql);
      } catch (error) {
        throw new DomainError(
          'Internal',
          `Migrating Kennel state database ${file} to schema version ${version} (${migration.description}) failed: ${describeError(error)}`,
          { file, schemaVersion: version },
        );
      }
    }
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  });
  applyPending.immediate();
}
