/**
 * What the diff page shows per column beyond the server's diff: categories that appeared or
 * disappeared among the most frequent values, and how large each statistic's move is (relative to
 * the before value, or to the column's spread when the before value is zero), so the biggest moves
 * are highlighted first.
 */
import type { ColumnChange, ColumnProfile, Profile } from "../api/datasets-types";

export interface CategoryChange {
  added: string[];
  removed: string[];
}

/** Categories among the top values of one version and not the other. */
export function categoryChanges(before: ColumnProfile | undefined, after: ColumnProfile | undefined): CategoryChange {
  if (!before || !after || before.numeric || after.numeric) return { added: [], removed: [] };
  const a = new Set(before.top.map((t) => t.value));
  const b = new Set(after.top.map((t) => t.value));
  // A top-N list is cut: a value only counts as new when the before list was complete, or it outranks the before list's tail.
  const completeA = before.distinct !== null && before.distinct <= before.top.length;
  const completeB = after.distinct !== null && after.distinct <= after.top.length;
  return {
    added: completeA ? [...b].filter((v) => !a.has(v)) : [],
    removed: completeB ? [...a].filter((v) => !b.has(v)) : [],
  };
}

export const STAT_LABELS: Record<string, string> = {
  count: "count",
  missing_share: "missing share",
  distinct: "distinct",
  min: "min",
  max: "max",
  mean: "mean",
  std: "std",
  "q0.05": "p5",
  "q0.25": "p25",
  "q0.5": "median",
  "q0.75": "p75",
  "q0.95": "p95",
};

/** Order in which statistics are listed. */
const ORDER = Object.keys(STAT_LABELS);

export interface StatMove {
  key: string;
  label: string;
  before: number | null;
  after: number | null;
  /** |after - before| relative to |before| (or to the spread when before is 0); null when one side is missing. */
  relative: number | null;
  /** Moves worth drawing the eye to. */
  notable: boolean;
}

/** Relative moves above this are highlighted; any change of missing share over 1 point is too. */
export const NOTABLE_RELATIVE = 0.05;

export function statMoves(change: ColumnChange, before: ColumnProfile | undefined): StatMove[] {
  const spread = before?.numeric ? Math.abs(before.numeric.max - before.numeric.min) : 0;
  return Object.entries(change.stats)
    .sort((x, y) => ORDER.indexOf(x[0]) - ORDER.indexOf(y[0]))
    .map(([key, [b, a]]) => {
      let relative: number | null = null;
      if (a !== null && b !== null) relative = b !== 0 ? Math.abs(a - b) / Math.abs(b) : spread > 0 ? Math.abs(a - b) / spread : a === b ? 0 : Infinity;
      const notable = key === "missing_share" ? a === null || b === null || Math.abs(a - b) >= 0.01 : relative === null || relative >= NOTABLE_RELATIVE;
      return { key, label: STAT_LABELS[key] ?? key, before: b, after: a, relative, notable };
    });
}

export const columnOf = (p: Profile | null, name: string) => p?.columns.find((c) => c.name === name);
