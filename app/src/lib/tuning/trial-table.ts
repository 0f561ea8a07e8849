/**
 * The trial table's rows: filtered by state and sorted by a column (number, state, an objective, a
 * param or the duration), with missing values always last whichever way the column is sorted.
 */
import type { ParamValue, Trial, TrialState } from "../api/tuning-types";

export type TrialSortKey = { kind: "number" } | { kind: "state" } | { kind: "duration" } | { kind: "value"; objective: number } | { kind: "param"; name: string };

export const trialDuration = (t: Trial): number | null => (t.start_time != null && t.complete_time != null ? t.complete_time - t.start_time : null);

function sortValue(t: Trial, key: TrialSortKey): number | string | null {
  switch (key.kind) {
    case "number":
      return t.number;
    case "state":
      return t.state;
    case "duration":
      return trialDuration(t);
    case "value": {
      const v = t.values?.[key.objective];
      return typeof v === "number" && Number.isFinite(v) ? v : null;
    }
    case "param": {
      const v: ParamValue | undefined = t.params[key.name];
      return v === undefined || v === null ? null : typeof v === "number" ? v : String(v);
    }
  }
}

export function trialRows(trials: readonly Trial[], states: ReadonlySet<TrialState> | null, key: TrialSortKey, ascending: boolean): Trial[] {
  const rows = states && states.size ? trials.filter((t) => states.has(t.state)) : [...trials];
  const keyed = rows.map((t) => ({ t, v: sortValue(t, key) }));
  keyed.sort((a, b) => {
    if (a.v === null || b.v === null) return a.v === b.v ? a.t.number - b.t.number : a.v === null ? 1 : -1;
    const c = typeof a.v === "number" && typeof b.v === "number" ? a.v - b.v : String(a.v).localeCompare(String(b.v), undefined, { numeric: true });
    return (ascending ? c : -c) || a.t.number - b.t.number;
  });
  return keyed.map((k) => k.t);
}

export const sortKeyId = (key: TrialSortKey): string =>
  key.kind === "value" ? `value:${key.objective}` : key.kind === "param" ? `param:${key.name}` : key.kind;
