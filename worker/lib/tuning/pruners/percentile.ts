/**
 * Percentile and median pruning (Optuna's PercentilePruner / MedianPruner): prune a trial whose best
 * intermediate value so far is worse than a percentile of what COMPLETE trials reported at exactly the
 * current step. Also owns the warm-up/interval rule shared with the threshold pruner and numpy's
 * nanpercentile (linear method), reproduced operation for operation so boundary ties match.
 */
import {
  compareNumbers,
  intermediateAt,
  intermediateEntries,
  intermediateSteps,
  lastStep,
  nanBest,
  type PrunerStudy,
  type PrunerTrial,
} from "./types";

export interface PercentileOptions {
  percentile: number;
  n_startup_trials: number;
  n_warmup_steps: number;
  interval_steps: number;
  n_min_trials: number;
}

/**
 * True when `step` is the first report at or after the latest pruning checkpoint
 * (warm-up + k·interval): a trial that reports every step is checked once per interval, and one
 * that skips steps is checked at the first report past each checkpoint.
 */
export function isFirstInIntervalStep(
  step: number,
  reportedSteps: readonly number[],
  nWarmupSteps: number,
  intervalSteps: number,
): boolean {
  const nearestLowerPruningStep = Math.floor((step - nWarmupSteps) / intervalSteps) * intervalSteps + nWarmupSteps;
  let secondLastStep = -1;
  for (const s of reportedSteps) if (s > secondLastStep && s !== step) secondLastStep = s;
  return secondLastStep < nearestLowerPruningStep;
}

/**
 * numpy.nanpercentile(values, p) with the default linear method: NaNs dropped, virtual index
 * (n−1)·q, and numpy's two-sided lerp (from the upper end when the weight is ≥ 0.5). An index at or
 * past the end interpolates the last value with itself, which is NaN for an infinite last value —
 * numpy does exactly that, and the pruner then declines to prune.
 */
export function nanPercentile(values: readonly number[], p: number): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort(compareNumbers);
  const n = sorted.length;
  if (n === 0) return NaN;
  const q = p / 100;
  const virtualIndex = (n - 1) * q;
  let previousIndex = Math.floor(virtualIndex);
  let nextIndex = previousIndex + 1;
  if (virtualIndex >= n - 1) {
    previousIndex = -1;
    nextIndex = -1;
  }
  if (virtualIndex < 0) {
    previousIndex = 0;
    nextIndex = 0;
  }
  const gamma = virtualIndex - previousIndex;
  const a = sorted[previousIndex < 0 ? n + previousIndex : previousIndex];
  const b = sorted[nextIndex < 0 ? n + nextIndex : nextIndex];
  const diff = b - a;
  return gamma >= 0.5 ? b - diff * (1 - gamma) : a + diff * gamma;
}

export function percentilePrune(options: PercentileOptions, study: PrunerStudy, trial: PrunerTrial): boolean {
  const completed = study.trials.filter((t) => t.state === "COMPLETE");
  if (completed.length === 0) return false;
  if (completed.length < options.n_startup_trials) return false;

  const step = lastStep(trial);
  if (step === null) return false;
  if (step < options.n_warmup_steps) return false;
  const reported = intermediateSteps(trial.intermediate);
  if (!isFirstInIntervalStep(step, reported, options.n_warmup_steps, options.interval_steps)) return false;

  const best = nanBest(
    intermediateEntries(trial.intermediate).map(([, v]) => v),
    study.direction,
  );
  if (Number.isNaN(best)) return true;

  // Only trials that reported this exact step take part; a NaN report still counts toward
  // n_min_trials even though the percentile skips it.
  const atStep: number[] = [];
  for (const t of completed) {
    const v = intermediateAt(t.intermediate, step);
    if (v !== undefined) atStep.push(v);
  }
  if (atStep.length < options.n_min_trials) return false;
  const percentile = study.direction === "maximize" ? 100 - options.percentile : options.percentile;
  const threshold = nanPercentile(atStep, percentile);
  if (Number.isNaN(threshold)) return false;
  return study.direction === "maximize" ? best < threshold : best > threshold;
}
