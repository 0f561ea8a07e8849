/**
 * A data file as drift computations take it: column by column, numbers in a Float64Array (NaN is
 * missing) and everything else dictionary-encoded in an Int32Array (-1 is missing), so a column moves
 * between threads by transferring its buffer. Also Evidently's column type inference on that form.
 */
import type { CategoryValue, ColumnType } from "../../../../worker/lib/drift";

export type ColumnValues =
  | {
      storage: "number";
      values: Float64Array;
      /** Every cell written as an integer and none missing: pandas reads it as int64. */
      integer: boolean;
    }
  | { storage: "category"; codes: Int32Array; dictionary: CategoryValue[] };

export interface TableColumn {
  name: string;
  data: ColumnValues;
}

export interface Table {
  columns: TableColumn[];
  rows: number;
}

/** The buffers to hand to postMessage's transfer list. */
export function columnBuffers(data: ColumnValues): ArrayBuffer[] {
  return [(data.storage === "number" ? data.values : data.codes).buffer as ArrayBuffer];
}

const INT_CATEGORY_MAX_UNIQUES = 10;

/**
 * Evidently's type of a column from the current data (see inferColumnType): floats are numeric,
 * integers categorical with at most 10 distinct values, booleans and mixed values categorical,
 * strings text when more than half the non-missing values are distinct.
 */
export function inferTableColumnType(data: ColumnValues): ColumnType {
  if (data.storage === "number") {
    if (!data.integer) return "num";
    const seen = new Set<number>();
    for (let i = 0; i < data.values.length && seen.size <= INT_CATEGORY_MAX_UNIQUES; i++) seen.add(data.values[i]);
    return seen.size <= INT_CATEGORY_MAX_UNIQUES ? "cat" : "num";
  }
  const used = new Uint8Array(data.dictionary.length);
  let present = 0;
  for (let i = 0; i < data.codes.length; i++) {
    const c = data.codes[i];
    if (c >= 0) {
      present++;
      used[c] = 1;
    }
  }
  let distinct = 0;
  let strings = true;
  for (let k = 0; k < used.length; k++) {
    if (!used[k]) continue;
    distinct++;
    if (typeof data.dictionary[k] !== "string") strings = false;
  }
  if (strings && present > 0 && distinct > 0.5 * present) return "text";
  return "cat";
}
