/**
 * Alert rules on a monitor's series, as pure functions: parsing a series selector, reading its value
 * from a saved drift summary, and the state machine that fires a rule once after N consecutive
 * breaching checks and resolves it once on the first check that no longer breaches.
 */

export type AlertOperator = ">" | ">=" | "<" | "<=";
export const ALERT_OPERATORS: readonly AlertOperator[] = [">", ">=", "<", "<="];

export type SeriesSelector =
  | { kind: "drift_share" }
  | { kind: "dataset_drift" }
  | { kind: "drifted_columns" }
  | { kind: "column_score"; column: string }
  | { kind: "performance"; metric: string };

export class SeriesSelectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SeriesSelectorError";
  }
}

export const SERIES_SYNTAX = '"drift_share", "dataset_drift", "drifted_columns", "column:<name>:score" or "performance:<metric>"';

/** Parses "drift_share" | "dataset_drift" | "drifted_columns" | "column:<name>:score" | "performance:<metric>". */
export function parseSeries(selector: string): SeriesSelector {
  if (selector === "drift_share" || selector === "dataset_drift" || selector === "drifted_columns") return { kind: selector };
  if (selector.startsWith("column:") && selector.endsWith(":score")) {
    // Column names may themselves contain colons: everything between the prefix and suffix is the name.
    const column = selector.slice("column:".length, selector.length - ":score".length);
    if (column.length > 0) return { kind: "column_score", column };
  }
  if (selector.startsWith("performance:")) {
    const metric = selector.slice("performance:".length);
    if (metric.length > 0) return { kind: "performance", metric };
  }
  throw new SeriesSelectorError(`Unknown series '${selector}': expected ${SERIES_SYNTAX}`);
}

export function formatSeries(s: SeriesSelector): string {
  switch (s.kind) {
    case "column_score":
      return `column:${s.column}:score`;
    case "performance":
      return `performance:${s.metric}`;
    default:
      return s.kind;
  }
}

/** The parts of a saved summary a series can read. */
export interface SummaryValues {
  datasetDrift: boolean;
  driftShare: number;
  numberOfDriftedColumns: number;
  columns: readonly { column: string; score: number | null }[];
  performance: Readonly<Record<string, number>> | null;
}

/** The series' value in one summary, or null when the summary has no such value (column or metric absent, or no score). */
export function seriesValue(s: SeriesSelector, summary: SummaryValues): number | null {
  switch (s.kind) {
    case "drift_share":
      return summary.driftShare;
    case "dataset_drift":
      return summary.datasetDrift ? 1 : 0;
    case "drifted_columns":
      return summary.numberOfDriftedColumns;
    case "column_score": {
      const c = summary.columns.find((x) => x.column === s.column);
      return c && c.score !== null && Number.isFinite(c.score) ? c.score : null;
    }
    case "performance": {
      const v = summary.performance?.[s.metric];
      return typeof v === "number" && Number.isFinite(v) ? v : null;
    }
  }
}

export function breaches(value: number, operator: AlertOperator, threshold: number): boolean {
  switch (operator) {
    case ">":
      return value > threshold;
    case ">=":
      return value >= threshold;
    case "<":
      return value < threshold;
    case "<=":
      return value <= threshold;
  }
}

export type AlertState = "ok" | "firing";

export interface RuleState {
  state: AlertState;
  /** Consecutive breaching checks so far (capped at forChecks once firing). */
  consecutive: number;
}

export interface RuleCondition {
  operator: AlertOperator;
  threshold: number;
  /** Breaching checks in a row needed to fire (at least 1). */
  forChecks: number;
}

export interface RuleStep extends RuleState {
  /** Set only on a change of state: the event to record. */
  transition: "fired" | "resolved" | null;
}

/**
 * One check of a rule. A check without a value (the column or metric is missing from that summary)
 * changes nothing: it neither counts as a breach nor as a recovery, so a gap in the data cannot
 * resolve an alert nor reset a streak.
 */
export function evaluateRule(rule: RuleCondition, prev: RuleState, value: number | null): RuleStep {
  if (value === null || Number.isNaN(value)) return { ...prev, transition: null };
  const need = Math.max(1, Math.floor(rule.forChecks));
  if (breaches(value, rule.operator, rule.threshold)) {
    const consecutive = Math.min(prev.consecutive + 1, need);
    if (prev.state === "firing") return { state: "firing", consecutive, transition: null };
    return consecutive >= need ? { state: "firing", consecutive, transition: "fired" } : { state: "ok", consecutive, transition: null };
  }
  return { state: "ok", consecutive: 0, transition: prev.state === "firing" ? "resolved" : null };
}

/** Webhook retry policy: the first try, then retries after 1, 2, 4, 8, 16 minutes; then the delivery has failed. */
export const WEBHOOK_MAX_ATTEMPTS = 6;
export const WEBHOOK_BASE_DELAY_MS = 60_000;

/** When the next try is due after `attempts` failed tries, or null when no try is left. */
export function nextAttemptAt(attempts: number, lastAttemptAt: number, maxAttempts = WEBHOOK_MAX_ATTEMPTS, baseDelayMs = WEBHOOK_BASE_DELAY_MS): number | null {
  if (attempts >= maxAttempts) return null;
  return lastAttemptAt + baseDelayMs * 2 ** Math.max(0, attempts - 1);
}
