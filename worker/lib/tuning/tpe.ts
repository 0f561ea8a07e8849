/**
 * The Tree-structured Parzen Estimator sampler, faithful to Optuna 4.x's TPESampler (single objective):
 * random startup, the good/bad ("below"/"above") split with pruned trials ranked after complete ones,
 * Parzen mixtures of truncated normals in the transformed space (plus the prior component and the magic
 * clip), the categorical kernel, 24 candidates drawn from l(x) and scored by log l(x) − log g(x).
 * Univariate by default, with Optuna 4.x's multivariate option (one joint mixture over the intersection
 * search space, Scott-like bandwidths) and the constant-liar option for parallel workers.
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
import { logGaussMass, normLogPdf, truncNormPpf } from "./normal";
import { type Rng, sampleRandom } from "./random";

/** What the sampler needs to know about a trial. */
export interface TrialRecord {
  number: number;
  state: TrialState;
  /** Objective value of a COMPLETE trial. */
  value?: number | null;
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
});

function resolveOptions(options: Partial<TpeOptions> | undefined): TpeOptions {
  const o = { ...DEFAULT_TPE_OPTIONS, ...options };
  if (!(o.priorWeight >= 0)) throw new RangeError(`priorWeight must be non-negative, got ${o.priorWeight}`);
  if (!(o.nEiCandidates >= 1)) throw new RangeError(`nEiCandidates must be at least 1, got ${o.nEiCandidates}`);
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

function numericKernels(
  obs: number[],
  d: NumericDistribution,
  nDims: number,
  p: ParzenParameters,
): NumericKernels {
  const { low, high } = transformedBounds(d);
  const mus = d.log ? obs.map(Math.log) : obs.slice();
  const n = mus.length;
  const range = high - low;
  let sigmas: number[];
  if (p.multivariate) {
    const s = 0.2 * Math.max(n, 1) ** (-1 / (nDims + 4)) * range;
    sigmas = new Array<number>(n).fill(s);
  } else {
    // Bandwidth = the larger gap to a neighbour among the sorted centres, the prior centre included
    // (Optuna ≤ 4.8), with the bounds as outer neighbours; the outermost centres use only the inner gap.
    const centres = mus.concat([0.5 * (low + high)]);
    const order = centres.map((_, i) => i).sort((a, b) => centres[a] - centres[b]);
    const padded = [low, ...order.map((i) => centres[i]), high];
    const sorted = order.map((_, j) => Math.max(padded[j + 1] - padded[j], padded[j + 2] - padded[j + 1]));
    if (!p.considerEndpoints && padded.length >= 4) {
      sorted[0] = padded[2] - padded[1];
      sorted[sorted.length - 1] = padded[padded.length - 2] - padded[padded.length - 3];
    }
    sigmas = new Array<number>(n);
    order.forEach((orig, j) => {
      if (orig < n) sigmas[orig] = sorted[j];
    });
  }
  // Magic clip: no kernel narrower than range/(n + 2) (one for the prior, one more), none wider than range.
  const minSigma = p.considerMagicClip ? range / Math.min(100, n + 2) : 1e-12;
  sigmas = sigmas.map((s) => Math.min(range, Math.max(minSigma, s)));
  mus.push(0.5 * (low + high));
  sigmas.push(range);
  const logMass = mus.map((mu, k) => logGaussMass((low - mu) / sigmas[k], (high - mu) / sigmas[k]));
  return { kind: "numeric", distribution: d, mus, sigmas, low, high, logMass };
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
): ParzenEstimator {
  const names = Object.keys(searchSpace);
  const n = names.length > 0 ? (observations[names[0]]?.length ?? 0) : 0;
  let weights: number[];
  if (n === 0) {
    weights = [1];
  } else {
    weights = checkWeights(params.weights(n), n);
    weights.push(params.priorWeight);
  }
  const total = weights.reduce((a, b) => a + b, 0);
  weights = weights.map((w) => w / total);
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

function componentLogPdf(dim: NumericKernels, x: number, k: number): number {
  const mu = dim.mus[k];
  const sigma = dim.sigmas[k];
  const d = dim.distribution;
  if (d.step === null) {
    const t = d.log ? Math.log(x) : x;
    if (t < dim.low || t > dim.high) return -Infinity;
    return normLogPdf((t - mu) / sigma) - dim.logMass[k] - Math.log(sigma);
  }
  // A grid value's probability is the component's mass over its grid cell.
  const half = d.step / 2;
  const lo = d.log ? Math.log(x - half) : x - half;
  const hi = d.log ? Math.log(x + half) : x + half;
  return logGaussMass((lo - mu) / sigma, (hi - mu) / sigma) - dim.logMass[k];
}

/** log p(x) of the mixture for each joint sample (internal representation). */
export function logPdfParzen(pe: ParzenEstimator, samples: Readonly<Record<string, number[]>>): number[] {
  const names = Object.keys(pe.dims);
  const size = names.length > 0 ? samples[names[0]].length : 0;
  const K = pe.weights.length;
  const result: number[] = [];
  const terms = new Array<number>(K);
  for (let i = 0; i < size; i++) {
    for (let k = 0; k < K; k++) {
      let lp = Math.log(pe.weights[k]);
      for (const name of names) {
        const dim = pe.dims[name];
        const x = samples[name][i];
        lp += dim.kind === "categorical" ? Math.log(dim.probs[k][Math.trunc(x)]) : componentLogPdf(dim, x, k);
      }
      terms[k] = lp;
    }
    let max = -Infinity;
    for (const t of terms) if (t > max) max = t;
    if (max === -Infinity || Number.isNaN(max)) {
      result.push(max);
      continue;
    }
    let s = 0;
    for (const t of terms) s += Math.exp(t - max);
    result.push(Math.log(s) + max);
  }
  return result;
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

/**
 * Split the finished (and, under the constant liar, running) trials into "below" (the best γ) and "above":
 * COMPLETE trials by value, then PRUNED ones by (−last step, last value), then RUNNING ones always above.
 * Ties keep their input order; both halves come back in trial-number order.
 */
export function splitTrials(
  trials: readonly TrialRecord[],
  nBelow: number,
  direction: StudyDirection,
): { below: TrialRecord[]; above: TrialRecord[] } {
  const complete = trials.filter((t) => t.state === "COMPLETE");
  const pruned = trials.filter((t) => t.state === "PRUNED");
  const running = trials.filter((t) => t.state === "RUNNING");
  const sortedComplete = complete
    .map((t, i) => ({ t, i, key: completeKey(t, direction) }))
    .sort((a, b) => a.key - b.key || a.i - b.i)
    .map((e) => e.t);
  const sortedPruned = pruned
    .map((t, i) => ({ t, i, key: prunedKey(t, direction) }))
    .sort((a, b) => a.key[0] - b.key[0] || cmp(a.key[1], b.key[1]) || a.i - b.i)
    .map((e) => e.t);
  let rest = Math.max(0, nBelow);
  const nComplete = Math.min(rest, sortedComplete.length);
  rest -= nComplete;
  const nPruned = Math.min(rest, sortedPruned.length);
  const below = [...sortedComplete.slice(0, nComplete), ...sortedPruned.slice(0, nPruned)];
  const above = [...sortedComplete.slice(nComplete), ...sortedPruned.slice(nPruned), ...running];
  const byNumber = (a: TrialRecord, b: TrialRecord) => a.number - b.number;
  return { below: below.sort(byNumber), above: above.sort(byNumber) };
}

function cmp(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------------------
// Sampling

export interface TpeInput {
  /** All trials of the study (any state); the one being sampled may be among them. */
  trials: readonly TrialRecord[];
  direction: StudyDirection;
  options?: Partial<TpeOptions>;
  rng: Rng;
  /** Number of the trial being sampled; excluded from the constant liar's running trials. */
  trialNumber?: number;
}

function finishedCount(trials: readonly TrialRecord[]): number {
  return trials.filter((t) => t.state === "COMPLETE" || t.state === "PRUNED").length;
}

function observationsOf(
  trials: readonly TrialRecord[],
  searchSpace: Readonly<Record<string, Distribution>>,
): Record<string, number[]> {
  const names = Object.keys(searchSpace);
  const obs: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, [] as number[]]));
  for (const t of trials) {
    if (!names.every((n) => Object.prototype.hasOwnProperty.call(t.params, n))) continue;
    for (const n of names) obs[n].push(toInternal(searchSpace[n], t.params[n]));
  }
  return obs;
}

function tpeJoint(
  input: TpeInput,
  o: TpeOptions,
  searchSpace: Readonly<Record<string, Distribution>>,
): Record<string, ParamValue> {
  const states: TrialState[] = o.constantLiar ? ["COMPLETE", "PRUNED", "RUNNING"] : ["COMPLETE", "PRUNED"];
  const considered = input.trials.filter(
    (t) => states.includes(t.state) && !(t.state === "RUNNING" && t.number === input.trialNumber),
  );
  const n = considered.filter((t) => t.state !== "RUNNING").length;
  const { below, above } = splitTrials(considered, o.gamma(n), input.direction);
  const params: ParzenParameters = {
    priorWeight: o.priorWeight,
    considerMagicClip: o.considerMagicClip,
    considerEndpoints: o.considerEndpoints,
    weights: o.weights,
    multivariate: o.multivariate,
  };
  const l = buildParzenEstimator(observationsOf(below, searchSpace), searchSpace, params);
  const g = buildParzenEstimator(observationsOf(above, searchSpace), searchSpace, params);
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

/** Optuna's TPESampler.sample_relative: a joint sample of the relative search space ({} during startup). */
export function sampleTpeRelative(
  input: TpeInput & { searchSpace: Readonly<Record<string, Distribution>> },
): Record<string, ParamValue> {
  const o = resolveOptions(input.options);
  if (Object.keys(input.searchSpace).length === 0) return {};
  if (finishedCount(input.trials) < o.nStartupTrials) return {};
  return tpeJoint(input, o, input.searchSpace);
}

/**
 * Sample every parameter of `searchSpace` for a new trial, as an Optuna trial asking for these
 * distributions in this order would: single-valued distributions give their value; with `multivariate`,
 * parameters of the relative (intersection) search space come from one joint TPE sample when the requested
 * distribution is compatible and contains the value; everything else is sampled independently.
 */
export function sampleSearchSpace(
  input: TpeInput & { searchSpace: Readonly<Record<string, Distribution>> },
): Record<string, ParamValue> {
  const o = resolveOptions(input.options);
  let relative: Record<string, ParamValue> = {};
  let relativeSpace: Record<string, Distribution> = {};
  if (o.multivariate) {
    relativeSpace = inferRelativeSearchSpace(input.trials);
    relative = sampleTpeRelative({ ...input, searchSpace: relativeSpace });
  }
  const out: Record<string, ParamValue> = {};
  for (const [name, d] of Object.entries(input.searchSpace)) {
    if (isSingle(d)) {
      out[name] = singleValue(d);
    } else if (name in relative && compatible(relativeSpace[name], d) && contains(d, relative[name])) {
      out[name] = relative[name];
    } else {
      out[name] = sampleTpe({ ...input, paramName: name, distribution: d });
    }
  }
  return out;
}
