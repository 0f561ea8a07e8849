/**
 * Pruners faithful to Optuna's (median, percentile, successive halving, hyperband, threshold, patient,
 * wilcoxon, nop): one entry point, `shouldPrune`, deciding from plain study data. Optuna keeps pruner
 * bookkeeping in trial system attrs and in the pruner object; here both travel explicitly — the
 * decision returns attrs to merge into the asked trial and a study-level state to persist — so a
 * Durable Object can store them and every call stays a pure function.
 */
import type { PrunerConfig } from "./config";
import { hyperbandPrune } from "./hyperband";
import { patienceExhausted } from "./patient";
import { percentilePrune } from "./percentile";
import { successiveHalvingPrune } from "./successive-halving";
import { thresholdPrune } from "./threshold";
import { wilcoxonPrune } from "./wilcoxon";
import type { PruneDecision, PrunerState, PrunerStudy, PrunerTrial } from "./types";

export { parsePrunerConfig, PrunerConfigError, type PrunerConfig, type PrunerType } from "./config";
export { exactLog } from "./exact-log";
export { crc32, hyperbandBracketOf, hyperbandBrackets, type HyperbandBrackets } from "./hyperband";
export { isFirstInIntervalStep, nanPercentile } from "./percentile";
export { completedRungKey, currentRung, estimateMinResource } from "./successive-halving";
export { wilcoxonPValue } from "./wilcoxon";
export type {
  IntermediateValues,
  PruneDecision,
  PrunerState,
  PrunerStudy,
  PrunerTrial,
  StudyDirection,
  TrialState,
} from "./types";

/**
 * Should `trial` stop now? `study.trials` is every trial of the study (the asked one may be among
 * them); `state` is what the previous call returned (empty at first). Persist `decision.state` and
 * merge `decision.trialAttrs` into the trial's attrs, whatever the verdict.
 */
export function shouldPrune(
  config: PrunerConfig,
  study: PrunerStudy,
  trial: PrunerTrial,
  state: PrunerState = {},
): PruneDecision {
  const plain = (prune: boolean): PruneDecision => ({ prune, trialAttrs: {}, state: { ...state } });
  switch (config.type) {
    case "nop":
      return plain(false);
    case "median":
      return plain(percentilePrune({ ...config, percentile: 50 }, study, trial));
    case "percentile":
      return plain(percentilePrune(config, study, trial));
    case "successive_halving":
      return successiveHalvingPrune(config, study, trial, state);
    case "hyperband":
      return hyperbandPrune(config, study, trial, state);
    case "threshold":
      return plain(thresholdPrune(config, trial));
    case "patient":
      if (!patienceExhausted(config, study.direction, trial)) return plain(false);
      return config.wrapped_pruner === null ? plain(true) : shouldPrune(config.wrapped_pruner, study, trial, state);
    case "wilcoxon":
      return plain(wilcoxonPrune(config, study, trial));
  }
}
