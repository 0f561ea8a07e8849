/**
 * Data quality of the current data against the reference, column by column, as Evidently's
 * ValueStats / ColumnSummaryMetric / ColumnValueRangeMetric report it: missing values, summary
 * statistics, categories new in the current data or no longer used, and values outside the
 * reference's [min, max] (both ends inclusive, missing values not counted).
 */
import { compareCategories } from "./clean";
import { percentileSorted } from "./numeric-tests";
import type { ColumnValues } from "./select";
import type { CategoryValue, ColumnType, RawValue } from "./types";

/** What pandas' isna() sees: null, undefined and NaN (infinities are values). */
const isNa = (v: RawValue): boolean => v === null || v === undefined || (typeof v === "number" && Number.isNaN(v));

export interface NumericStats {
  min: number;
  max: number;
  mean: number;
  /** Sample std (ddof = 1), as pandas' std. */
  std: number;
  q25: number;
  q50: number;
  q75: number;
}

export interface ColumnQuality {
  rows: number;
  missing: number;
  missingShare: number;
  uniqueValues: number;
  numeric?: NumericStats;
}

function numericStats(values: Float64Array): NumericStats | undefined {
  if (values.length === 0) return undefined;
  const sorted = values.slice().sort();
  let s = 0;
  for (let i = 0; i < sorted.length; i++) s += sorted[i];
  const mean = s / sorted.length;
  let ss = 0;
  for (let i = 0; i < sorted.length; i++) ss += (sorted[i] - mean) ** 2;
  return {
    min: sorted[0],
    max: sorted[sorted.length - 1],
    mean,
    std: sorted.length > 1 ? Math.sqrt(ss / (sorted.length - 1)) : NaN,
    q25: percentileSorted(sorted, 0.25),
    q50: percentileSorted(sorted, 0.5),
    q75: percentileSorted(sorted, 0.75),
  };
}

function present(values: ColumnValues): CategoryValue[] | Float64Array {
  if (values instanceof Float64Array) return values.filter((v) => !Number.isNaN(v));
  return values.filter((v) => !isNa(v)) as CategoryValue[];
}

/** Missing count/share, distinct values and, for numeric columns, min/max/mean/std/quartiles. */
export function columnQuality(values: ColumnValues, type: ColumnType): ColumnQuality {
  const kept = present(values);
  const rows = values.length;
  const missing = rows - kept.length;
  const distinct = new Set<CategoryValue>();
  for (let i = 0; i < kept.length; i++) distinct.add(kept[i]);
  const out: ColumnQuality = { rows, missing, missingShare: rows === 0 ? 0 : missing / rows, uniqueValues: distinct.size };
  if (type === "num") {
    const nums = kept instanceof Float64Array ? kept : Float64Array.from(kept.filter((v): v is number => typeof v === "number"));
    const stats = numericStats(nums);
    if (stats) out.numeric = stats;
  }
  return out;
}

export interface CategoryChange {
  /** Values seen in the current data but never in the reference (missing counts as one value). */
  newInCurrent: (CategoryValue | null)[];
  /** Reference values that no longer occur in the current data. */
  unusedInCurrent: (CategoryValue | null)[];
}

function distinctWithMissing(values: ColumnValues): Set<CategoryValue | null> {
  const set = new Set<CategoryValue | null>();
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    set.add(isNa(v) ? null : (v as CategoryValue));
  }
  return set;
}

const sortWithNull = (a: CategoryValue | null, b: CategoryValue | null): number =>
  a === null ? (b === null ? 0 : 1) : b === null ? -1 : compareCategories(a, b);

/** Set differences of distinct values, with missing on both sides counted as the same value. */
export function categoryChanges(reference: ColumnValues, current: ColumnValues): CategoryChange {
  const ref = distinctWithMissing(reference);
  const cur = distinctWithMissing(current);
  return {
    newInCurrent: [...cur].filter((v) => !ref.has(v)).sort(sortWithNull),
    unusedInCurrent: [...ref].filter((v) => !cur.has(v)).sort(sortWithNull),
  };
}

export interface OutOfRange {
  left: number;
  right: number;
  /** Non-missing current values outside [left, right]. */
  count: number;
  /** Share of the non-missing current values. */
  share: number;
  below: number;
  above: number;
}

/** Current values outside the reference [min, max] (or the given bounds), ends inclusive. */
export function outOfRange(reference: ColumnValues, current: ColumnValues, bounds?: { left: number; right: number }): OutOfRange | null {
  let left = bounds?.left ?? Infinity;
  let right = bounds?.right ?? -Infinity;
  if (!bounds) {
    for (let i = 0; i < reference.length; i++) {
      const v = reference[i];
      if (typeof v !== "number" || Number.isNaN(v)) continue;
      if (v < left) left = v;
      if (v > right) right = v;
    }
    if (left > right) return null;
  }
  let below = 0;
  let above = 0;
  let counted = 0;
  for (let i = 0; i < current.length; i++) {
    const v = current[i];
    if (typeof v !== "number" || Number.isNaN(v)) continue;
    counted++;
    if (v < left) below++;
    else if (v > right) above++;
  }
  return { left, right, count: below + above, share: counted === 0 ? 0 : (below + above) / counted, below, above };
}

export interface ColumnQualityReport {
  column: string;
  type: ColumnType;
  reference: ColumnQuality;
  current: ColumnQuality;
  categories?: CategoryChange;
  outOfRange?: OutOfRange | null;
}

/** Data quality of each column: numbers get range checks, categories get new/unused values. */
export function dataQuality(
  reference: Readonly<Record<string, ColumnValues>>,
  current: Readonly<Record<string, ColumnValues>>,
  types: Readonly<Record<string, ColumnType>>,
): ColumnQualityReport[] {
  return Object.keys(types)
    .filter((c) => c in reference && c in current)
    .map((column) => {
      const type = types[column];
      const ref = reference[column];
      const cur = current[column];
      const row: ColumnQualityReport = { column, type, reference: columnQuality(ref, type), current: columnQuality(cur, type) };
      if (type === "num") row.outOfRange = outOfRange(ref, cur);
      else if (type === "cat") row.categories = categoryChanges(ref, cur);
      return row;
    });
}
