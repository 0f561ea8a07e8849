/**
 * The backup catalog: which D1 tables an export carries, in an order that inserts parents before the
 * rows that reference them, and which tables it leaves out and why. The list is derived from the drizzle
 * schema, so a table added there is exported unless it is named in EXCLUDED_TABLES with a reason (a unit
 * test checks that every schema table is one or the other).
 */
import { getTableConfig, SQLiteTable } from "drizzle-orm/sqlite-core";
import * as schema from "../db/schema";

export interface CatalogTable {
  name: string;
  /** Column names as in SQL, in declaration order. */
  columns: string[];
  /** Tables this one references by foreign key (other than itself). */
  references: string[];
  /** The primary key's columns in key order (empty when the table declares none). */
  primaryKey: string[];
}

/** Tables an export leaves out, each with the reason a restored instance does not need it. */
export const EXCLUDED_TABLES: Readonly<Record<string, string>> = {
  system_state:
    "facts about this installation itself (the scheduler's last tick, the maintenance mode and import progress), not about its data",
  blob_uploads:
    "multipart uploads still in progress: their R2 upload ids only mean something to the source bucket, and unfinished uploads hold no committed data",
  blob_upload_parts: "the parts of those in-progress uploads (see blob_uploads)",
};

/** Tables a fresh instance already fills (migrations seed MLflow's Default experiment). */
export const SEEDED_ROWS: Readonly<Record<string, { column: string; value: number }>> = {
  experiments: { column: "experiment_id", value: 0 },
};

/** Tables whose rows may already exist on an import target: a token made to run the import is kept. */
export const TARGET_MAY_HOLD = new Set(["api_tokens"]);

export function schemaTables(): CatalogTable[] {
  const out: CatalogTable[] = [];
  for (const value of Object.values(schema)) {
    if (!(value instanceof SQLiteTable)) continue;
    const config = getTableConfig(value);
    const references = new Set<string>();
    for (const fk of config.foreignKeys) {
      const target = getTableConfig(fk.reference().foreignTable).name;
      if (target !== config.name) references.add(target);
    }
    const primaryKey = config.primaryKeys[0]?.columns.map((c) => c.name) ?? config.columns.filter((c) => c.primary).map((c) => c.name);
    out.push({ name: config.name, columns: config.columns.map((c) => c.name), references: [...references], primaryKey });
  }
  return out;
}

/** Orders tables so each comes after the tables it references (declaration order among equals). */
export function insertionOrder(tables: CatalogTable[]): CatalogTable[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const out: CatalogTable[] = [];
  const visit = (t: CatalogTable) => {
    if (done.has(t.name)) return;
    if (visiting.has(t.name)) throw new Error(`foreign keys form a cycle through ${t.name}`);
    visiting.add(t.name);
    for (const r of t.references) {
      const parent = byName.get(r);
      if (parent) visit(parent);
    }
    visiting.delete(t.name);
    done.add(t.name);
    out.push(t);
  };
  for (const t of tables) visit(t);
  return out;
}

/** The exported tables in insertion order. */
export function exportedTables(): CatalogTable[] {
  return insertionOrder(schemaTables().filter((t) => !(t.name in EXCLUDED_TABLES)));
}
