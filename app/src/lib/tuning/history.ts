/**
 * The optimization history: each COMPLETE trial's objective value against its trial number, and the
 * best value found up to that trial (the running minimum or maximum, by the objective's direction).
 */
import type { StudyDirection, Trial } from "../api/tuning-types";
import { objectiveValue } from "./params";

export interface HistoryData {
  numbers: number[];
  values: number[];
  best: number[];
}

export function optimizationHistory(trials: readonly Trial[], direction: StudyDirection, objective = 0): HistoryData {
  const done = trials
    .map((t) => ({ number: t.number, value: objectiveValue(t, objective) }))
    .filter((p): p is { number: number; value: number } => p.value != null)
    .sort((a, b) => a.number - b.number);
  const better = direction === "maximize" ? Math.max : Math.min;
  const best: number[] = [];
  for (const p of done) best.push(best.length === 0 ? p.value : better(best[best.length - 1], p.value));
  return { numbers: done.map((p) => p.number), values: done.map((p) => p.value), best };
}
