/**
 * The backup side of storage: generic reads and writes of whole D1 tables (only the catalog's tables,
 * whose names come from the schema, never from a request), the installation's maintenance and import
 * bookkeeping in system_state, and the R2 bucket's objects as they are.
 */
import type { Db } from "../db/client";
import type { CatalogTable } from "./tables";

export type Cell = string | number | null;
export type Row = Record<string, Cell>;

/** Where a page of a table starts: after a rowid, or after a primary key's values (null: the first page). */
export type PageStart = { rowid: number } | { key: Cell[] | null };

const withoutRowid = new Map<string, boolean>();

export const MAINTENANCE_KEY = "maintenance";
const PROGRESS_PREFIX = "import.rows.";

/** One JSON text bound to one statement stays well under D1's 2 MB limit on a single value. */
const MAX_STATEMENT_JSON = 800_000;

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

export interface ObjectInfo {
  key: string;
  size: number;
  etag: string;
  uploaded: number;
  http_metadata: R2HTTPMetadata;
  custom_metadata: Record<string, string>;
}

function objectInfo(o: R2Object): ObjectInfo {
  // cacheExpiry is a Date and rarely set; the other fields are strings and travel as they are.
  const { cacheExpiry: _expiry, ...http } = o.httpMetadata ?? {};
  return {
    key: o.key,
    size: o.size,
    etag: o.etag,
    uploaded: o.uploaded.getTime(),
    http_metadata: http,
    custom_metadata: o.customMetadata ?? {},
  };
}

export class AdminStore {
  constructor(
    private readonly db: Db,
    private readonly bucket: R2Bucket,
  ) {}

  private get d1(): D1Database {
    return this.db.$client;
  }

  /**
   * Whether a table is WITHOUT ROWID: it then has no rowid and is paged by its primary key. Asked of
   * the database once per table (its schema only changes with a deploy, which starts a new Worker).
   */
  async withoutRowid(table: string): Promise<boolean> {
    let known = withoutRowid.get(table);
    if (known === undefined) {
      const r = await this.d1.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?").bind(table).first<{ sql: string | null }>();
      const sql = r?.sql ?? "";
      // The table options follow the closing parenthesis of the column list: `) WITHOUT ROWID, STRICT`.
      known = /\bWITHOUT\s+ROWID\b/i.test(sql.slice(sql.lastIndexOf(")")));
      withoutRowid.set(table, known);
    }
    return known;
  }

  /**
   * Rows after `after`, in rowid order or, for a WITHOUT ROWID table, in primary key order (keyset
   * paging). Neither order moves while the instance is read-only.
   */
  async page(table: CatalogTable, after: PageStart, limit: number): Promise<{ rows: Row[]; last: PageStart | null }> {
    const columns = table.columns.map(quote).join(", ");
    if ("rowid" in after) {
      const result = await this.d1
        .prepare(`SELECT rowid AS "__rowid", ${columns} FROM ${quote(table.name)} WHERE rowid > ? ORDER BY rowid LIMIT ?`)
        .bind(after.rowid, limit)
        .all<Row & { __rowid: number }>();
      const rows = result.results.map(({ __rowid, ...row }) => row as Row);
      return { rows, last: result.results.length ? { rowid: result.results[result.results.length - 1].__rowid } : null };
    }
    const key = table.primaryKey.map(quote).join(", ");
    const where = after.key === null ? "" : `WHERE (${key}) > (${table.primaryKey.map(() => "?").join(", ")})`;
    const result = await this.d1
      .prepare(`SELECT ${columns} FROM ${quote(table.name)} ${where} ORDER BY ${key} LIMIT ?`)
      .bind(...(after.key ?? []), limit)
      .all<Row>();
    const lastRow = result.results[result.results.length - 1];
    return { rows: result.results, last: lastRow ? { key: table.primaryKey.map((c) => lastRow[c]) } : null };
  }

  async counts(tables: CatalogTable[]): Promise<Record<string, number>> {
    const results = await this.d1.batch(tables.map((t) => this.d1.prepare(`SELECT count(*) AS n FROM ${quote(t.name)}`)));
    return Object.fromEntries(tables.map((t, i) => [t.name, Number((results[i].results[0] as { n: number }).n)]));
  }

  /** Rows of `table` other than the seeded one (see SEEDED_ROWS). */
  async countExcept(table: string, column: string, value: number): Promise<number> {
    const r = await this.d1.prepare(`SELECT count(*) AS n FROM ${quote(table)} WHERE ${quote(column)} IS NOT ?`).bind(value).first<{ n: number }>();
    return Number(r?.n ?? 0);
  }

  async deleteRow(table: string, column: string, value: number): Promise<void> {
    await this.d1.prepare(`DELETE FROM ${quote(table)} WHERE ${quote(column)} = ?`).bind(value).run();
  }

  /**
   * Appends rows to a table and records the new row count in one batch (one transaction): either the
   * whole chunk lands and the progress says so, or nothing does. Values go in as one JSON text per
   * statement, so no statement comes near D1's limit of 100 bound parameters.
   */
  async appendRows(table: CatalogTable, rows: Cell[][], doneAfter: number, now: number): Promise<void> {
    const columns = table.columns.map(quote).join(", ");
    const picks = table.columns.map((_, i) => `json_extract(value, '$[${i}]')`).join(", ");
    const sql = `INSERT INTO ${quote(table.name)} (${columns}) SELECT ${picks} FROM json_each(?) ORDER BY key`;
    const statements: D1PreparedStatement[] = [];
    let part: string[] = [];
    let size = 0;
    const flush = () => {
      if (part.length) statements.push(this.d1.prepare(sql).bind(`[${part.join(",")}]`));
      part = [];
      size = 0;
    };
    for (const row of rows) {
      const text = JSON.stringify(row);
      if (size + text.length > MAX_STATEMENT_JSON) flush();
      part.push(text);
      size += text.length + 1;
    }
    flush();
    statements.push(this.setStatement(PROGRESS_PREFIX + table.name, String(doneAfter), now));
    await this.d1.batch(statements);
  }

  async progress(): Promise<Record<string, number>> {
    const r = await this.d1.prepare("SELECT key, value FROM system_state WHERE key LIKE ?").bind(`${PROGRESS_PREFIX}%`).all<{ key: string; value: string }>();
    return Object.fromEntries(r.results.map((x) => [x.key.slice(PROGRESS_PREFIX.length), Number(x.value)]));
  }

  async clearProgress(): Promise<void> {
    await this.d1.prepare("DELETE FROM system_state WHERE key LIKE ?").bind(`${PROGRESS_PREFIX}%`).run();
  }

  private setStatement(key: string, value: string, now: number): D1PreparedStatement {
    return this.d1
      .prepare("INSERT INTO system_state (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at")
      .bind(key, value, now);
  }

  async getState(key: string): Promise<string | null> {
    const r = await this.d1.prepare("SELECT value FROM system_state WHERE key = ?").bind(key).first<{ value: string }>();
    return r?.value ?? null;
  }

  async setState(key: string, value: string, now: number): Promise<void> {
    await this.setStatement(key, value, now).run();
  }

  /** Sets the key only when it is absent; false when another value holds it. */
  async claimState(key: string, value: string, now: number): Promise<boolean> {
    const r = await this.d1.prepare("INSERT INTO system_state (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING").bind(key, value, now).run();
    return r.meta.changes === 1;
  }

  async deleteState(key: string): Promise<void> {
    await this.d1.prepare("DELETE FROM system_state WHERE key = ?").bind(key).run();
  }

  // ---- R2 ----------------------------------------------------------------------------------

  async listObjects(cursor: string | undefined, limit: number): Promise<{ objects: ObjectInfo[]; cursor: string | null }> {
    // `include` is honoured by R2 (and by the local runtime) though its type does not list it yet.
    const options = { cursor, limit, include: ["httpMetadata", "customMetadata"] } as R2ListOptions;
    const listed = await this.bucket.list(options);
    return { objects: listed.objects.map(objectInfo), cursor: listed.truncated ? listed.cursor : null };
  }

  async anyObject(): Promise<boolean> {
    return (await this.bucket.list({ limit: 1 })).objects.length > 0;
  }

  getObject(key: string): Promise<R2ObjectBody | null> {
    return this.bucket.get(key);
  }

  async deleteObject(key: string): Promise<void> {
    await this.bucket.delete(key);
  }

  createUpload(key: string, httpMetadata: R2HTTPMetadata, customMetadata: Record<string, string>): Promise<R2MultipartUpload> {
    return this.bucket.createMultipartUpload(key, { httpMetadata, customMetadata });
  }

  upload(key: string, uploadId: string): R2MultipartUpload {
    return this.bucket.resumeMultipartUpload(key, uploadId);
  }

  /** Writes the bytes under `key`, R2 refusing them unless they hash to `sha256`. */
  putObject(key: string, body: ReadableStream<Uint8Array>, sha256: string, httpMetadata: R2HTTPMetadata, customMetadata: Record<string, string>): Promise<R2Object | null> {
    return this.bucket.put(key, body, { sha256, httpMetadata, customMetadata });
  }
}
