/**
 * D1 access for the model registry: registered models, versions, their tags and aliases, search.
 * Writes that depend on a row existing carry that condition in their SQL, so one statement (or one
 * batch, which D1 runs as a transaction) both checks and writes. A deleted version stays as a
 * redacted row in the Deleted_Internal stage, as in MLflow's SQL store, so version numbers are never
 * reused; every read leaves those rows out.
 */
import { sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/client";
import { stringPredicate } from "../db/predicates";
import {
  PROMPT_TAG,
  STAGE_ARCHIVED,
  STAGE_DELETED,
  type KeyValue,
  type ModelAlias,
  type ModelVersion,
  type RegisteredModel,
  type RegistryComparison,
  type RegistryOrderBy,
  type Stage,
} from "./model";

type Row = Record<string, unknown>;

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function toVersion(r: Row, tags: KeyValue[] = [], aliases: string[] = []): ModelVersion {
  return {
    name: String(r.name),
    version: Number(r.version),
    creationTime: Number(r.creation_time),
    lastUpdatedTime: Number(r.last_updated_time),
    description: str(r.description),
    userId: str(r.user_id),
    currentStage: String(r.current_stage),
    source: String(r.source),
    runId: str(r.run_id),
    runLink: str(r.run_link),
    status: String(r.status),
    statusMessage: str(r.status_message),
    modelId: str(r.model_id),
    tags,
    aliases,
  };
}

const versionKey = (name: string, version: number) => `${version}\u0000${name}`;

function groupBy<T>(rows: Row[], key: (r: Row) => string, value: (r: Row) => T): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r);
    if (!out.has(k)) out.set(k, []);
    out.get(k)!.push(value(r));
  }
  return out;
}

const LIVE = `current_stage != '${STAGE_DELETED}'`;
/** The newest live version of its stage, for the latest_versions of a registered model. */
const LATEST_IN_STAGE = `mv.${LIVE} AND mv.version = (SELECT MAX(v2.version) FROM model_versions v2 WHERE v2.name = mv.name AND v2.current_stage = mv.current_stage)`;
const NAMES_IN = "SELECT value FROM json_each(?1)";


function tagPredicate(table: "registered_model_tags" | "model_version_tags", c: RegistryComparison): SQL {
  const join = table === "registered_model_tags" ? sql`t.name = rm.name` : sql`t.name = mv.name AND t.version = mv.version`;
  return sql`EXISTS (SELECT 1 FROM ${sql.raw(table)} t WHERE ${join} AND t.key = ${c.key} AND ${stringPredicate(sql.raw("t.value"), c)})`;
}

/**
 * MLflow 3 keeps prompts in the registry and hides them from searches unless the filter asks for
 * `tags.mlflow.prompt.is_prompt = 'true'`; then that clause is an ordinary tag filter.
 */
function promptScope(filter: RegistryComparison[], hidePrompts: SQL): { filter: RegistryComparison[]; extra: SQL[] } {
  const asksForPrompts = filter.some(
    (c) => c.entity === "tag" && c.key === PROMPT_TAG && typeof c.value === "string" &&
      ((c.comparator === "=" && c.value.toLowerCase() === "true") || (c.comparator === "!=" && c.value.toLowerCase() === "false")),
  );
  if (asksForPrompts) return { filter, extra: [] };
  return { filter: filter.filter((c) => !(c.entity === "tag" && c.key === PROMPT_TAG)), extra: [hidePrompts] };
}

const MODEL_ORDER_COLUMNS: Record<string, string> = { name: "rm.name", last_updated_timestamp: "rm.last_updated_time" };
const VERSION_ORDER_COLUMNS: Record<string, string> = {
  name: "mv.name",
  version_number: "mv.version",
  creation_timestamp: "mv.creation_time",
  last_updated_timestamp: "mv.last_updated_time",
};
const VERSION_FILTER_COLUMNS: Record<string, string> = {
  name: "mv.name",
  // Versions registered without a run have no run_id; MLflow stores "" there, so != matches them.
  run_id: "COALESCE(mv.run_id, '')",
  source_path: "mv.source",
  version_number: "mv.version",
};

const orderSql = (columns: Record<string, string>, o: RegistryOrderBy) => sql.raw(`${columns[o.key]} ${o.ascending ? "ASC" : "DESC"}`);

export interface NewVersion {
  name: string;
  source: string;
  storageLocation: string | null;
  runId: string | null;
  runLink: string | null;
  description: string | null;
  modelId: string | null;
  tags: KeyValue[];
  now: number;
}

export class RegistryStore {
  constructor(private readonly db: Db) {}

  private get d1(): D1Database {
    return this.db.$client;
  }

  // --- registered models -------------------------------------------------------------------

  /** false when the name is taken. */
  async insertModel(m: { name: string; description: string | null; tags: KeyValue[]; now: number }): Promise<boolean> {
    try {
      await this.d1.batch([
        this.d1
          .prepare("INSERT INTO registered_models (name, creation_time, last_updated_time, description) VALUES (?1, ?2, ?2, ?3)")
          .bind(m.name, m.now, m.description),
        this.d1
          .prepare(
            `INSERT INTO registered_model_tags (name, key, value)
             SELECT ?1, j.value ->> '$.key', j.value ->> '$.value' FROM json_each(?2) j WHERE true
             ON CONFLICT (name, key) DO UPDATE SET value = excluded.value`,
          )
          .bind(m.name, JSON.stringify(m.tags)),
      ]);
      return true;
    } catch (err) {
      if (isConstraint(err, "UNIQUE") || isConstraint(err, "PRIMARY KEY")) return false;
      throw err;
    }
  }

  async modelExists(name: string): Promise<boolean> {
    return (await this.d1.prepare("SELECT 1 AS found FROM registered_models WHERE name = ?1").bind(name).first()) !== null;
  }

  async getModel(name: string): Promise<RegisteredModel | null> {
    return (await this.getModels([name]))[0] ?? null;
  }

  /** The models with these names, in the order given; unknown names are left out. */
  async getModels(names: string[]): Promise<RegisteredModel[]> {
    if (names.length === 0) return [];
    const ids = JSON.stringify(names);
    const q = (text: string) => this.d1.prepare(text).bind(ids);
    const [models, tags, aliases, latest, latestTags] = await this.d1.batch<Row>([
      q(`SELECT * FROM registered_models WHERE name IN (${NAMES_IN})`),
      q(`SELECT name, key, value FROM registered_model_tags WHERE name IN (${NAMES_IN}) ORDER BY key`),
      q(`SELECT name, alias, version FROM registered_model_aliases WHERE name IN (${NAMES_IN}) ORDER BY alias`),
      // Stages in the order their first version appeared, as MLflow builds latest_versions.
      q(`SELECT mv.*, (SELECT MIN(v3.version) FROM model_versions v3 WHERE v3.name = mv.name AND v3.current_stage = mv.current_stage) AS first_version
         FROM model_versions mv WHERE mv.name IN (${NAMES_IN}) AND ${LATEST_IN_STAGE} ORDER BY first_version`),
      q(`SELECT t.name, t.version, t.key, t.value FROM model_version_tags t
         WHERE (t.name, t.version) IN (SELECT mv.name, mv.version FROM model_versions mv WHERE mv.name IN (${NAMES_IN}) AND ${LATEST_IN_STAGE})
         ORDER BY t.key`),
    ]);
    const tagsOf = groupBy(tags.results, (r) => String(r.name), (r) => ({ key: String(r.key), value: String(r.value) }));
    const aliasesOf = groupBy(aliases.results, (r) => String(r.name), (r): ModelAlias => ({ alias: String(r.alias), version: Number(r.version) }));
    const versionTags = groupBy(latestTags.results, (r) => versionKey(String(r.name), Number(r.version)), (r) => ({ key: String(r.key), value: String(r.value) }));
    const latestOf = groupBy(latest.results, (r) => String(r.name), (r) => toVersion(r, versionTags.get(versionKey(String(r.name), Number(r.version))) ?? []));
    const byName = new Map<string, RegisteredModel>();
    for (const r of models.results) {
      const name = String(r.name);
      byName.set(name, {
        name,
        creationTime: Number(r.creation_time),
        lastUpdatedTime: Number(r.last_updated_time),
        description: str(r.description),
        latestVersions: latestOf.get(name) ?? [],
        tags: tagsOf.get(name) ?? [],
        aliases: aliasesOf.get(name) ?? [],
      });
    }
    return names.map((n) => byName.get(n)).filter((m): m is RegisteredModel => m !== undefined);
  }

  /**
   * Moves the model with its versions, tags and aliases (the foreign keys cascade on update).
   * "missing": no model of that name; "taken": the new name exists.
   */
  async renameModel(name: string, newName: string, now: number): Promise<"renamed" | "missing" | "taken"> {
    try {
      const [renamed] = await this.d1.batch([
        this.d1.prepare("UPDATE registered_models SET name = ?2, last_updated_time = ?3 WHERE name = ?1").bind(name, newName, now),
        this.d1.prepare("UPDATE model_versions SET last_updated_time = ?2 WHERE name = ?1").bind(newName, now),
      ]);
      return renamed.meta.changes > 0 ? "renamed" : "missing";
    } catch (err) {
      if (isConstraint(err, "UNIQUE") || isConstraint(err, "PRIMARY KEY")) return "taken";
      throw err;
    }
  }

  async updateModelDescription(name: string, description: string | null, now: number): Promise<boolean> {
    const res = await this.d1
      .prepare("UPDATE registered_models SET description = ?2, last_updated_time = ?3 WHERE name = ?1")
      .bind(name, description, now)
      .run();
    return res.meta.changes > 0;
  }

  /** Versions, tags and aliases go with it (ON DELETE CASCADE). */
  async deleteModel(name: string): Promise<boolean> {
    const res = await this.d1.prepare("DELETE FROM registered_models WHERE name = ?1").bind(name).run();
    return res.meta.changes > 0;
  }

  /** false when there is no such model. */
  async setModelTag(name: string, tag: KeyValue): Promise<boolean> {
    const res = await this.d1
      .prepare(
        `INSERT INTO registered_model_tags (name, key, value)
         SELECT name, ?2, ?3 FROM registered_models WHERE name = ?1
         ON CONFLICT (name, key) DO UPDATE SET value = excluded.value`,
      )
      .bind(name, tag.key, tag.value)
      .run();
    return res.meta.changes > 0;
  }

  async deleteModelTag(name: string, key: string): Promise<void> {
    await this.d1.prepare("DELETE FROM registered_model_tags WHERE name = ?1 AND key = ?2").bind(name, key).run();
  }

  async searchModelNames(q: { filter: RegistryComparison[]; orderBy: RegistryOrderBy[]; offset: number; limit: number }): Promise<string[]> {
    const scope = promptScope(
      q.filter,
      sql`NOT EXISTS (SELECT 1 FROM registered_model_tags p WHERE p.name = rm.name AND p.key = ${PROMPT_TAG} AND p.value = 'true')`,
    );
    const where = [
      sql`1 = 1`,
      ...scope.filter.map((c) => (c.entity === "tag" ? tagPredicate("registered_model_tags", c) : stringPredicate(sql.raw("rm.name"), c))),
      ...scope.extra,
    ];
    const order = q.orderBy.map((o) => orderSql(MODEL_ORDER_COLUMNS, o));
    if (!q.orderBy.some((o) => o.key === "name")) order.push(sql.raw("rm.name ASC"));
    const rows = await this.db.all<{ name: string }>(
      sql`SELECT rm.name FROM registered_models rm WHERE ${sql.join(where, sql` AND `)} ORDER BY ${sql.join(order, sql`, `)} LIMIT ${q.limit} OFFSET ${q.offset}`,
    );
    return rows.map((r) => r.name);
  }

  // --- model versions ----------------------------------------------------------------------

  /**
   * Numbers the version in the INSERT itself (one more than the highest, deleted ones included),
   * so concurrent creates can never share a number. null when there is no such model.
   */
  async insertVersion(v: NewVersion): Promise<number | null> {
    const [inserted] = await this.d1.batch<{ version: number }>([
      this.d1
        .prepare(
          `INSERT INTO model_versions (name, version, creation_time, last_updated_time, description, current_stage, source, run_id, run_link, status, storage_location, model_id)
           SELECT rm.name, (SELECT COALESCE(MAX(v.version), 0) + 1 FROM model_versions v WHERE v.name = rm.name), ?2, ?2, ?3, 'None', ?4, ?5, ?6, 'READY', ?7, ?8
           FROM registered_models rm WHERE rm.name = ?1
           RETURNING version`,
        )
        .bind(v.name, v.now, v.description, v.source, v.runId, v.runLink, v.storageLocation, v.modelId),
      this.d1
        .prepare(
          `INSERT INTO model_version_tags (name, version, key, value)
           SELECT ?1, (SELECT MAX(version) FROM model_versions WHERE name = ?1), j.value ->> '$.key', j.value ->> '$.value'
           FROM json_each(?2) j WHERE EXISTS (SELECT 1 FROM registered_models WHERE name = ?1)`,
        )
        .bind(v.name, JSON.stringify(v.tags)),
      this.d1.prepare("UPDATE registered_models SET last_updated_time = ?2 WHERE name = ?1").bind(v.name, v.now),
    ]);
    return inserted.results[0]?.version ?? null;
  }

  async getVersion(name: string, version: number): Promise<ModelVersion | null> {
    const [rows, tags, aliases] = await this.d1.batch<Row>([
      this.d1.prepare(`SELECT * FROM model_versions WHERE name = ?1 AND version = ?2 AND ${LIVE}`).bind(name, version),
      this.d1.prepare("SELECT key, value FROM model_version_tags WHERE name = ?1 AND version = ?2 ORDER BY key").bind(name, version),
      this.d1.prepare("SELECT alias FROM registered_model_aliases WHERE name = ?1 AND version = ?2 ORDER BY alias").bind(name, version),
    ]);
    const row = rows.results[0];
    if (!row) return null;
    return toVersion(
      row,
      tags.results.map((t) => ({ key: String(t.key), value: String(t.value) })),
      aliases.results.map((a) => String(a.alias)),
    );
  }

  /** Where a version's files are: the location resolved at registration, else its source. */
  async versionLocation(name: string, version: number): Promise<{ source: string; storageLocation: string | null } | null> {
    const row = await this.d1
      .prepare(`SELECT source, storage_location FROM model_versions WHERE name = ?1 AND version = ?2 AND ${LIVE}`)
      .bind(name, version)
      .first<Row>();
    return row ? { source: String(row.source), storageLocation: str(row.storage_location) } : null;
  }

  async updateVersionDescription(name: string, version: number, description: string | null, now: number): Promise<boolean> {
    const res = await this.d1
      .prepare(`UPDATE model_versions SET description = ?3, last_updated_time = ?4 WHERE name = ?1 AND version = ?2 AND ${LIVE}`)
      .bind(name, version, description, now)
      .run();
    return res.meta.changes > 0;
  }

  /** MLflow's soft delete: the row stays, redacted, so its number is never handed out again. */
  async deleteVersion(name: string, version: number, now: number): Promise<boolean> {
    const live = `EXISTS (SELECT 1 FROM model_versions WHERE name = ?1 AND version = ?2 AND ${LIVE})`;
    const results = await this.d1.batch([
      this.d1.prepare(`DELETE FROM registered_model_aliases WHERE name = ?1 AND version = ?2 AND ${live}`).bind(name, version),
      this.d1.prepare(`UPDATE registered_models SET last_updated_time = ?3 WHERE name = ?1 AND ${live}`).bind(name, version, now),
      this.d1
        .prepare(
          `UPDATE model_versions SET current_stage = '${STAGE_DELETED}', last_updated_time = ?3, description = NULL, user_id = NULL,
             source = 'REDACTED-SOURCE-PATH', run_id = 'REDACTED-RUN-ID', run_link = 'REDACTED-RUN-LINK', status_message = NULL, storage_location = NULL
           WHERE name = ?1 AND version = ?2 AND ${LIVE}`,
        )
        .bind(name, version, now),
    ]);
    return results[2].meta.changes > 0;
  }

  /** One transaction: optionally archive the others in the target stage, move this one, touch the model. */
  async transitionStage(name: string, version: number, stage: Stage, archiveExisting: boolean, now: number): Promise<boolean> {
    const live = `EXISTS (SELECT 1 FROM model_versions WHERE name = ?1 AND version = ?2 AND ${LIVE})`;
    const statements = [];
    if (archiveExisting) {
      statements.push(
        this.d1
          .prepare(`UPDATE model_versions SET current_stage = ?4, last_updated_time = ?5 WHERE name = ?1 AND version != ?2 AND current_stage = ?3 AND ${live}`)
          .bind(name, version, stage, STAGE_ARCHIVED, now),
      );
    }
    statements.push(
      this.d1.prepare(`UPDATE registered_models SET last_updated_time = ?3 WHERE name = ?1 AND ${live}`).bind(name, version, now),
      this.d1
        .prepare(`UPDATE model_versions SET current_stage = ?3, last_updated_time = ?4 WHERE name = ?1 AND version = ?2 AND ${LIVE}`)
        .bind(name, version, stage, now),
    );
    const results = await this.d1.batch(statements);
    return results[results.length - 1].meta.changes > 0;
  }

  /** false when there is no such live version. */
  async setVersionTag(name: string, version: number, tag: KeyValue): Promise<boolean> {
    const res = await this.d1
      .prepare(
        `INSERT INTO model_version_tags (name, version, key, value)
         SELECT name, version, ?3, ?4 FROM model_versions WHERE name = ?1 AND version = ?2 AND ${LIVE}
         ON CONFLICT (name, version, key) DO UPDATE SET value = excluded.value`,
      )
      .bind(name, version, tag.key, tag.value)
      .run();
    return res.meta.changes > 0;
  }

  async deleteVersionTag(name: string, version: number, key: string): Promise<void> {
    await this.d1.prepare("DELETE FROM model_version_tags WHERE name = ?1 AND version = ?2 AND key = ?3").bind(name, version, key).run();
  }

  async searchVersions(q: { filter: RegistryComparison[]; orderBy: RegistryOrderBy[]; offset: number; limit: number }): Promise<ModelVersion[]> {
    // A model is a prompt when any of its versions carries the prompt tag.
    const scope = promptScope(
      q.filter,
      sql`NOT EXISTS (SELECT 1 FROM model_version_tags p WHERE p.name = mv.name AND p.key = ${PROMPT_TAG} AND p.value = 'true')`,
    );
    const where = [
      sql.raw(`mv.${LIVE}`),
      ...scope.filter.map((c) => (c.entity === "tag" ? tagPredicate("model_version_tags", c) : stringPredicate(sql.raw(VERSION_FILTER_COLUMNS[c.key]), c))),
      ...scope.extra,
    ];
    const order = q.orderBy.map((o) => orderSql(VERSION_ORDER_COLUMNS, o));
    if (!q.orderBy.some((o) => o.key === "name")) order.push(sql.raw("mv.name ASC"));
    if (!q.orderBy.some((o) => o.key === "version_number")) order.push(sql.raw("mv.version DESC"));
    const rows = await this.db.all<Row>(
      sql`SELECT mv.* FROM model_versions mv WHERE ${sql.join(where, sql` AND `)} ORDER BY ${sql.join(order, sql`, `)} LIMIT ${q.limit} OFFSET ${q.offset}`,
    );
    if (rows.length === 0) return [];
    const pairs = JSON.stringify(rows.map((r) => [r.name, r.version]));
    const inPairs = "(name, version) IN (SELECT j.value ->> 0, j.value ->> 1 FROM json_each(?1) j)";
    const [tags, aliases] = await this.d1.batch<Row>([
      this.d1.prepare(`SELECT name, version, key, value FROM model_version_tags WHERE ${inPairs} ORDER BY key`).bind(pairs),
      this.d1.prepare(`SELECT name, version, alias FROM registered_model_aliases WHERE ${inPairs} ORDER BY alias`).bind(pairs),
    ]);
    const key = (r: Row) => versionKey(String(r.name), Number(r.version));
    const tagsOf = groupBy(tags.results, key, (r) => ({ key: String(r.key), value: String(r.value) }));
    const aliasesOf = groupBy(aliases.results, key, (r) => String(r.alias));
    return rows.map((r) => toVersion(r, tagsOf.get(key(r)) ?? [], aliasesOf.get(key(r)) ?? []));
  }

  // --- aliases -----------------------------------------------------------------------------

  /** Points the alias at the version; false when there is no such live version. */
  async setAlias(name: string, alias: string, version: number): Promise<boolean> {
    const res = await this.d1
      .prepare(
        `INSERT INTO registered_model_aliases (name, alias, version)
         SELECT name, ?3, version FROM model_versions WHERE name = ?1 AND version = ?2 AND ${LIVE}
         ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version`,
      )
      .bind(name, version, alias)
      .run();
    return res.meta.changes > 0;
  }

  async deleteAlias(name: string, alias: string): Promise<void> {
    await this.d1.prepare("DELETE FROM registered_model_aliases WHERE name = ?1 AND alias = ?2").bind(name, alias).run();
  }

  async aliasVersion(name: string, alias: string): Promise<number | null> {
    const row = await this.d1.prepare("SELECT version FROM registered_model_aliases WHERE name = ?1 AND alias = ?2").bind(name, alias).first<{ version: number }>();
    return row ? Number(row.version) : null;
  }
}

function isConstraint(err: unknown, kind: string): boolean {
  const text = `${String(err)} ${String((err as { cause?: unknown })?.cause ?? "")}`;
  return text.includes(`${kind} constraint failed`);
}
