/**
 * Hyperparameter importances as Optuna's FanovaImportanceEvaluator computes them: fit a random forest of
 * regression trees (64 trees, bootstrap samples, every feature considered at each split, MSE splits at
 * midpoints, depth ≤ 64) to the objective over the COMPLETE trials, then for every parameter and tree take
 * the variance of the tree's prediction marginalised over all other parameters (functional ANOVA, first
 * order: piecewise constant on the tree's split grid, integrated over the search-space box) divided by the
 * tree's total variance; average over trees and normalise to sum 1.
 *
 * Features: log-scaled params in log space, other numeric params as they are, a categorical as its choice
 * index on [−½, k − ½] (each choice an equal cell; this keeps the marginal grid linear in the number of
 * choices where one-hot columns would make it exponential). The parameters are those every COMPLETE trial
 * has with the same distribution (Optuna's intersection search space); single-valued ones score 0.
 * When nothing varies (a constant objective, a single trial, every tree a single leaf), or the variance is
 * all in interactions, every non-single parameter gets an equal share, so the result still sums to 1 and
 * never holds NaN. Seeded and deterministic. Pure: no runtime imports.
 */
import { type Distribution, distributionsEqual, isSingle, toInternal } from "./distributions";
import { Rng } from "./random";
import type { StudyTrial } from "./sampler";

export interface ParamImportance {
  name: string;
  importance: number;
}

export interface ImportanceOptions {
  /** Which objective of a multi-objective study (default 0). */
  objective?: number;
  /** Seed of the forest's bootstrap and feature order (default 0). */
  seed?: number;
  nTrees?: number;
  maxDepth?: number;
}

// ---------------------------------------------------------------------------------------------------------
// Regression trees

interface TreeNode {
  /** Split feature, or −1 for a leaf. */
  feature: number;
  threshold: number;
  left: number;
  right: number;
  value: number;
}

/** Fit one CART regression tree on rows `sample` (with multiplicity `weight`) by weighted MSE. */
function fitTree(X: number[][], y: number[], weight: number[], maxDepth: number, rng: Rng): TreeNode[] {
  const nFeatures = X[0]?.length ?? 0;
  const nodes: TreeNode[] = [];
  const rows = weight.flatMap((w, i) => (w > 0 ? [i] : []));
  const build = (idx: number[], depth: number): number => {
    let wSum = 0;
    let ySum = 0;
    let y2Sum = 0;
    for (const i of idx) {
      wSum += weight[i];
      ySum += weight[i] * y[i];
      y2Sum += weight[i] * y[i] * y[i];
    }
    const mean = ySum / wSum;
    const id = nodes.length;
    nodes.push({ feature: -1, threshold: 0, left: -1, right: -1, value: mean });
    const impurity = y2Sum / wSum - mean * mean;
    if (depth >= maxDepth || wSum < 2 || idx.length < 2 || impurity <= 1e-12 * Math.max(1, mean * mean)) return id;
    // Features in random order, as the reference forest visits them; the first best split wins ties.
    const order = Array.from({ length: nFeatures }, (_, f) => f);
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    let bestGain = 0;
    let bestFeature = -1;
    let bestThreshold = 0;
    for (const f of order) {
      const sorted = idx.slice().sort((a, b) => X[a][f] - X[b][f]);
      let lw = 0;
      let ls = 0;
      for (let k = 0; k < sorted.length - 1; k++) {
        const i = sorted[k];
        lw += weight[i];
        ls += weight[i] * y[i];
        const a = X[i][f];
        const b = X[sorted[k + 1]][f];
        if (b <= a) continue;
        const rw = wSum - lw;
        const rs = ySum - ls;
        // Reduction of the weighted sum of squares: Σ over both sides of (sum²/weight) − total sum²/weight.
        const gain = (ls * ls) / lw + (rs * rs) / rw - (ySum * ySum) / wSum;
        if (gain > bestGain + 1e-12 * Math.abs(bestGain)) {
          bestGain = gain;
          bestFeature = f;
          const mid = (a + b) / 2;
          bestThreshold = mid >= b ? a : mid;
        }
      }
    }
    if (bestFeature < 0) return id;
    const leftIdx = idx.filter((i) => X[i][bestFeature] <= bestThreshold);
    const rightIdx = idx.filter((i) => X[i][bestFeature] > bestThreshold);
    const node = nodes[id];
    node.feature = bestFeature;
    node.threshold = bestThreshold;
    node.left = build(leftIdx, depth + 1);
    node.right = build(rightIdx, depth + 1);
    return id;
  };
  if (rows.length > 0) build(rows, 0);
  return nodes;
}

// ---------------------------------------------------------------------------------------------------------
// Functional ANOVA on one tree

interface TreeStats {
  nodes: TreeNode[];
  /** Each node's box: [low, high] per feature. */
  lows: number[][];
  highs: number[][];
  /** Volume-weighted mean prediction over each node's box. */
  mean: number[];
  /** Per node, which features its subtree splits on. */
  splits: Set<number>[];
  /** Total variance of the prediction over the whole box (uniform measure). */
  variance: number;
}

function treeStats(nodes: TreeNode[], bounds: [number, number][]): TreeStats {
  const n = nodes.length;
  const lows: number[][] = new Array(n);
  const highs: number[][] = new Array(n);
  lows[0] = bounds.map((b) => b[0]);
  highs[0] = bounds.map((b) => b[1]);
  for (let i = 0; i < n; i++) {
    const node = nodes[i];
    if (node.feature < 0) continue;
    lows[node.left] = lows[i].slice();
    highs[node.left] = highs[i].slice();
    highs[node.left][node.feature] = node.threshold;
    lows[node.right] = lows[i].slice();
    highs[node.right] = highs[i].slice();
    lows[node.right][node.feature] = node.threshold;
  }
  const volume = (i: number) => lows[i].reduce((v, lo, f) => v * (highs[i][f] - lo), 1);
  const mean = new Array<number>(n).fill(0);
  const vol = new Array<number>(n).fill(0);
  const splits: Set<number>[] = new Array(n);
  // Children always come after their parent, so a reverse pass sees children first.
  for (let i = n - 1; i >= 0; i--) {
    const node = nodes[i];
    if (node.feature < 0) {
      vol[i] = volume(i);
      mean[i] = node.value;
      splits[i] = new Set();
    } else {
      vol[i] = vol[node.left] + vol[node.right];
      mean[i] = vol[i] > 0 ? (mean[node.left] * vol[node.left] + mean[node.right] * vol[node.right]) / vol[i] : 0;
      splits[i] = new Set([node.feature, ...splits[node.left], ...splits[node.right]]);
    }
  }
  let variance = 0;
  if (vol[0] > 0) {
    for (let i = 0; i < n; i++) {
      if (nodes[i].feature >= 0) continue;
      variance += (vol[i] / vol[0]) * (mean[i] - mean[0]) ** 2;
    }
  }
  return { nodes, lows, highs, mean, splits, variance };
}

/** Variance, over feature f's range, of the prediction averaged over every other feature. */
function marginalVariance(t: TreeStats, f: number, bounds: [number, number][]): number {
  const cuts = new Set<number>();
  for (const node of t.nodes) if (node.feature === f) cuts.add(node.threshold);
  const edges = [bounds[f][0], ...[...cuts].sort((a, b) => a - b), bounds[f][1]];
  const restVolume = (i: number) => {
    let v = 1;
    for (let k = 0; k < bounds.length; k++) if (k !== f) v *= t.highs[i][k] - t.lows[i][k];
    return v;
  };
  let totalRest = 1;
  for (let k = 0; k < bounds.length; k++) if (k !== f) totalRest *= bounds[k][1] - bounds[k][0];
  const marginal = (x: number): number => {
    let acc = 0;
    const stack = [0];
    while (stack.length > 0) {
      const i = stack.pop() as number;
      const node = t.nodes[i];
      if (node.feature === f) stack.push(x <= node.threshold ? node.left : node.right);
      else if (node.feature >= 0 && t.splits[i].has(f)) stack.push(node.left, node.right);
      else acc += t.mean[i] * restVolume(i);
    }
    return totalRest > 0 ? acc / totalRest : 0;
  };
  const values: number[] = [];
  const sizes: number[] = [];
  for (let k = 0; k + 1 < edges.length; k++) {
    const size = edges[k + 1] - edges[k];
    if (size <= 0) continue;
    values.push(marginal((edges[k] + edges[k + 1]) / 2));
    sizes.push(size);
  }
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total <= 0) return 0;
  const avg = values.reduce((a, v, k) => a + v * sizes[k], 0) / total;
  return Math.max(0, values.reduce((a, v, k) => a + sizes[k] * (v - avg) ** 2, 0) / total);
}

// ---------------------------------------------------------------------------------------------------------
// Entry point

function intersectionSpace(trials: readonly StudyTrial[]): Record<string, Distribution> {
  let space: Record<string, Distribution> | null = null;
  for (const t of trials) {
    if (space === null) {
      space = { ...t.distributions };
      continue;
    }
    const next: Record<string, Distribution> = {};
    for (const [name, d] of Object.entries(space)) {
      const other = t.distributions[name];
      if (other && distributionsEqual(d, other)) next[name] = d;
    }
    space = next;
  }
  const out: Record<string, Distribution> = {};
  for (const name of Object.keys(space ?? {}).sort()) out[name] = (space as Record<string, Distribution>)[name];
  return out;
}

function featureOf(d: Distribution, value: unknown): number {
  const internal = toInternal(d, value);
  return d.type !== "categorical" && d.log ? Math.log(internal) : internal;
}

function boundsOf(d: Distribution): [number, number] {
  if (d.type === "categorical") return [-0.5, d.choices.length - 0.5];
  return d.log ? [Math.log(d.low), Math.log(d.high)] : [d.low, d.high];
}

function targetOf(t: StudyTrial, objective: number): number | null {
  const v = t.values?.[objective] ?? (objective === 0 ? t.value : undefined);
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/**
 * fANOVA importances of the parameters shared by all COMPLETE trials (with a finite target), sorted by
 * importance (descending; ties by name), summing to 1. [] when there are no such trials, or no shared
 * parameter takes more than one value (as Optuna returns an empty result then).
 */
export function paramImportances(trials: readonly StudyTrial[], options: ImportanceOptions = {}): ParamImportance[] {
  const objective = options.objective ?? 0;
  const nTrees = options.nTrees ?? 64;
  const maxDepth = options.maxDepth ?? 64;
  const complete = trials.filter((t) => t.state === "COMPLETE");
  const space = intersectionSpace(complete);
  const names = Object.keys(space);
  if (names.length === 0) return [];
  const used = complete.filter((t) => targetOf(t, objective) !== null);
  const active = names.filter((n) => !isSingle(space[n]));
  const scores = new Map<string, number>(names.map((n) => [n, 0]));
  if (active.length === 0) return [];
  if (used.length > 0) {
    const X = used.map((t) => active.map((n) => featureOf(space[n], t.params[n])));
    const y = used.map((t) => targetOf(t, objective) as number);
    const bounds = active.map((n) => boundsOf(space[n]));
    const rng = Rng.seeded(options.seed ?? 0);
    const sums = new Array<number>(active.length).fill(0);
    let counted = 0;
    for (let k = 0; k < nTrees; k++) {
      const weight = new Array<number>(used.length).fill(0);
      for (let i = 0; i < used.length; i++) weight[rng.int(used.length)]++;
      const stats = treeStats(fitTree(X, y, weight, maxDepth, rng), bounds);
      if (!(stats.variance > 0)) continue;
      counted++;
      active.forEach((_, f) => {
        sums[f] += marginalVariance(stats, f, bounds) / stats.variance;
      });
    }
    const total = sums.reduce((a, b) => a + b, 0);
    active.forEach((n, f) => scores.set(n, counted > 0 && total > 0 ? sums[f] / total : 1 / active.length));
  } else {
    for (const n of active) scores.set(n, 1 / active.length);
  }
  return names
    .map((name) => ({ name, importance: scores.get(name) as number }))
    .sort((a, b) => b.importance - a.importance || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
