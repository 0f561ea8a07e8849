/**
 * The Tree-structured Parzen Estimator sampler, faithful to Optuna 4.x's TPESampler (single objective):
 * random startup, the good/bad ("below"/"above") split with pruned trials ranked after complete ones,
 * Parzen mixtures of truncated normals in the transformed space (plus the prior component and the magic
 * clip), the categorical kernel, 24 candidates drawn from l(x) and scored by log l(x) − log g(x).
 * Univariate by default, with Optuna 4.x's multivariate option (one joint mixture over the intersection
 * search space, Scott-like bandwidths), its `group` option (one joint mixture per group of parameters that
 * always occur together, for conditional spaces) and the constant-liar option for parallel workers.
 * Multi-objective (MOTPE as in Optuna 4.x): the below set is filled by non-domination rank and the last
 * rank is cut by greedy hypervolume subset selection; below observations are weighted by their hypervolume
 * contributions. Constraints (Optuna's constraints_func semantics): once trials carry constraint values,
 * infeasible trials rank after every feasible one, by total violation.
 * The module is pure: trials come in as plain records, randomness through the Rng passed in.
 */
import {
  type Distribution,
  type NumericDistribution,
  type ParamValue,
  type StudyDirection,
  type TrialState,
  compatible,
  contains,
  distributionsEqual,
  isSingle,
  singleValue,
  snapToGrid,
  toExternal,
  toInternal,
  transformedBounds,
} from "./distributions";
import { LOG_SQRT_2PI, erfcx, logGaussMass, truncNormPpf } from "./normal";
import {
  greedyHypervolumeSubset,
  hypervolumeContributions,
  motpeReferencePoint,
  nonDominatedRanks,
  toLosses,
  violation,
} from "./pareto";
import { type Rng, sampleRandom } from "./random";

/** What the sampler needs to know about a trial. */
export interface TrialRecord {
  number: number;
  state: TrialState;
  /** Objective value of a COMPLETE trial. */
  value?: number | null;
  /** All objective values of a COMPLETE trial (multi-objective); `value` is used when absent. */
  values?: readonly number[] | null;
  /** Constraint values (feasible when every value ≤ 0), as Optuna's constraints_func returns them. */
  constraints?: readonly number[] | null;
  /**
   * External parameter values. For a RUNNING trial under the constant liar this should include every value
   * already decided for it (also the ones sampled jointly at its start), as Optuna shares them between workers.
   */
  params: Readonly<Record<string, ParamValue>>;
  /** The distribution each parameter was suggested with (used to intersect search spaces). */
  distributions: Readonly<Record<string, Distribution>>;
  /** Reported intermediate values by step; null stands for NaN (JSON has no NaN). */
  intermediateValues?: Readonly<Record<number, number | null>>;
}

export interface TpeOptions {
  /** Trials (COMPLETE + PRUNED) sampled at random before TPE starts. */
  nStartupTrials: number;
  /** Candidates drawn from l(x) per sample. */
  nEiCandidates: number;
  /** Size of the "below" set given the number of finished trials. */
  gamma: (n: number) => number;
  /** Mixture weights of n observations, oldest first. */
  weights: (n: number) => number[];
  priorWeight: number;
  considerMagicClip: boolean;
  considerEndpoints: boolean;
  /** Sample the intersection search space jointly (sampleSearchSpace only). */
  multivariate: boolean;
  /** Put other RUNNING trials into the "above" set so parallel workers spread out. */
  constantLiar: boolean;
  /** With `multivariate`: one joint sample per group of always co-occurring parameters. */
  group: boolean;
}

/** γ(n) = min(⌈0.1·n⌉, 25). */
export function defaultGamma(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25);
}

/** Hyperopt's γ(n) = min(⌈0.25·√n⌉, 25) (Optuna's hyperopt preset, used with 20 startup trials). */
export function hyperoptGamma(n: number): number {
  return Math.min(Math.ceil(0.25 * Math.sqrt(n)), 25);
}

/** Flat weights below 25 observations; above, the oldest n − 25 ramp linearly from 1/n up to 1. */
export function defaultWeights(n: number): number[] {
  if (n <= 0) return [];
  if (n < 25) return new Array<number>(n).fill(1);
  const m = n - 25;
  const ramp: number[] = [];
  // numpy.linspace(1/n, 1, m) with its rounding: start + i·step, the last point set to exactly 1.
  const step = m > 1 ? (1 - 1 / n) / (m - 1) : 0;
  for (let i = 0; i < m; i++) ramp.push(m > 1 && i === m - 1 ? 1 : i * step + 1 / n);
  return ramp.concat(new Array<number>(25).fill(1));
}

export const DEFAULT_TPE_OPTIONS: Readonly<TpeOptions> = Object.freeze({
  nStartupTrials: 10,
  nEiCandidates: 24,
  gamma: defaultGamma,
  weights: defaultWeights,
  priorWeight: 1,
  considerMagicClip: true,
  considerEndpoints: false,
  multivariate: false,
  constantLiar: false,
  group: false,
});

function resolveOptions(options: Partial<TpeOptions> | undefined): TpeOptions {
  const o = { ...DEFAULT_TPE_OPTIONS, ...options };
  if (!(o.priorWeight >= 0)) throw new RangeError(`priorWeight must be non-negative, got ${o.priorWeight}`);
  if (!(o.nEiCandidates >= 1)) throw new RangeError(`nEiCandidates must be at least 1, got ${o.nEiCandidates}`);
  if (o.group && !o.multivariate) throw new RangeError("group requires multivariate");
  return o;
}

// ---------------------------------------------------------------------------------------------------------
// Parzen estimator

export interface ParzenParameters {
  priorWeight: number;
  considerMagicClip: boolean;
  considerEndpoints: boolean;
  weights: (n: number) => number[];
  multivariate: boolean;
  /**
   * Normalised mixture weights already computed, by number of observations (the weights depend on nothing
   * else for a given `weights` function and prior weight), shared by the estimators of one sample.
   */
  weightCache?: Map<string, { fn: (n: number) => number[]; weights: number[] }>;
}

export interface NumericKernels {
  kind: "numeric";
  distribution: NumericDistribution;
  /** Component centres and bandwidths in the transformed space; the last component is the prior. */
  mus: number[];
  sigmas: number[];
  /** Truncation bounds in the transformed space. */
  low: number;
  high: number;
  /** log of each component's normal mass inside [low, high] (the truncation normaliser). */
  logMass: number[];
  /** log of each bandwidth, computed once per fit rather than once per evaluated point. */
  logSigma: Float64Array;
  /** Component k is distinct pair unique[k] of (uniqueMus, uniqueSigmas). */
  unique: Int32Array;
  uniqueMus: number[];
  uniqueSigmas: number[];
}


export interface CategoricalKernels {
  kind: "categorical";
  /** One probability row per component (the last one is the prior, uniform). */
  probs: number[][];
}

export interface ParzenEstimator {
  /** Normalised mixture weights, observations in the given order then the prior. */
  weights: number[];
  dims: Record<string, NumericKernels | CategoricalKernels>;
}

function checkWeights(w: number[], n: number): number[] {
  const out = w.slice(0, n);
  if (out.some((x) => !(x >= 0) || !Number.isFinite(x))) throw new RangeError(`weights(${n}) must be finite and non-negative`);
  if (out.length > 0 && out.reduce((a, b) => a + b, 0) <= 0) throw new RangeError(`weights(${n}) must not be all zero`);
  return out;
}

/**
 * Indices 0..m−1 ordered by xs[i], equal values (−0 and 0 included) in index order: the stable comparator
 * sort, done as a bottom-up merge sort of (value, index) pairs kept in parallel typed arrays (insertion-
 * sorted runs of 8, then merges that take from the right run only when strictly smaller, and copy the
 * runs as they are when already in order). With a NaN (no order) the comparator sort is used.
 */
export function sortedOrder(xs: readonly number[], m: number): Uint32Array {
  for (let i = 0; i < m; i++) {
    if (xs[i] !== xs[i]) return new Uint32Array(m).map((_, j) => j).sort((a, b) => xs[a] - xs[b] || a - b);
  }
  // The work arrays are module-level buffers reused between calls (allocating typed arrays costs more
  // than the sort on ~1000 values); the caller gets a copy of the result.
  if (sortScratch.size < m) sortScratch = sortBuffers(Math.max(m, 2 * sortScratch.size));
  let { order, values, nextOrder, nextValues } = sortScratch;
  const RUN = 8;
  for (let start = 0; start < m; start += RUN) {
    const end = Math.min(m, start + RUN);
    for (let i = start; i < end; i++) {
      const x = xs[i];
      let j = i - 1;
      while (j >= start && values[j] > x) {
        values[j + 1] = values[j];
        order[j + 1] = order[j];
        j--;
      }
      values[j + 1] = x;
      order[j + 1] = i;
    }
  }
  for (let width = RUN; width < m; width *= 2) {
    for (let start = 0; start < m; start += 2 * width) {
      const mid = Math.min(m, start + width);
      const end = Math.min(m, start + 2 * width);
      let i = start;
      let j = mid;
      let k = start;
      if (mid < end && values[mid] < values[mid - 1]) {
        let vi = values[i];
        let vj = values[j];
        for (;;) {
          if (vj < vi) {
            nextValues[k] = vj;
            nextOrder[k++] = order[j];
            if (++j === end) break;
            vj = values[j];
          } else {
            nextValues[k] = vi;
            nextOrder[k++] = order[i];
            if (++i === mid) break;
            vi = values[i];
          }
        }
      }
      for (; i < mid; i++, k++) {
        nextValues[k] = values[i];
        nextOrder[k] = order[i];
      }
      for (; j < end; j++, k++) {
        nextValues[k] = values[j];
        nextOrder[k] = order[j];
      }
    }
    [order, nextOrder] = [nextOrder, order];
    [values, nextValues] = [nextValues, values];
  }
  return order.slice(0, m);
}

function sortBuffers(size: number) {
  return {
    size,
    order: new Uint32Array(size),
    values: new Float64Array(size),
    nextOrder: new Uint32Array(size),
    nextValues: new Float64Array(size),
  };
}

let sortScratch = sortBuffers(0);

function numericKernels(
  obs: number[],
  d: NumericDistribution,
  nDims: number,
  p: ParzenParameters,
): NumericKernels {
  const { low, high } = transformedBounds(d);
  const n = obs.length;
  const mus = new Array<number>(n + 1);
  for (let i = 0; i < n; i++) mus[i] = d.log ? Math.log(obs[i]) : obs[i];
  const prior = 0.5 * (low + high);
  const range = high - low;
  const sigmas = new Array<number>(n + 1);
  // Component indices by centre (univariate only).
  let order: Uint32Array | null = null;
  if (p.multivariate) {
    const s = 0.2 * Math.max(n, 1) ** (-1 / (nDims + 4)) * range;
    for (let i = 0; i < n; i++) sigmas[i] = s;
  } else {
    // Bandwidth = the larger gap to a neighbour among the sorted centres, the prior centre included
    // (Optuna ≤ 4.8), with the bounds as outer neighbours; the outermost centres use only the inner gap.
    // Equal centres keep their input order (a stable sort), which decides which of them gets which gap.
    const m = n + 1;
    mus[n] = prior;
    order = sortedOrder(mus, m);
    // padded[j] = low, the sorted centres, high.
    const padded = new Float64Array(m + 2);
    padded[0] = low;
    for (let j = 0; j < m; j++) padded[j + 1] = mus[order[j]];
    padded[m + 1] = high;
    for (let j = 0; j < m; j++) {
      const orig = order[j];
      if (orig >= n) continue;
      let s = Math.max(padded[j + 1] - padded[j], padded[j + 2] - padded[j + 1]);
      if (!p.considerEndpoints && m >= 2) {
        if (j === 0) s = padded[2] - padded[1];
        else if (j === m - 1) s = padded[m] - padded[m - 1];
      }
      sigmas[orig] = s;
    }
  }
  // Magic clip: no kernel narrower than range/(n + 2) (one for the prior, one more), none wider than range.
  const minSigma = p.considerMagicClip ? range / Math.min(100, n + 2) : 1e-12;
  for (let i = 0; i < n; i++) sigmas[i] = Math.min(range, Math.max(minSigma, sigmas[i]));
  mus[n] = prior;
  sigmas[n] = range;
  // Many components share (μ, σ) (repeated grid values whose gaps clip to the same minimum), and a
  // component's densities depend on nothing else, so the costly normal masses are computed per distinct pair.
  // Equal centres are adjacent in `order` (univariate) or share one bandwidth (multivariate), so pairs are
  // matched within runs of equal centres; NaN centres (never equal to anything) each get their own pair.
  const unique = new Int32Array(n + 1).fill(-1);
  const uniqueMus: number[] = [];
  const uniqueSigmas: number[] = [];
  const uniqueLogMass: number[] = [];
  const uniqueLogSigma: number[] = [];
  const logMass = new Array<number>(n + 1);
  const logSigma = new Float64Array(n + 1);
  const addPair = (k: number): number => {
    uniqueMus.push(mus[k]);
    uniqueSigmas.push(sigmas[k]);
    uniqueLogMass.push(logGaussMass((low - mus[k]) / sigmas[k], (high - mus[k]) / sigmas[k]));
    uniqueLogSigma.push(Math.log(sigmas[k]));
    return uniqueMus.length - 1;
  };
  if (order) {
    let runStart = 0;
    for (let j = 0; j <= n; j++) {
      const k = order[j];
      if (j > 0 && !(mus[k] === mus[order[j - 1]])) runStart = uniqueMus.length;
      let u = -1;
      for (let v = runStart; v < uniqueMus.length; v++) {
        if (uniqueSigmas[v] === sigmas[k]) {
          u = v;
          break;
        }
      }
      unique[k] = u >= 0 ? u : addPair(k);
    }
  } else {
    const byMu = new Map<number, Map<number, number>>();
    for (let k = 0; k <= n; k++) {
      let bySigma = byMu.get(mus[k]);
      if (!bySigma) byMu.set(mus[k], (bySigma = new Map()));
      let u = bySigma.get(sigmas[k]);
      if (u === undefined) bySigma.set(sigmas[k], (u = addPair(k)));
      unique[k] = u;
    }
  }
  for (let k = 0; k <= n; k++) {
    logMass[k] = uniqueLogMass[unique[k]];
    logSigma[k] = uniqueLogSigma[unique[k]];
  }
  return { kind: "numeric", distribution: d, mus, sigmas, low, high, logMass, logSigma, unique, uniqueMus, uniqueSigmas };
}

function categoricalKernels(obs: number[], nChoices: number, priorWeight: number): CategoricalKernels {
  if (obs.length === 0) return { kind: "categorical", probs: [new Array<number>(nChoices).fill(1 / nChoices)] };
  const nKernels = obs.length + 1;
  const rows = Array.from({ length: nKernels }, () => new Array<number>(nChoices).fill(priorWeight / nKernels));
  obs.forEach((idx, i) => {
    rows[i][Math.trunc(idx)] += 1;
  });
  for (const row of rows) {
    const s = row.reduce((a, b) => a + b, 0);
    if (s !== 0) for (let j = 0; j < row.length; j++) row[j] /= s;
  }
  return { kind: "categorical", probs: rows };
}

/**
 * Build Optuna's `_ParzenEstimator` for observations in internal representation (numbers; categorical
 * values as choice indices), one array per parameter, all of the same length, oldest first.
 */
export function buildParzenEstimator(
  observations: Readonly<Record<string, number[]>>,
  searchSpace: Readonly<Record<string, Distribution>>,
  params: ParzenParameters,
  /** Observation weights to use instead of `params.weights(n)` (MOTPE's hypervolume-contribution weights). */
  predeterminedWeights?: readonly number[],
): ParzenEstimator {
  const names = Object.keys(searchSpace);
  const n = names.length > 0 ? (observations[names[0]]?.length ?? 0) : 0;
  const cacheKey = `${n}:${params.priorWeight}`;
  const cached = predeterminedWeights ? undefined : params.weightCache?.get(cacheKey);
  let weights: number[];
  if (cached && cached.fn === params.weights) {
    weights = cached.weights;
  } else {
    if (n === 0) {
      weights = [1];
    } else {
      weights = checkWeights(predeterminedWeights ? [...predeterminedWeights] : params.weights(n), n);
      weights.push(params.priorWeight);
    }
    const total = weights.reduce((a, b) => a + b, 0);
    weights = weights.map((w) => w / total);
    if (!predeterminedWeights) params.weightCache?.set(cacheKey, { fn: params.weights, weights });
  }
  const dims: ParzenEstimator["dims"] = {};
  for (const name of names) {
    const d = searchSpace[name];
    const obs = observations[name] ?? [];
    dims[name] =
      d.type === "categorical"
        ? categoricalKernels(obs, d.choices.length, params.priorWeight)
        : numericKernels(obs, d, names.length, params);
  }
  return { weights, dims };
}

function drawFromRow(row: number[], u: number): number {
  let acc = 0;
  for (let j = 0; j < row.length - 1; j++) {
    acc += row[j];
    if (u <= acc) return j;
  }
  return row.length - 1;
}

/** Draw `size` joint samples (internal representation) from the mixture. */
export function sampleParzen(pe: ParzenEstimator, rng: Rng, size: number): Record<string, number[]> {
  const names = Object.keys(pe.dims);
  const out: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, [] as number[]]));
  for (let i = 0; i < size; i++) {
    const k = rng.weightedIndex(pe.weights);
    for (const name of names) {
      const dim = pe.dims[name];
      if (dim.kind === "categorical") {
        out[name].push(drawFromRow(dim.probs[k], rng.random()));
        continue;
      }
      const mu = dim.mus[k];
      const sigma = dim.sigmas[k];
      const z = truncNormPpf(rng.random(), (dim.low - mu) / sigma, (dim.high - mu) / sigma);
      const t = Math.min(dim.high, Math.max(dim.low, mu + sigma * z));
      const d = dim.distribution;
      let x = d.log ? Math.exp(t) : t;
      if (d.step !== null) x = snapToGrid(d, x);
      else x = Math.min(d.high, Math.max(d.low, x));
      out[name].push(x);
    }
  }
  return out;
}

/**
 * Adds each component's log-density at every sample of one numeric parameter to `terms` (sample-major,
 * K components per sample). The arithmetic is the per-point formula term for term, only hoisted: the
 * transform of x once per sample, log σ once per fit, and a grid value's cell masses once per distinct
 * value (candidates drawn from l(x) repeat on a grid).
 */
function addNumericLogPdf(dim: NumericKernels, xs: readonly number[], terms: Float64Array, K: number): void {
  const { mus, sigmas, logMass, logSigma, low, high } = dim;
  const d = dim.distribution;
  if (d.step === null) {
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i];
      const t = d.log ? Math.log(x) : x;
      const row = i * K;
      if (t < low || t > high) {
        for (let k = 0; k < K; k++) terms[row + k] += -Infinity;
        continue;
      }
      for (let k = 0; k < K; k++) {
        const z = (t - mus[k]) / sigmas[k];
        terms[row + k] += -0.5 * z * z - LOG_SQRT_2PI - logMass[k] - logSigma[k];
      }
    }
    return;
  }
  // A grid value's probability is the component's mass over its grid cell (logCellMass); neighbouring
  // candidate cells share an edge, so erfcx is computed once per distinct edge and component.
  const half = d.step / 2;
  const { unique, uniqueMus, uniqueSigmas } = dim;
  const U = uniqueMus.length;
  const cells = new Map<number, Float64Array>();
  // Per edge: the standardised edge z of every distinct component, then erfcx(|z|/√2).
  const edges = new Map<number, Float64Array>();
  const edgeRow = (e: number): Float64Array => {
    let row = edges.get(e);
    if (!row) {
      row = new Float64Array(2 * U);
      for (let u = 0; u < U; u++) {
        const z = (e - uniqueMus[u]) / uniqueSigmas[u];
        row[u] = z;
        row[U + u] = erfcx(Math.abs(z) / Math.SQRT2);
      }
      edges.set(e, row);
    }
    return row;
  };
  const masses = new Float64Array(U);
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    let cell = cells.get(x);
    if (!cell) {
      cell = new Float64Array(K);
      const lo = edgeRow(d.log ? Math.log(x - half) : x - half);
      const hi = edgeRow(d.log ? Math.log(x + half) : x + half);
      for (let u = 0; u < U; u++) masses[u] = logCellMass(lo[u], hi[u], lo[U + u], hi[U + u]);
      for (let k = 0; k < K; k++) cell[k] = masses[unique[k]] - logMass[k];
      cells.set(x, cell);
    }
    const row = i * K;
    for (let k = 0; k < K; k++) terms[row + k] += cell[k];
  }
}

function addCategoricalLogPdf(dim: CategoricalKernels, xs: readonly number[], terms: Float64Array, K: number): void {
  const columns = new Map<number, Float64Array>();
  for (let i = 0; i < xs.length; i++) {
    const c = Math.trunc(xs[i]);
    let column = columns.get(c);
    if (!column) {
      column = new Float64Array(K);
      for (let k = 0; k < K; k++) column[k] = Math.log(dim.probs[k][c]);
      columns.set(c, column);
    }
    const row = i * K;
    for (let k = 0; k < K; k++) terms[row + k] += column[k];
  }
}

let scratch = new Float64Array(0);

/**
 * logPdfRows for a one-dimensional continuous estimator, with the same arithmetic in one pass per point
 * (no matrix filled with the log weights first).
 */
function logPdfContinuous1D(dim: NumericKernels, logWeights: Float64Array, xs: readonly number[]): number[] {
  const { mus, sigmas, logMass, logSigma, low, high } = dim;
  const d = dim.distribution;
  const K = logWeights.length;
  if (scratch.length < K) scratch = new Float64Array(Math.max(K, 2 * scratch.length));
  const terms = scratch;
  return xs.map((x) => {
    const t = d.log ? Math.log(x) : x;
    if (t < low || t > high) return -Infinity;
    for (let k = 0; k < K; k++) {
      const z = (t - mus[k]) / sigmas[k];
      terms[k] = logWeights[k] + (-0.5 * z * z - LOG_SQRT_2PI - logMass[k] - logSigma[k]);
    }
    return logSumExp(terms, 0, K);
  });
}

/** log of each mixture weight, kept per weights array (estimators of one sample share their weights). */
const logWeightsCache = new WeakMap<readonly number[], Float64Array>();

function logWeightsOf(weights: readonly number[]): Float64Array {
  let logs = logWeightsCache.get(weights);
  if (!logs) {
    logs = Float64Array.from(weights, Math.log);
    logWeightsCache.set(weights, logs);
  }
  return logs;
}

/** log p(x) of the mixture for each joint sample (internal representation). */
export function logPdfParzen(pe: ParzenEstimator, samples: Readonly<Record<string, number[]>>): number[] {
  const names = Object.keys(pe.dims);
  if (names.length !== 1) return logPdfRows(pe, samples, names);
  // One dimension (univariate TPE): the density depends on the value alone, and candidates drawn from l(x)
  // repeat (a choice, a grid point), so each distinct value is evaluated once.
  const xs = samples[names[0]];
  const slot = new Map<number, number>();
  const distinct: number[] = [];
  const which = new Int32Array(xs.length);
  for (let i = 0; i < xs.length; i++) {
    let j = slot.get(xs[i]);
    if (j === undefined) {
      j = distinct.length;
      distinct.push(xs[i]);
      slot.set(xs[i], j);
    }
    which[i] = j;
  }
  if (distinct.length === xs.length) return logPdfRows(pe, samples, names);
  const values = logPdfRows(pe, { [names[0]]: distinct }, names);
  const result = new Array<number>(xs.length);
  for (let i = 0; i < xs.length; i++) result[i] = values[which[i]];
  return result;
}

function logPdfRows(pe: ParzenEstimator, samples: Readonly<Record<string, readonly number[]>>, names: readonly string[]): number[] {
  const size = names.length > 0 ? samples[names[0]].length : 0;
  const K = pe.weights.length;
  if (names.length === 1) {
    const dim = pe.dims[names[0]];
    if (dim.kind === "numeric" && dim.distribution.step !== null) return logPdfGrid1D(dim, pe.weights, samples[names[0]]);
    if (dim.kind === "numeric") return logPdfContinuous1D(dim, logWeightsOf(pe.weights), samples[names[0]]);
  }
  // terms[i·K + k] = log w_k + Σ_dims log p_k(x_i), summed in the same order as a per-point loop would.
  // A scratch buffer reused between calls (one ask evaluates a dozen such matrices), zeroed by the fill.
  if (scratch.length < size * K) scratch = new Float64Array(Math.max(size * K, 2 * scratch.length));
  const terms = scratch;
  const logWeights = logWeightsOf(pe.weights);
  for (let i = 0; i < size; i++) terms.set(logWeights, i * K);
  for (const name of names) {
    const dim = pe.dims[name];
    if (dim.kind === "categorical") addCategoricalLogPdf(dim, samples[name], terms, K);
    else addNumericLogPdf(dim, samples[name], terms, K);
  }
  const result = new Array<number>(size);
  for (let i = 0; i < size; i++) result[i] = logSumExp(terms, i * K, K);
  return result;
}

/** log Σ exp(terms[from + k]) for k < K, summed in index order. */
function logSumExp(terms: Float64Array, from: number, K: number): number {
  let max = -Infinity;
  for (let k = 0; k < K; k++) if (terms[from + k] > max) max = terms[from + k];
  if (max === -Infinity || Number.isNaN(max)) return max;
  // Σ exp(y) in component order, skipping every exp that cannot change the sum: a term below half an ulp
  // of s leaves s as it is (round to nearest), and exp(y) < s·2⁻⁵⁴ (under half an ulp) when
  // y < log s − 38 (54·ln 2 ≈ 37.43, with room for the rounding of the log). The bound uses an earlier,
  // smaller s, refreshed when s has grown 256-fold, which only makes it stricter. Below −746 exp is 0
  // anyway. NaN is never skipped, so it propagates as before.
  let s = 0;
  let skipBelow = -746;
  let refreshAbove = 0;
  for (let k = 0; k < K; k++) {
    const y = terms[from + k] - max;
    if (y < skipBelow) continue;
    s += Math.exp(y);
    if (s > refreshAbove) {
      skipBelow = Math.max(-746, Math.log(s) - 38);
      refreshAbove = 256 * s;
    }
  }
  return Math.log(s) + max;
}

let gridScratch = new Float64Array(0);
const NO_ROW = new Float64Array(0);

/**
 * logPdfRows for a one-dimensional grid estimator (univariate TPE's int and stepped parameters). Components
 * that share (μ, σ) give every cell the same mass, so the mixture is summed over the distinct pairs with
 * their weights added up (equal to the per-component sum up to rounding in the last bits). The cell mass of
 * a pair is at most Φ(−d) ≤ exp(−d²/2)/2 for a cell d standard deviations from its centre, which bounds
 * the pair's term from above: exact terms are computed first where the bound could beat the largest exact
 * term so far, which fixes the maximum; the sum then starts from the largest term (so it is at least 1)
 * and skips every term below e⁻³⁸, less than half an ulp of 1, deciding by the bound where that suffices.
 * So a cell far out in a component's tail needs no erfcx, exp or log at all.
 */
function logPdfGrid1D(dim: NumericKernels, weights: readonly number[], xs: readonly number[]): number[] {
  const { logMass, unique, uniqueMus, uniqueSigmas } = dim;
  const d = dim.distribution;
  const half = (d.step as number) / 2;
  const U = uniqueMus.length;
  // Work arrays: views into one module-level buffer (typed-array allocations cost more than the work on
  // them), six rows of U plus one per distinct cell edge, at most two per point.
  const rows = 6 + 2 * xs.length;
  if (gridScratch.length < rows * U) gridScratch = new Float64Array(Math.max(rows * U, 2 * gridScratch.length));
  let used = 0;
  const row = (): Float64Array => gridScratch.subarray(U * used, U * ++used);
  // Per distinct pair: the log of its summed weight and its normaliser.
  const pairLogWeight = row().fill(0);
  const pairLogMass = row();
  for (let k = 0; k < weights.length; k++) {
    pairLogWeight[unique[k]] += weights[k];
    pairLogMass[unique[k]] = logMass[k];
  }
  for (let u = 0; u < U; u++) pairLogWeight[u] = Math.log(pairLogWeight[u]);
  // Per cell edge: erfcx(|z|/√2) of each distinct component, computed when first needed (NaN until then).
  const edges = new Map<number, Float64Array>();
  const edgeRow = (e: number): Float64Array => {
    let r = edges.get(e);
    if (!r) edges.set(e, (r = row().fill(NaN)));
    return r;
  };
  const cell: GridCell = { zLo: row(), zHi: row(), lo: NO_ROW, hi: NO_ROW, mass: row() };
  const { zLo, zHi, mass } = cell;
  const bound = row();
  const result = new Array<number>(xs.length);
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    const eLo = d.log ? Math.log(x - half) : x - half;
    const eHi = d.log ? Math.log(x + half) : x + half;
    cell.lo = edgeRow(eLo);
    cell.hi = edgeRow(eHi);
    let top = 0;
    let topBound = -Infinity;
    for (let u = 0; u < U; u++) {
      const a = (eLo - uniqueMus[u]) / uniqueSigmas[u];
      const b = (eHi - uniqueMus[u]) / uniqueSigmas[u];
      zLo[u] = a;
      zHi[u] = b;
      const far = a > 0 ? a : b < 0 ? -b : 0;
      const bu = pairLogWeight[u] + (-0.5 * far * far - pairLogMass[u]);
      bound[u] = bu;
      if (bu > topBound) {
        topBound = bu;
        top = u;
      }
      mass[u] = NaN;
    }
    // The maximum term: exact terms of every pair whose bound exceeds the largest exact term so far,
    // starting from the pair with the largest bound.
    let max = -Infinity;
    let argmax = -1;
    for (let j = -1; j < U; j++) {
      const u = j < 0 ? top : j;
      if (!(bound[u] > max) || u === argmax) continue;
      const t = pairLogWeight[u] + (cellMass(cell, u) - pairLogMass[u]);
      if (t > max || (argmax < 0 && t === t)) {
        max = t;
        argmax = u;
      }
    }
    if (argmax < 0 || max === -Infinity) {
      result[i] = argmax < 0 ? NaN : -Infinity;
      continue;
    }
    // The largest term first: with s ≥ 1 a term below e⁻³⁸ (under half an ulp of 1) cannot change s.
    let s = 1;
    for (let u = 0; u < U; u++) {
      if (u === argmax || bound[u] - max < -38) continue;
      const y = pairLogWeight[u] + (cellMass(cell, u) - pairLogMass[u]) - max;
      if (!(y < -38)) s += Math.exp(y);
    }
    result[i] = Math.log(s) + max;
  }
  return result;
}

/** One grid cell of logPdfGrid1D: standardised edges per distinct component and what is computed so far. */
interface GridCell {
  zLo: Float64Array;
  zHi: Float64Array;
  /** erfcx(|z|/√2) at the lower and upper edge (shared with neighbouring cells), NaN until computed. */
  lo: Float64Array;
  hi: Float64Array;
  /** log mass of the cell per distinct component, NaN until computed. */
  mass: Float64Array;
}

/** The cell's log mass under distinct component u, its edges' erfcx computed once per edge (logCellMass). */
function cellMass(cell: GridCell, u: number): number {
  let m = cell.mass[u];
  if (m === m) return m;
  const a = cell.zLo[u];
  const b = cell.zHi[u];
  let ea = NaN;
  let eb = NaN;
  if (b <= 0 || a > 0) {
    ea = cell.lo[u];
    if (ea !== ea) cell.lo[u] = ea = erfcx(Math.abs(a) / Math.SQRT2);
    eb = cell.hi[u];
    if (eb !== eb) cell.hi[u] = eb = erfcx(Math.abs(b) / Math.SQRT2);
  }
  cell.mass[u] = m = logCellMass(a, b, ea, eb);
  return m;
}

/**
 * log of the standard normal mass of a grid cell with standardised edges a < b, given ea = erfcx(|a|/√2)
 * and eb = erfcx(|b|/√2) (unused when the cell straddles 0, which goes to logGaussMass). A cell on one side
 * of the centre is mirrored into the left tail (a′ < b′ ≤ 0), where Φ(z) = exp(−z²/2)·erfcx(−z/√2)/2, so
 *   log(Φ(b′) − Φ(a′)) = −b′²/2 − log 2 + log(erfcx(−b′/√2) − exp((b′ − a′)(b′ + a′)/2)·erfcx(−a′/√2)):
 * one exp and one log per cell and component, and the ratio of the two Φ values formed without
 * subtracting two large log Φ values (logDiffExp of log Φ at the edges loses up to ~1e-11 on narrow cells
 * far out; this form ~1e-12, from the rounding of the two erfcx values).
 */
function logCellMass(a: number, b: number, ea: number, eb: number): number {
  if (!(b <= 0 || a > 0)) return logGaussMass(a, b);
  // Left of the centre the near edge is b; right of it, mirrored, −a.
  const near = b <= 0 ? b : -a;
  const far = b <= 0 ? a : -b;
  const ratio = Math.exp(0.5 * (near - far) * (near + far));
  return -0.5 * near * near - Math.LN2 + Math.log(b <= 0 ? eb - ratio * ea : ea - ratio * eb);
}

// ---------------------------------------------------------------------------------------------------------
// The good/bad split

function lastIntermediate(t: TrialRecord): [number, number] | null {
  const iv = t.intermediateValues;
  if (!iv) return null;
  let best: [number, number] | null = null;
  for (const key of Object.keys(iv)) {
    const step = Number(key);
    const raw = iv[step];
    const v = raw === null || raw === undefined ? NaN : raw;
    if (best === null || step > best[0]) best = [step, v];
  }
  return best;
}

function prunedKey(t: TrialRecord, direction: StudyDirection): [number, number] {
  const last = lastIntermediate(t);
  if (last === null) return [1, 0];
  const [step, v] = last;
  if (Number.isNaN(v)) return [-step, Infinity];
  return [-step, direction === "minimize" ? v : -v];
}

function completeKey(t: TrialRecord, direction: StudyDirection): number {
  const v = t.value;
  if (v === null || v === undefined || Number.isNaN(v)) return Infinity;
  return direction === "minimize" ? v : -v;
}

/** Directions of the study: a single direction or the list. */
function directionList(direction: StudyDirection | readonly StudyDirection[]): readonly StudyDirection[] {
  return typeof direction === "string" ? [direction] : direction;
}

/** Loss vector of a COMPLETE trial (maximised objectives negated); NaN/missing values rank last (+∞). */
function lossesOf(t: TrialRecord, directions: readonly StudyDirection[]): number[] {
  const raw = t.values ?? (t.value === undefined || t.value === null ? null : [t.value]);
  if (!raw || raw.length !== directions.length) return directions.map(() => Infinity);
  return toLosses(raw, directions).map((v) => (Number.isNaN(v) ? Infinity : v));
}

/**
 * Optuna's infeasibility score: the total violation Σ max(c, 0), or +∞ for a trial without constraint
 * values (a running one, or one told without them) — such trials rank after every scored one.
 */
export function infeasibleScore(t: TrialRecord): number {
  if (!t.constraints) return Infinity;
  return violation(t.constraints);
}

/** Whether constraint handling is on: as soon as one finished trial carries constraint values. */
export function constraintsEnabled(trials: readonly TrialRecord[]): boolean {
  return trials.some((t) => (t.state === "COMPLETE" || t.state === "PRUNED") && t.constraints != null);
}

/** MOTPE's below set among COMPLETE trials: whole non-domination layers, the last one cut by HSSP. */
function splitCompleteMulti(
  complete: TrialRecord[],
  nBelow: number,
  directions: readonly StudyDirection[],
): { below: TrialRecord[]; above: TrialRecord[] } {
  if (nBelow <= 0) return { below: [], above: complete.slice() };
  if (nBelow >= complete.length) return { below: complete.slice(), above: [] };
  const losses = complete.map((t) => lossesOf(t, directions));
  const ranks = nonDominatedRanks(
    losses.map((values) => ({ values })),
    directions.map(() => "minimize" as const),
  );
  const chosen = new Set<number>();
  let rank = 0;
  for (;;) {
    const layer = ranks.flatMap((r, i) => (r === rank ? [i] : []));
    if (layer.length === 0) break;
    if (chosen.size + layer.length <= nBelow) {
      for (const i of layer) chosen.add(i);
      rank++;
      continue;
    }
    const need = nBelow - chosen.size;
    if (need > 0) {
      const pts = layer.map((i) => losses[i]);
      const picked = greedyHypervolumeSubset(pts, need, motpeReferencePoint(pts));
      for (const j of picked) chosen.add(layer[j]);
    }
    break;
  }
  return {
    below: complete.filter((_, i) => chosen.has(i)),
    above: complete.filter((_, i) => !chosen.has(i)),
  };
}

/**
 * Split the finished (and, under the constant liar, running) trials into "below" (the best γ) and "above",
 * as Optuna 4.x does: with constraints on, infeasible trials are set apart first; below is filled by the
 * best COMPLETE trials (by value; multi-objective: by non-domination rank, then hypervolume subset
 * selection), then PRUNED ones by (−last step, last value) (single objective only; multi-objective pruned
 * trials always go above), then infeasible ones by violation; RUNNING trials always go above.
 * Ties keep their input order; both halves come back in trial-number order.
 */
export function splitTrials(
  trials: readonly TrialRecord[],
  nBelow: number,
  direction: StudyDirection | readonly StudyDirection[],
  options: { constraints?: boolean } = {},
): { below: TrialRecord[]; above: TrialRecord[] } {
  const directions = directionList(direction);
  const multi = directions.length > 1;
  const infeasible: { t: TrialRecord; score: number; i: number }[] = [];
  const complete: TrialRecord[] = [];
  const pruned: TrialRecord[] = [];
  const running: TrialRecord[] = [];
  const placed = new Uint8Array(trials.length); // 1 for the trials that go below or above
  trials.forEach((t, i) => {
    const score = options.constraints ? infeasibleScore(t) : 0;
    placed[i] = 1;
    if (score > 0) infeasible.push({ t, score, i });
    else if (t.state === "COMPLETE") complete.push(t);
    else if (t.state === "RUNNING") running.push(t);
    else if (t.state === "PRUNED") pruned.push(t);
    else placed[i] = 0;
  });
  let rest = Math.max(0, nBelow);
  let belowComplete: TrialRecord[];
  let aboveComplete: TrialRecord[];
  if (multi) {
    ({ below: belowComplete, above: aboveComplete } = splitCompleteMulti(complete, rest, directions));
  } else {
    const sorted = sortBy(complete, (t) => completeKey(t, directions[0]));
    const k = Math.min(rest, sorted.length);
    belowComplete = sorted.slice(0, k);
    aboveComplete = sorted.slice(k);
  }
  rest -= belowComplete.length;
  let belowPruned: TrialRecord[] = [];
  let abovePruned: TrialRecord[] = pruned;
  if (!multi) {
    const sorted = pruned
      .map((t, i) => ({ t, i, key: prunedKey(t, directions[0]) }))
      .sort((a, b) => cmp(a.key[0], b.key[0]) || cmp(a.key[1], b.key[1]) || a.i - b.i)
      .map((e) => e.t);
    const k = Math.min(rest, sorted.length);
    belowPruned = sorted.slice(0, k);
    abovePruned = sorted.slice(k);
  }
  rest -= belowPruned.length;
  const sortedInfeasible = infeasible.sort((a, b) => cmp(a.score, b.score) || a.i - b.i).map((e) => e.t);
  const k = Math.min(rest, sortedInfeasible.length);
  const below = [...belowComplete, ...belowPruned, ...sortedInfeasible.slice(0, k)];
  // Both halves in trial-number order. Trials usually come in that order already: then the order is kept
  // (below is the placed trials of the few below, above the other placed ones) instead of sorting again.
  let increasing = true;
  for (let i = 1; i < trials.length && increasing; i++) increasing = trials[i - 1].number < trials[i].number;
  if (increasing) {
    const inBelow = new Set(below);
    return { below: trials.filter((t) => inBelow.has(t)), above: trials.filter((t, i) => placed[i] === 1 && !inBelow.has(t)) };
  }
  const above = [...aboveComplete, ...abovePruned, ...sortedInfeasible.slice(k), ...running];
  const byNumber = (t: TrialRecord) => t.number;
  return { below: sortBy(below, byNumber), above: sortBy(above, byNumber) };
}

/** The items ordered by a numeric key, equal keys in input order (a stable sort), through sortedOrder. */
function sortBy<T>(items: readonly T[], key: (item: T) => number): T[] {
  const keys = items.map(key);
  const order = sortedOrder(keys, keys.length);
  const out = new Array<T>(items.length);
  for (let j = 0; j < out.length; j++) out[j] = items[order[j]];
  return out;
}

const EPS = 1e-12;

/**
 * MOTPE's weights of the below observations (in the order given): each feasible trial's hypervolume
 * contribution among the feasible below trials, relative to the largest, floored at EPS; infeasible trials
 * get EPS; a single feasible trial gets 1.
 */
export function motpeBelowWeights(
  below: readonly TrialRecord[],
  directions: readonly StudyDirection[],
  constraints: boolean,
): number[] {
  const feasible = below.map((t) => !constraints || infeasibleScore(t) === 0);
  const idx = feasible.flatMap((f, i) => (f && below[i].state === "COMPLETE" ? [i] : []));
  const weights = new Array<number>(below.length).fill(EPS);
  if (idx.length === 1) weights[idx[0]] = 1;
  if (idx.length > 1) {
    const losses = idx.map((i) => lossesOf(below[i], directions));
    if (losses.some((p) => p.some((v) => !Number.isFinite(v)))) {
      for (const i of idx) weights[i] = 1;
      return weights;
    }
    const contributions = hypervolumeContributions(losses, motpeReferencePoint(losses));
    const max = Math.max(EPS, ...contributions);
    idx.forEach((i, j) => {
      weights[i] = Math.max(contributions[j] / max, EPS);
    });
  }
  return weights;
}

function cmp(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------------------
// Sampling

export interface TpeInput {
  /** All trials of the study (any state); the one being sampled may be among them. */
  trials: readonly TrialRecord[];
  /** The study direction, or one per objective (multi-objective TPE). */
  direction: StudyDirection | readonly StudyDirection[];
  options?: Partial<TpeOptions>;
  rng: Rng;
  /** Number of the trial being sampled; excluded from the constant liar's running trials. */
  trialNumber?: number;
  /**
   * Results that depend only on the trials, shared by the samples of one new trial (the good/bad split
   * and MOTPE's weights are the same for each of its parameters). Make one with `tpeMemo()` per call on
   * an unchanged trial list; never reuse it after the trials change.
   */
  memo?: TpeMemo;
}

interface TpeSplit {
  below: TrialRecord[];
  above: TrialRecord[];
  constraints: boolean;
  motpeWeights?: number[];
}

export interface TpeMemo {
  splits: Map<string, TpeSplit>;
  /** Mixture weights by number of observations (see ParzenParameters.weightCache). */
  weights: NonNullable<ParzenParameters["weightCache"]>;
}

export function tpeMemo(): TpeMemo {
  return { splits: new Map(), weights: new Map() };
}

/** The good/bad split of the considered trials (finished ones, plus running ones under the constant liar). */
function splitFor(input: TpeInput, o: TpeOptions, directions: readonly StudyDirection[]): TpeSplit {
  const key = `${o.constantLiar ? 1 : 0}:${input.trialNumber ?? ""}`;
  const cached = input.memo?.splits.get(key);
  if (cached) return cached;
  const states: TrialState[] = o.constantLiar ? ["COMPLETE", "PRUNED", "RUNNING"] : ["COMPLETE", "PRUNED"];
  const considered = input.trials.filter(
    (t) => states.includes(t.state) && !(t.state === "RUNNING" && t.number === input.trialNumber),
  );
  const n = considered.filter((t) => t.state !== "RUNNING").length;
  const constraints = constraintsEnabled(input.trials);
  const split: TpeSplit = { ...splitTrials(considered, o.gamma(n), directions, { constraints }), constraints };
  input.memo?.splits.set(key, split);
  return split;
}

function finishedCount(trials: readonly TrialRecord[]): number {
  let n = 0;
  for (const t of trials) if (t.state === "COMPLETE" || t.state === "PRUNED") n++;
  return n;
}

/** Observations of the trials that hold every parameter of the space, and which trials those were. */
function observationsOf(
  trials: readonly TrialRecord[],
  searchSpace: Readonly<Record<string, Distribution>>,
): { obs: Record<string, number[]>; kept: number[] } {
  const names = Object.keys(searchSpace);
  // toInternal per parameter; a categorical value is looked up in a map of its choices (=== and the map's
  // key equality agree on everything but NaN, which is left to toInternal), and toInternal reports
  // anything not found.
  const internal = names.map((n): ((v: ParamValue) => number) => {
    const d = searchSpace[n];
    if (d.type !== "categorical") return (v) => toInternal(d, v);
    const index = new Map<ParamValue, number>();
    d.choices.forEach((c, i) => {
      if (c === c && !index.has(c)) index.set(c, i);
    });
    return (v) => index.get(v) ?? toInternal(d, v);
  });
  const columns = names.map(() => [] as number[]);
  const kept: number[] = [];
  for (let i = 0; i < trials.length; i++) {
    const params = trials[i].params;
    let all = true;
    for (let j = 0; j < names.length && all; j++) all = Object.prototype.hasOwnProperty.call(params, names[j]);
    if (!all) continue;
    for (let j = 0; j < names.length; j++) columns[j].push(internal[j](params[names[j]]));
    kept.push(i);
  }
  return { obs: Object.fromEntries(names.map((n, j) => [n, columns[j]])), kept };
}

function tpeJoint(
  input: TpeInput,
  o: TpeOptions,
  searchSpace: Readonly<Record<string, Distribution>>,
): Record<string, ParamValue> {
  const directions = directionList(input.direction);
  const split = splitFor(input, o, directions);
  const { below, above, constraints } = split;
  const params: ParzenParameters = {
    priorWeight: o.priorWeight,
    considerMagicClip: o.considerMagicClip,
    considerEndpoints: o.considerEndpoints,
    weights: o.weights,
    multivariate: o.multivariate,
    weightCache: input.memo?.weights,
  };
  const belowObs = observationsOf(below, searchSpace);
  let belowWeights: number[] | undefined;
  if (directions.length > 1) {
    const all = (split.motpeWeights ??= motpeBelowWeights(below, directions, constraints));
    belowWeights = belowObs.kept.map((i) => all[i]);
  }
  const l = buildParzenEstimator(belowObs.obs, searchSpace, params, belowWeights);
  const g = buildParzenEstimator(observationsOf(above, searchSpace).obs, searchSpace, params);
  const candidates = sampleParzen(l, input.rng, o.nEiCandidates);
  const ll = logPdfParzen(l, candidates);
  const lg = logPdfParzen(g, candidates);
  let best = 0;
  let bestScore = -Infinity;
  for (let i = 0; i < ll.length; i++) {
    const score = ll[i] - lg[i];
    // NaN (both densities zero) never wins; the first of equal maxima does, like numpy's argmax.
    if (score > bestScore) {
      bestScore = score;
      best = i;
    }
  }
  const out: Record<string, ParamValue> = {};
  for (const [name, d] of Object.entries(searchSpace)) out[name] = toExternal(d, candidates[name][best]);
  return out;
}

/** Optuna's TPESampler.sample_independent: one parameter, its own l/g from trials that contain it. */
export function sampleTpe(input: TpeInput & { paramName: string; distribution: Distribution }): ParamValue {
  const o = resolveOptions(input.options);
  const d = input.distribution;
  if (isSingle(d)) return singleValue(d);
  if (finishedCount(input.trials) < o.nStartupTrials) return sampleRandom(d, input.rng);
  // With `multivariate` on, Optuna's fallback independent sampling keeps the multivariate (Scott-like)
  // bandwidth rule with d = 1; that is reproduced here rather than switched to the univariate rule.
  return tpeJoint(input, o, { [input.paramName]: d })[input.paramName];
}

/**
 * Optuna's intersection search space: the parameters present with identical distributions in every
 * COMPLETE or PRUNED trial, minus single-valued ones, sorted by name.
 */
export function inferRelativeSearchSpace(trials: readonly TrialRecord[]): Record<string, Distribution> {
  let space: Record<string, Distribution> | null = null;
  for (const t of trials) {
    if (t.state !== "COMPLETE" && t.state !== "PRUNED") continue;
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
  for (const name of Object.keys(space ?? {}).sort()) {
    const d = (space as Record<string, Distribution>)[name];
    if (!isSingle(d)) out[name] = d;
  }
  return out;
}

/**
 * Optuna's group-decomposed search space over the COMPLETE and PRUNED trials: the finest partition of the
 * parameter names in which every trial's parameter set is a union of parts, so each part is a set of
 * parameters that always occur together. A part keeps the distribution of the parameter's first
 * occurrence; parts are in order of appearance, each sorted by name, single-valued distributions dropped.
 */
export function groupDecomposedSearchSpace(trials: readonly TrialRecord[]): Record<string, Distribution>[] {
  let groups: Record<string, Distribution>[] = [];
  for (const t of trials) {
    if (t.state !== "COMPLETE" && t.state !== "PRUNED") continue;
    const remaining = new Set(Object.keys(t.distributions));
    const next: Record<string, Distribution>[] = [];
    for (const g of groups) {
      const inside: Record<string, Distribution> = {};
      const outside: Record<string, Distribution> = {};
      for (const [name, d] of Object.entries(g)) {
        if (remaining.has(name)) inside[name] = d;
        else outside[name] = d;
      }
      next.push(inside, outside);
      for (const name of Object.keys(g)) remaining.delete(name);
    }
    next.push(Object.fromEntries([...remaining].map((name) => [name, t.distributions[name]])));
    groups = next.filter((g) => Object.keys(g).length > 0);
  }
  return groups
    .map((g) => {
      const out: Record<string, Distribution> = {};
      for (const name of Object.keys(g).sort()) if (!isSingle(g[name])) out[name] = g[name];
      return out;
    })
    .filter((g) => Object.keys(g).length > 0);
}

/** Optuna's TPESampler.sample_relative: a joint sample of the relative search space ({} during startup). */
export function sampleTpeRelative(
  input: TpeInput & { searchSpace: Readonly<Record<string, Distribution>> },
): Record<string, ParamValue> {
  const o = resolveOptions(input.options);
  if (Object.keys(input.searchSpace).length === 0) return {};
  if (finishedCount(input.trials) < o.nStartupTrials) return {};
  return tpeJoint(input, o, input.searchSpace);
}

/** The relative sample of a new trial and the space it was drawn from (both empty unless multivariate). */
export interface RelativeSample {
  params: Record<string, ParamValue>;
  space: Record<string, Distribution>;
}

/**
 * What Optuna computes when a trial starts: with `multivariate`, one joint sample of the intersection
 * search space; with `group` too, one joint sample per group. Parameters outside it are sampled later,
 * independently, when they are asked for.
 */
export function sampleTpeRelativeAtStart(input: TpeInput): RelativeSample {
  const o = resolveOptions(input.options);
  if (!o.multivariate) return { params: {}, space: {} };
  const spaces = o.group ? groupDecomposedSearchSpace(input.trials) : [inferRelativeSearchSpace(input.trials)];
  const params: Record<string, ParamValue> = {};
  const space: Record<string, Distribution> = {};
  for (const s of spaces) {
    const p = sampleTpeRelative({ ...input, searchSpace: s });
    for (const name of Object.keys(p)) {
      params[name] = p[name];
      space[name] = s[name];
    }
  }
  return { params, space };
}

/**
 * A parameter's value for a trial that already has a relative sample: the relative value when the
 * requested distribution is compatible with the one it was drawn from and contains it (Optuna's rule),
 * otherwise an independent TPE sample.
 */
export function sampleTpeParam(
  input: TpeInput & { paramName: string; distribution: Distribution; relative: RelativeSample },
): ParamValue {
  const { paramName: name, distribution: d, relative } = input;
  if (isSingle(d)) return singleValue(d);
  if (name in relative.params && relative.space[name] && compatible(relative.space[name], d) && contains(d, relative.params[name])) {
    return relative.params[name];
  }
  return sampleTpe(input);
}

/**
 * Sample every parameter of `searchSpace` for a new trial, as an Optuna trial asking for these
 * distributions in this order would: single-valued distributions give their value; with `multivariate`,
 * parameters of the relative (intersection, or per-group) search space come from the joint TPE sample when
 * the requested distribution is compatible and contains the value; everything else is sampled independently.
 * Pass `relative` when it was already drawn at the trial's start.
 */
export function sampleSearchSpace(
  input: TpeInput & { searchSpace: Readonly<Record<string, Distribution>>; relative?: RelativeSample },
): Record<string, ParamValue> {
  const shared = input.memo ? input : { ...input, memo: tpeMemo() };
  const relative = shared.relative ?? sampleTpeRelativeAtStart(shared);
  const out: Record<string, ParamValue> = {};
  for (const [name, d] of Object.entries(shared.searchSpace)) {
    out[name] = sampleTpeParam({ ...shared, paramName: name, distribution: d, relative });
  }
  return out;
}
