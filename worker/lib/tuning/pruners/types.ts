/**
 * The plain data every pruner decides from: a study (name, direction, trials), the trial being asked
 * about, and the bookkeeping a pruner persists between calls. Also owns the small step/value helpers
 * shared by the pruners, so "last step" and "best value so far" mean the same thing everywhere.
 */
import type { StudyDirection, TrialState } from "../distributions";

export type { StudyDirection, TrialState };

/** step → reported value. Records come from JSON (string keys); steps are non-negative integers. */
export type IntermediateValues = ReadonlyMap<number, number> | Readonly<Record<string, number>>;

export interface PrunerTrial {
  number: number;
  state: TrialState;
  intermediate: IntermediateValues;
  value?: number | null;
  /**
   * Per-trial pruner bookkeeping, Optuna's system attrs: successive halving (also inside hyperband)
   * records `completed_rung_<i>` = the value the trial had when it reached rung i.
   */
  attrs?: Readonly<Record<string, number>>;
}

export interface PrunerStudy {
  /** The study name; hyperband hashes it with the trial number to pick a bracket. */
  name: string;
  direction: StudyDirection;
  /** Every trial of the study, in any state; may include the asked trial itself. */
  trials: readonly PrunerTrial[];
}

/**
 * Study-level pruner bookkeeping. Optuna resolves `min_resource="auto"` (successive halving) and
 * `max_resource="auto"` (hyperband) once, on the first call that can, and keeps the value for the
 * life of the pruner; persisting this object gives a study the same once-only resolution.
 */
export interface PrunerState {
  minResource?: number;
  maxResource?: number;
}

export interface PruneDecision {
  prune: boolean;
  /** Attrs to merge into the asked trial's `attrs` (written even when the trial is pruned). */
  trialAttrs: Record<string, number>;
  /** The pruner state to persist for the next call. */
  state: PrunerState;
}

export function intermediateEntries(values: IntermediateValues): Array<[number, number]> {
  if (values instanceof Map) return [...values.entries()];
  return Object.entries(values).map(([k, v]) => [Number(k), v]);
}

export function intermediateSteps(values: IntermediateValues): number[] {
  return intermediateEntries(values).map(([step]) => step);
}

export function intermediateAt(values: IntermediateValues, step: number): number | undefined {
  if (values instanceof Map) return values.get(step);
  const record = values as Readonly<Record<string, number>>;
  return Object.prototype.hasOwnProperty.call(record, String(step)) ? record[String(step)] : undefined;
}

/** The largest reported step (not the most recent report), or null when nothing was reported. */
export function lastStep(trial: PrunerTrial): number | null {
  let last: number | null = null;
  for (const step of intermediateSteps(trial.intermediate)) if (last === null || step > last) last = step;
  return last;
}

/** numpy's nanmin / nanmax: NaNs are skipped; NaN only when every value is NaN (or there are none). */
export function nanBest(values: readonly number[], direction: StudyDirection): number {
  let best = NaN;
  for (const v of values) {
    if (Number.isNaN(v)) continue;
    if (Number.isNaN(best) || (direction === "maximize" ? v > best : v < best)) best = v;
  }
  return best;
}

/** Total order for numbers that never sees NaN here; avoids `a - b`, which is NaN for equal infinities. */
export function compareNumbers(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
