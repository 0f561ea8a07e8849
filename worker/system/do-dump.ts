/**
 * Dumps and restores of a Durable Object's SQLite storage, for backups: the rows of the tables the
 * object names (never arbitrary SQL from the dump), with its alarm. A dump is read in one synchronous
 * pass, so it is one consistent state of the object; a restore writes every row in one transaction into
 * an object that holds nothing yet.
 */

export type DumpValue = string | number | null;

export interface DurableObjectDump {
  format: 1;
  tables: Record<string, { columns: string[]; rows: DumpValue[][] }>;
  /** The object's pending alarm (milliseconds since the epoch), or null. */
  alarm: number | null;
}

/** A dump this object cannot take: the reason, for a 4xx. */
export class DumpError extends Error {}

/** A dump larger than this is refused rather than sent through one RPC reply. */
export const MAX_DUMP_BYTES = 24 * 1024 * 1024;

export function dumpTables(sql: SqlStorage, tables: readonly string[], alarm: number | null): DurableObjectDump {
  const out: DurableObjectDump = { format: 1, tables: {}, alarm };
  let bytes = 0;
  for (const table of tables) {
    const cursor = sql.exec(`SELECT * FROM "${table}" ORDER BY rowid`);
    const rows: DumpValue[][] = [];
    for (const raw of cursor.raw()) {
      const row = raw.map((v) => {
        if (v instanceof ArrayBuffer) throw new DumpError(`table ${table} holds binary values, which dumps do not carry`);
        if (typeof v === "string") bytes += v.length;
        else bytes += 8;
        return v as DumpValue;
      });
      if (bytes > MAX_DUMP_BYTES) throw new DumpError(`the object's storage exceeds ${MAX_DUMP_BYTES} bytes, the largest dump Tern takes in one piece`);
      rows.push(row);
    }
    out.tables[table] = { columns: cursor.columnNames, rows };
  }
  return out;
}

/**
 * Inserts a dump's rows into tables that exist already (the object creates its own schema first).
 * Throws DumpError on a table or column the object does not have, or a malformed row; the caller runs
 * this inside transactionSync so a refused dump writes nothing.
 */
export function restoreTables(sql: SqlStorage, tables: readonly string[], dump: DurableObjectDump): void {
  if (!dump || dump.format !== 1 || typeof dump.tables !== "object" || dump.tables === null) throw new DumpError("not a dump of format 1");
  for (const [table, data] of Object.entries(dump.tables)) {
    if (!tables.includes(table)) throw new DumpError(`unknown table '${table}' (this object has: ${tables.join(", ")})`);
    const known = new Set(sql.exec<{ name: string }>(`SELECT name FROM pragma_table_info('${table}')`).toArray().map((r) => r.name));
    if (!Array.isArray(data?.columns) || !Array.isArray(data.rows)) throw new DumpError(`table ${table}: columns and rows must be arrays`);
    for (const c of data.columns) if (typeof c !== "string" || !known.has(c)) throw new DumpError(`table ${table} has no column '${String(c)}'`);
    const statement = `INSERT INTO "${table}" (${data.columns.map((c) => `"${c}"`).join(", ")}) VALUES (${data.columns.map(() => "?").join(", ")})`;
    for (const [i, row] of data.rows.entries()) {
      if (!Array.isArray(row) || row.length !== data.columns.length) throw new DumpError(`table ${table}, row ${i}: expected ${data.columns.length} values`);
      for (const v of row) if (v !== null && typeof v !== "string" && typeof v !== "number") throw new DumpError(`table ${table}, row ${i}: values must be strings, numbers or null`);
      sql.exec(statement, ...row);
    }
  }
}

/** Whether any of the tables holds a row. */
export function holdsRows(sql: SqlStorage, tables: readonly string[]): boolean {
  const existing = new Set(sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").toArray().map((r) => r.name));
  return tables.some((t) => existing.has(t) && sql.exec(`SELECT 1 FROM "${t}" LIMIT 1`).toArray().length > 0);
}
