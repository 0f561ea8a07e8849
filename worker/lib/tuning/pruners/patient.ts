/**
 * Patient pruning (Optuna's PatientPruner): hold a wrapped pruner back until the trial has gone
 * `patience` steps without improving on its earlier best by more than `min_delta`; with no wrapped
 * pruner, stagnation alone prunes.
 */
import { intermediateAt, intermediateSteps, lastStep, nanBest, type PrunerTrial, type StudyDirection } from "./types";

export interface PatientOptions {
  patience: number;
  min_delta: number;
}

/** Whether the trial has stagnated; the wrapped pruner is consulted only when it has. */
export function patienceExhausted(options: PatientOptions, direction: StudyDirection, trial: PrunerTrial): boolean {
  if (lastStep(trial) === null) return false;
  const steps = intermediateSteps(trial.intermediate).sort((a, b) => a - b);
  if (steps.length <= options.patience + 1) return false;
  const split = steps.length - options.patience - 1;
  const valuesOf = (s: number[]) => s.map((step) => intermediateAt(trial.intermediate, step) as number);
  // All-NaN windows give NaN here and every comparison with NaN is false: no verdict, no pruning.
  const before = nanBest(valuesOf(steps.slice(0, split)), direction);
  const after = nanBest(valuesOf(steps.slice(split)), direction);
  return direction === "minimize" ? before + options.min_delta < after : before - options.min_delta > after;
}
