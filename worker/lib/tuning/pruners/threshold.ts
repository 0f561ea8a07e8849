/**
 * Threshold pruning (Optuna's ThresholdPruner): prune when the value at the latest step falls outside
 * [lower, upper] or is NaN, checked with the same warm-up and interval rule as percentile pruning.
 */
import { isFirstInIntervalStep } from "./percentile";
import { intermediateAt, intermediateSteps, lastStep, type PrunerTrial } from "./types";

export interface ThresholdOptions {
  /** null: unbounded below. */
  lower: number | null;
  /** null: unbounded above. */
  upper: number | null;
  n_warmup_steps: number;
  interval_steps: number;
}

export function thresholdPrune(options: ThresholdOptions, trial: PrunerTrial): boolean {
  const step = lastStep(trial);
  if (step === null) return false;
  if (step < options.n_warmup_steps) return false;
  const reported = intermediateSteps(trial.intermediate);
  if (!isFirstInIntervalStep(step, reported, options.n_warmup_steps, options.interval_steps)) return false;
  const latest = intermediateAt(trial.intermediate, step) as number;
  if (Number.isNaN(latest)) return true;
  if (options.lower !== null && latest < options.lower) return true;
  if (options.upper !== null && latest > options.upper) return true;
  return false;
}
