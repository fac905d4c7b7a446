import type Database from 'better-sqlite3';
import { MIGRATIONS } from '../store/sqlite/schema.ts';

/**
 * Makes a current state database look like one an older Kennel left behind:
 * drops every table that the migrations after `version` create, and sets the
 * schema version back, so a test can check that opening it migrates forward.
 */
export function rollBackToSchemaVersion(db: Database.Database, version: number): void {
  for (const migration of MIGRATIONS.slice(version)) {
    for (const [, table] of migration.sql.matchAll(/CREATE TABLE (\w+)/g)) db.exec(`DROP TABLE IF EXISTS ${table}`);
  }
  db.pragma(`user_version = ${version}`);
}
