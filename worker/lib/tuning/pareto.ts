/**
 * Multi-objective bookkeeping for tuning studies, with Optuna's semantics: Pareto dominance (per study
 * direction), constrained domination (a feasible point beats an infeasible one; between infeasible points
 * the smaller total violation Σ max(c, 0) wins, whatever their objective values), fast non-dominated
 * sorting into rank layers, the Pareto front a study reports as its best trials, and the hypervolume
 * indicator (exact: a sweep in 2-D, the WFG algorithm above that, sized for a handful of objectives) with
 * each point's exclusive contribution. Pure: no runtime imports.
 */
import type { StudyDirection } from "./distributions";

export interface ParetoPoint {
  values: readonly number[];
  /** Constraint values; feasible when every one is ≤ 0. Missing (null/undefined) means unconstrained. */
  constraints?: readonly number[] | null;
}

/** Objective values turned into losses (maximised objectives negated), so smaller is better everywhere. */
export function toLosses(values: readonly number[], directions: readonly StudyDirection[]): number[] {
  if (values.length !== directions.length) {
    throw new RangeError(`Expected ${directions.length} objective value(s), got ${values.length}`);
  }
  return values.map((v, i) => (directions[i] === "maximize" ? -v : v));
}

/** Whether loss vector `a` Pareto-dominates `b`: no worse in every objective and better in at least one. */
export function dominatesLoss(a: readonly number[], b: readonly number[]): boolean {
  let better = false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] > b[i]) return false;
    if (a[i] < b[i]) better = true;
  }
  return better;
}

/** Pareto dominance of objective values under the study's directions. */
export function dominates(a: readonly number[], b: readonly number[], directions: readonly StudyDirection[]): boolean {
  return dominatesLoss(toLosses(a, directions), toLosses(b, directions));
}

/** Total constraint violation Σ max(c, 0); 0 for an unconstrained point. NaN constraints count as +∞. */
export function violation(constraints: readonly number[] | null | undefined): number {
  if (!constraints) return 0;
  let total = 0;
  for (const c of constraints) total += Number.isNaN(c) ? Infinity : Math.max(c, 0);
  return total;
}

export function isFeasible(constraints: readonly number[] | null | undefined): boolean {
  return violation(constraints) === 0;
}

/**
 * Optuna's constrained domination: feasible beats infeasible; two infeasible points compare by total
 * violation only; two feasible points by Pareto dominance.
 */
export function constrainedDominates(a: ParetoPoint, b: ParetoPoint, directions: readonly StudyDirection[]): boolean {
  const va = violation(a.constraints);
  const vb = violation(b.constraints);
  if (va === 0 && vb === 0) return dominates(a.values, b.values, directions);
  if (va === 0) return true;
  if (vb === 0) return false;
  return va < vb;
}

/**
 * Fast non-dominated sort (Deb et al.): rank 0 is the non-dominated layer, rank 1 what is dominated only
 * by rank 0, and so on. With `constrained` the domination relation is the constrained one above (so every
 * feasible point ranks before every infeasible one, and infeasible points layer by violation).
 */
export function nonDominatedRanks(
  points: readonly ParetoPoint[],
  directions: readonly StudyDirection[],
  options: { constrained?: boolean } = {},
): number[] {
  const n = points.length;
  const losses = points.map((p) => toLosses(p.values, directions));
  const viol = points.map((p) => (options.constrained ? violation(p.constraints) : 0));
  const beats = (i: number, j: number): boolean => {
    if (viol[i] === 0 && viol[j] === 0) return dominatesLoss(losses[i], losses[j]);
    if (viol[i] === 0) return true;
    if (viol[j] === 0) return false;
    return viol[i] < viol[j];
  };
  const dominatedBy = new Array<number>(n).fill(0);
  const dominatesList: number[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (beats(i, j)) {
        dominatesList[i].push(j);
        dominatedBy[j]++;
      } else if (beats(j, i)) {
        dominatesList[j].push(i);
        dominatedBy[i]++;
      }
    }
  }
  const ranks = new Array<number>(n).fill(-1);
  let layer = [];
  for (let i = 0; i < n; i++) if (dominatedBy[i] === 0) layer.push(i);
  let rank = 0;
  while (layer.length > 0) {
    const next: number[] = [];
    for (const i of layer) {
      ranks[i] = rank;
      for (const j of dominatesList[i]) if (--dominatedBy[j] === 0) next.push(j);
    }
    layer = next;
    rank++;
  }
  return ranks;
}

/**
 * Indices (ascending) of the feasible points no other feasible point dominates: the best trials of a
 * multi-objective study, as Optuna's best_trials (infeasible trials never belong; equal points all do).
 */
export function paretoFront(points: readonly ParetoPoint[], directions: readonly StudyDirection[]): number[] {
  const feasible: number[] = [];
  points.forEach((p, i) => {
    if (isFeasible(p.constraints)) feasible.push(i);
  });
  const losses = feasible.map((i) => toLosses(points[i].values, directions));
  const out: number[] = [];
  for (let a = 0; a < feasible.length; a++) {
    let dominated = false;
    for (let b = 0; b < feasible.length && !dominated; b++) {
      if (b !== a && dominatesLoss(losses[b], losses[a])) dominated = true;
    }
    if (!dominated) out.push(feasible[a]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Hypervolume (losses: minimisation in every coordinate)

/** Keep the points that strictly dominate the reference point in every coordinate; only they add volume. */
function insideReference(points: readonly (readonly number[])[], ref: readonly number[]): number[][] {
  const out: number[][] = [];
  for (const p of points) {
    if (p.length !== ref.length) throw new RangeError("Every point needs as many coordinates as the reference point");
    if (p.every((v, i) => v < ref[i])) out.push(p.slice());
  }
  return out;
}

/** The non-dominated subset with duplicates collapsed (they add no volume). */
function nondominatedUnique(points: number[][]): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < points.length; i++) {
    let drop = false;
    for (let j = 0; j < points.length && !drop; j++) {
      if (j === i) continue;
      if (dominatesLoss(points[j], points[i])) drop = true;
      else if (j < i && points[j].every((v, k) => v === points[i][k])) drop = true;
    }
    if (!drop) out.push(points[i]);
  }
  return out;
}

function hv2d(points: number[][], ref: readonly number[]): number {
  const sorted = points.slice().sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let volume = 0;
  let ceiling = ref[1];
  for (const p of sorted) {
    if (p[1] < ceiling) {
      volume += (ref[0] - p[0]) * (ceiling - p[1]);
      ceiling = p[1];
    }
  }
  return volume;
}

function boxVolume(p: readonly number[], ref: readonly number[]): number {
  let v = 1;
  for (let i = 0; i < p.length; i++) v *= ref[i] - p[i];
  return v;
}

/** WFG: sum over points (sorted by the last objective) of each one's volume not covered by the later ones. */
function wfg(points: number[][], ref: readonly number[]): number {
  if (points.length === 0) return 0;
  if (ref.length === 1) return ref[0] - Math.min(...points.map((p) => p[0]));
  if (ref.length === 2) return hv2d(points, ref);
  if (points.length === 1) return boxVolume(points[0], ref);
  const sorted = points.slice().sort((a, b) => b[b.length - 1] - a[a.length - 1]);
  let total = 0;
  for (let i = 0; i < sorted.length; i++) {
    const p = sorted[i];
    const limited = nondominatedUnique(sorted.slice(i + 1).map((q) => q.map((v, k) => Math.max(v, p[k]))));
    total += boxVolume(p, ref) - wfg(limited, ref);
  }
  return total;
}

/**
 * Hypervolume of loss vectors w.r.t. `reference`: the volume of the union of the boxes [p, reference].
 * Points that do not strictly dominate the reference point add nothing.
 */
export function hypervolume(points: readonly (readonly number[])[], reference: readonly number[]): number {
  return wfg(nondominatedUnique(insideReference(points, reference)), reference);
}

/**
 * Each point's exclusive hypervolume contribution: HV(all) − HV(all but it). Dominated points and all
 * copies of a duplicated point contribute 0 (removing one copy loses nothing).
 */
export function hypervolumeContributions(points: readonly (readonly number[])[], reference: readonly number[]): number[] {
  const inside = points.map((p) => {
    if (p.length !== reference.length) throw new RangeError("Every point needs as many coordinates as the reference point");
    return p.every((v, i) => v < reference[i]);
  });
  return points.map((p, i) => {
    if (!inside[i]) return 0;
    const others: number[][] = [];
    for (let j = 0; j < points.length; j++) {
      if (j === i || !inside[j]) continue;
      const q = points[j];
      if (dominatesLoss(q, p) || q.every((v, k) => v === p[k])) return 0;
      others.push(q.map((v, k) => Math.max(v, p[k])));
    }
    return boxVolume(p, reference) - wfg(nondominatedUnique(others), reference);
  });
}

/**
 * Greedy hypervolume subset selection (Optuna's HSSP tie-break for the last non-dominated layer): pick,
 * `k` times, the point adding the most hypervolume to those already picked (the first on ties).
 * Returns indices into `points` in pick order.
 */
export function greedyHypervolumeSubset(points: readonly (readonly number[])[], k: number, reference: readonly number[]): number[] {
  const n = points.length;
  if (k >= n) return points.map((_, i) => i);
  const chosen: number[] = [];
  const used = new Array<boolean>(n).fill(false);
  let current = 0;
  for (let step = 0; step < k; step++) {
    let best = -1;
    let bestGain = -Infinity;
    for (let i = 0; i < n; i++) {
      if (used[i]) continue;
      const gain = hypervolume([...chosen.map((c) => points[c]), points[i]], reference) - current;
      if (gain > bestGain) {
        bestGain = gain;
        best = i;
      }
    }
    used[best] = true;
    chosen.push(best);
    current += bestGain;
  }
  return chosen;
}

/**
 * Optuna's reference point for MOTPE: per objective, max(1.1·worst, 0.9·worst) (so it lies beyond the
 * worst point whatever its sign), with exact zeros replaced by a tiny positive number.
 */
export function motpeReferencePoint(losses: readonly (readonly number[])[]): number[] {
  const d = losses[0]?.length ?? 0;
  const out: number[] = [];
  for (let k = 0; k < d; k++) {
    let worst = -Infinity;
    for (const p of losses) worst = Math.max(worst, p[k]);
    const r = Math.max(1.1 * worst, 0.9 * worst);
    out.push(r === 0 ? 1e-12 : r);
  }
  return out;
}
