/**
 * Wilcoxon pruning (Optuna's WilcoxonPruner), for objectives whose "steps" are problem instances or CV
 * folds: the current trial's values are paired with the best COMPLETE trial's values at the same steps,
 * and the trial is pruned when a one-sided Wilcoxon signed-rank test says it is worse with p below the
 * threshold — unless the average of its values is still no worse than the best trial's final value (a
 * safety rule). Never prunes with no reports, non-finite values on either side, no complete trial, or
 * fewer than n_startup_steps paired steps.
 *
 * The test matches scipy's `wilcoxon(d, alternative, zero_method="zsplit")`: zero differences are ranked
 * and their ranks split between both signs; the p-value is exact (the null distribution of W⁺) for up to
 * 50 differences without zeros or tied magnitudes, otherwise the normal approximation with the tie
 * correction and no continuity correction.
 */
import { ndtr } from "../normal";
import { intermediateEntries, type PrunerStudy, type PrunerTrial } from "./types";

export interface WilcoxonOptions {
  p_threshold: number;
  n_startup_steps: number;
}

/** Average ranks (1-based) of |d|, ties sharing their mean rank. */
function absRanks(d: readonly number[]): { ranks: number[]; tieGroups: number[] } {
  const order = d.map((_, i) => i).sort((a, b) => Math.abs(d[a]) - Math.abs(d[b]));
  const ranks = new Array<number>(d.length);
  const tieGroups: number[] = [];
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && Math.abs(d[order[j + 1]]) === Math.abs(d[order[i]])) j++;
    const rank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) ranks[order[k]] = rank;
    if (j > i) tieGroups.push(j - i + 1);
    i = j + 1;
  }
  return { ranks, tieGroups };
}

/** Null distribution of W⁺ for n untied non-zero differences: counts of subsets of {1..n} by rank sum. */
function signedRankCounts(n: number): number[] {
  const max = (n * (n + 1)) / 2;
  const counts = new Array<number>(max + 1).fill(0);
  counts[0] = 1;
  for (let k = 1; k <= n; k++) for (let s = max; s >= k; s--) counts[s] += counts[s - k];
  return counts;
}

/** One-sided p-value of the Wilcoxon signed-rank test on differences d (zsplit zero handling). */
export function wilcoxonPValue(d: readonly number[], alternative: "greater" | "less"): number {
  const n = d.length;
  if (n === 0) return NaN;
  const { ranks, tieGroups } = absRanks(d);
  let rPlus = 0;
  let zeros = 0;
  d.forEach((v, i) => {
    if (v > 0) rPlus += ranks[i];
    else if (v === 0) {
      rPlus += ranks[i] / 2;
      zeros++;
    }
  });
  if (n <= 50 && zeros === 0 && tieGroups.length === 0) {
    const counts = signedRankCounts(n);
    const total = 2 ** n;
    const r = Math.round(rPlus);
    let tail = 0;
    if (alternative === "greater") for (let s = r; s < counts.length; s++) tail += counts[s];
    else for (let s = 0; s <= r; s++) tail += counts[s];
    return Math.min(1, Math.max(0, tail / total));
  }
  const mean = (n * (n + 1)) / 4;
  let variance = n * (n + 1) * (2 * n + 1);
  for (const t of tieGroups) variance -= 0.5 * t * (t * t - 1);
  const se = Math.sqrt(variance / 24);
  if (se === 0) return 0.5;
  const z = (rPlus - mean) / se;
  return alternative === "greater" ? ndtr(-z) : ndtr(z);
}

function finiteEntries(trial: PrunerTrial): Array<[number, number]> | null {
  const entries = intermediateEntries(trial.intermediate);
  for (const [, v] of entries) if (typeof v !== "number" || !Number.isFinite(v)) return null;
  return entries;
}

/** Optuna's best trial: the COMPLETE trial with the best value, the earliest on ties. */
function bestTrial(study: PrunerStudy): PrunerTrial | null {
  let best: PrunerTrial | null = null;
  for (const t of study.trials) {
    if (t.state !== "COMPLETE" || typeof t.value !== "number" || Number.isNaN(t.value)) continue;
    if (best === null || (study.direction === "maximize" ? t.value > (best.value as number) : t.value < (best.value as number))) best = t;
  }
  return best;
}

export function wilcoxonPrune(options: WilcoxonOptions, study: PrunerStudy, trial: PrunerTrial): boolean {
  const mine = finiteEntries(trial);
  if (mine === null || mine.length === 0) return false;
  const best = bestTrial(study);
  if (best === null) return false;
  const theirs = finiteEntries(best);
  if (theirs === null) return false;
  const bestAt = new Map(theirs);
  const diffs: number[] = [];
  for (const [step, v] of [...mine].sort((a, b) => a[0] - b[0])) {
    const b = bestAt.get(step);
    if (b !== undefined) diffs.push(v - b);
  }
  if (diffs.length < options.n_startup_steps) return false;
  const average = mine.reduce((a, [, v]) => a + v, 0) / mine.length;
  const bestValue = best.value as number;
  const maximize = study.direction === "maximize";
  const p = wilcoxonPValue(diffs, maximize ? "less" : "greater");
  const averageIsBest = maximize ? bestValue <= average : bestValue >= average;
  return p < options.p_threshold && !averageIsBest;
}
