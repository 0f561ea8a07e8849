/**
 * Column cleaning before any drift statistic (Evidently replaces ±inf by NaN and drops missing
 * values on each side separately, and refuses a side left empty), plus the value counting and the
 * deterministic category order the categorical tests share.
 */
import { type CategoryValue, DriftTestError, type RawValue } from "./types";

export type Side = "reference" | "current";

function emptyError(column: string, side: Side): DriftTestError {
  return new DriftTestError(
    "EMPTY_COLUMN",
    `An empty column '${column}' was provided for drift calculation in the ${side} dataset.`,
    side,
  );
}

const isMissing = (v: RawValue): boolean => v === null || v === undefined || (typeof v === "number" && !Number.isFinite(v));

/** Finite numbers of a numeric column; missing and infinite cells dropped; anything else is an error. */
export function cleanNumeric(values: readonly RawValue[], side: Side, column = "column"): number[] {
  const out: number[] = [];
  for (const v of values) {
    if (isMissing(v)) continue;
    if (typeof v !== "number") {
      throw new DriftTestError("NOT_NUMERIC", `Column '${column}' is numeric but the ${side} data holds ${JSON.stringify(v)}.`, side);
    }
    out.push(v);
  }
  if (out.length === 0) throw emptyError(column, side);
  return out;
}

/** Non-missing values of a categorical column (missing and infinite cells dropped). */
export function cleanCategorical(values: readonly RawValue[], side: Side, column = "column"): CategoryValue[] {
  const out: CategoryValue[] = [];
  for (const v of values) if (!isMissing(v)) out.push(v as CategoryValue);
  if (out.length === 0) throw emptyError(column, side);
  return out;
}

const kindRank = (v: CategoryValue): number => (typeof v === "boolean" ? 0 : typeof v === "number" ? 1 : 2);

/**
 * A total order on categories: booleans, then numbers ascending, then strings by Unicode code point
 * (Python's str order, which differs from JS's UTF-16 order for astral characters).
 */
export function compareCategories(a: CategoryValue, b: CategoryValue): number {
  const ra = kindRank(a);
  const rb = kindRank(b);
  if (ra !== rb) return ra - rb;
  if (typeof a === "string" && typeof b === "string") {
    const ia = a[Symbol.iterator]();
    const ib = b[Symbol.iterator]();
    for (;;) {
      const x = ia.next();
      const y = ib.next();
      if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
      const d = (x.value.codePointAt(0) as number) - (y.value.codePointAt(0) as number);
      if (d !== 0) return d;
    }
  }
  return Number(a) - Number(b);
}

export function countValues<T extends CategoryValue>(values: ArrayLike<T>): Map<T, number> {
  const counts = new Map<T, number>();
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return counts;
}

/** Sorted union of the categories present on either side. */
export function unionKeys<T extends CategoryValue>(a: Map<T, number>, b: Map<T, number>): T[] {
  const keys = new Set<T>([...a.keys(), ...b.keys()]);
  return [...keys].sort(compareCategories);
}

/**
 * Distinct values, counting stops once `limit` is exceeded (returns limit + 1 then): the default
 * selection and the binning only ask "more than 5?" or "more than 20?", and a hash set of a
 * million doubles is the slowest step of a report.
 */
export function countUniqueUpTo(values: ArrayLike<CategoryValue>, limit: number, more?: ArrayLike<CategoryValue>): number {
  const set = new Set<CategoryValue>();
  for (const arr of more ? [values, more] : [values]) {
    for (let i = 0; i < arr.length; i++) {
      set.add(arr[i]);
      if (set.size > limit) return limit + 1;
    }
  }
  return set.size;
}

export function countUnique(values: ArrayLike<CategoryValue>): number {
  const set = new Set<CategoryValue>();
  for (let i = 0; i < values.length; i++) set.add(values[i]);
  return set.size;
}
