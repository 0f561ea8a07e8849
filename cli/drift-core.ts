/**
 * What `tern drift` computes, in TypeScript so it shares the pure drift module and the table reader
 * with the Worker and the browser; cli/drift.mjs bundles this file with esbuild when the command runs
 * (Node 20 cannot load TypeScript). Reads a CSV or Parquet file into columns typed the way pandas
 * types them, and runs driftReport on the two tables.
 */
import { driftReport, type ColumnSetting, type DriftReportSummary, type RawValue } from "../worker/lib/drift";
import type { ColumnValues as DriftColumnValues } from "../worker/lib/drift/select";
import { formatOf, readCsv, readParquet } from "../app/src/lib/drift/read-table";
import { inferTableColumnType, type ColumnValues, type Table } from "../app/src/lib/drift/table";

/** Bad input the command reports with exit code 2 (not a bug in the computation). */
export class InputError extends Error {
  override readonly name = "InputError";
}

/** A data file's bytes as a table; the format follows the file name (.parquet, else CSV). */
export async function readTableBytes(name: string, bytes: Uint8Array): Promise<Table> {
  try {
    if (formatOf(name) === "parquet") {
      const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      return await readParquet(buffer);
    }
    return await readCsv(new TextDecoder("utf-8").decode(bytes));
  } catch (err) {
    throw new InputError(`${name}: ${(err as Error).message}`);
  }
}

/** A column as driftReport takes it: numbers stay a Float64Array, categories become their cells. */
function toDriftValues(data: ColumnValues): DriftColumnValues {
  if (data.storage === "number") return data.values;
  return Array.from(data.codes, (c): RawValue => (c < 0 ? null : data.dictionary[c]));
}

/**
 * Drift of every column present in both tables (reference order). Each column's type comes from the
 * current file as pandas would read it: a typed array alone cannot tell "1.0" (float) from "1" (int).
 */
export function driftOfTables(reference: Table, current: Table, options: { allTests?: boolean } = {}): DriftReportSummary {
  const currentByName = new Map(current.columns.map((c) => [c.name, c.data]));
  const common = reference.columns.filter((c) => currentByName.has(c.name));
  if (common.length === 0) throw new InputError("The reference and current files have no column in common.");
  const ref: Record<string, DriftColumnValues> = {};
  const cur: Record<string, DriftColumnValues> = {};
  const settings: Record<string, ColumnSetting> = {};
  for (const { name, data } of common) {
    const currentData = currentByName.get(name) as ColumnValues;
    ref[name] = toDriftValues(data);
    cur[name] = toDriftValues(currentData);
    settings[name] = { type: inferTableColumnType(currentData) };
  }
  return driftReport({ reference: ref, current: cur, columns: common.map((c) => c.name), settings, allTests: options.allTests ?? false });
}
