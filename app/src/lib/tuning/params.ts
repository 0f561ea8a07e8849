/**
 * How a study's params sit on a chart axis: numeric (linear or log, as the distribution says) or
 * categorical (choices at 0, 1, 2 … in the order the distribution declares them), read from the
 * distributions the trials carry. Every plot that puts a param on an axis goes through here.
 */
import type { Distribution, ParamValue, Trial } from "../api/tuning-types";

export interface ParamAxis {
  name: string;
  kind: "numeric" | "categorical";
  log: boolean;
  /** Labels of the choices, for a categorical axis (position = index). */
  categories: string[];
  /** Where a value sits on the axis; null when it cannot be placed (missing, non-numeric, unknown choice). */
  coord(value: ParamValue | undefined): number | null;
}

export const choiceLabel = (v: ParamValue): string => (v === null ? "None" : typeof v === "string" ? v : String(v));

/** Every param any trial has, sorted by name. */
export function paramNames(trials: readonly Trial[]): string[] {
  return [...new Set(trials.flatMap((t) => Object.keys(t.params)))].sort((a, b) => a.localeCompare(b));
}

/** The distribution of `name` in the newest trial that has one. */
function distributionOf(trials: readonly Trial[], name: string): Distribution | undefined {
  for (let i = trials.length - 1; i >= 0; i--) {
    const d = trials[i].distributions?.[name];
    if (d) return d;
  }
  return undefined;
}

export function paramAxis(trials: readonly Trial[], name: string): ParamAxis {
  const dist = distributionOf(trials, name);
  const values = trials.map((t) => t.params[name]).filter((v) => v !== undefined);
  const allNumbers = values.every((v) => typeof v === "number");
  if (dist?.type === "categorical" || (!dist && !allNumbers)) {
    const categories: string[] = dist?.type === "categorical" ? dist.choices.map(choiceLabel) : [];
    for (const v of values) if (!categories.includes(choiceLabel(v as ParamValue))) categories.push(choiceLabel(v as ParamValue));
    const at = new Map(categories.map((c, i) => [c, i]));
    return { name, kind: "categorical", log: false, categories, coord: (v) => (v === undefined ? null : (at.get(choiceLabel(v)) ?? null)) };
  }
  const log = !!(dist && "log" in dist && dist.log);
  return {
    name,
    kind: "numeric",
    log,
    categories: [],
    coord: (v) => (typeof v === "number" && Number.isFinite(v) && (!log || v > 0) ? v : null),
  };
}

/** The objective value of a finished trial, or null (not COMPLETE, no such objective, not finite). */
export function objectiveValue(trial: Trial, objective: number): number | null {
  if (trial.state !== "COMPLETE" || !trial.values) return null;
  const v = trial.values[objective];
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}
