/**
 * Asynchronous successive halving (Optuna's SuccessiveHalvingPruner, ASHA). A trial passing rung r
 * (step ≥ min_resource · rf^(min_early_stopping_rate + r)) records its current value as
 * `completed_rung_r` and survives only when it ranks in the top 1/rf of every value recorded at that
 * rung so far. The records are returned as trial attrs for the caller to persist; hyperband reuses
 * this with one bracket's trials as the study.
 */
import {
  compareNumbers,
  intermediateAt,
  lastStep,
  type PruneDecision,
  type PrunerState,
  type PrunerStudy,
  type PrunerTrial,
  type StudyDirection,
} from "./types";

export interface SuccessiveHalvingOptions {
  min_resource: number | "auto";
  reduction_factor: number;
  min_early_stopping_rate: number;
  bootstrap_count: number;
}

export function completedRungKey(rung: number): string {
  return `completed_rung_${rung}`;
}

/** The first rung the trial has not recorded yet. */
export function currentRung(trial: PrunerTrial): number {
  const attrs = trial.attrs ?? {};
  let rung = 0;
  while (Object.prototype.hasOwnProperty.call(attrs, completedRungKey(rung))) rung++;
  return rung;
}

/** `min_resource="auto"`: 1% of the longest COMPLETE trial (at least 1); null before any completes. */
export function estimateMinResource(trials: readonly PrunerTrial[]): number | null {
  let longest: number | null = null;
  for (const t of trials) {
    if (t.state !== "COMPLETE") continue;
    const step = lastStep(t);
    if (step !== null && (longest === null || step > longest)) longest = step;
  }
  return longest === null ? null : Math.max(Math.floor(longest / 100), 1);
}

function isPromotable(
  value: number,
  competing: number[],
  reductionFactor: number,
  direction: StudyDirection,
): boolean {
  // Trials cannot be paused for later promotion, so while fewer than rf values exist at a rung only
  // the best one goes on.
  let promotableIndex = Math.floor(competing.length / reductionFactor) - 1;
  if (promotableIndex === -1) promotableIndex = 0;
  competing.sort(compareNumbers);
  return direction === "maximize"
    ? value >= competing[competing.length - 1 - promotableIndex]
    : value <= competing[promotableIndex];
}

export function successiveHalvingPrune(
  options: SuccessiveHalvingOptions,
  study: PrunerStudy,
  trial: PrunerTrial,
  state: PrunerState,
): PruneDecision {
  const trialAttrs: Record<string, number> = {};
  const nextState: PrunerState = { ...state };
  const decide = (prune: boolean): PruneDecision => ({ prune, trialAttrs, state: nextState });

  const step = lastStep(trial);
  if (step === null) return decide(false);

  let rung = currentRung(trial);
  const value = intermediateAt(trial.intermediate, step) as number;

  let minResource: number;
  if (options.min_resource === "auto") {
    if (nextState.minResource === undefined) {
      const estimated = estimateMinResource(study.trials);
      if (estimated === null) return decide(false);
      nextState.minResource = estimated;
    }
    minResource = nextState.minResource;
  } else {
    minResource = options.min_resource;
  }

  // Other trials' rung records as they stood when the call began; this trial's own record for a
  // rung is always the value appended below, never read back.
  const others = study.trials.filter((t) => t.number !== trial.number);

  for (;;) {
    const rungPromotionStep = minResource * options.reduction_factor ** (options.min_early_stopping_rate + rung);
    if (step < rungPromotionStep) return decide(false);
    if (Number.isNaN(value)) return decide(true);

    const key = completedRungKey(rung);
    trialAttrs[key] = value;
    const competing: number[] = [];
    for (const t of others) {
      const attrs = t.attrs;
      if (attrs && Object.prototype.hasOwnProperty.call(attrs, key)) competing.push(attrs[key]);
    }
    competing.push(value);

    if (competing.length <= options.bootstrap_count) return decide(true);
    if (!isPromotable(value, competing, options.reduction_factor, study.direction)) return decide(true);
    rung++;
  }
}
