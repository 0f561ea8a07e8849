/**
 * The CMA-ES sampler, as Optuna's CmaEsSampler drives the `cmaes` library's CMA class: Hansen's
 * (μ/μ_w, λ)-CMA-ES with active (negative) recombination weights, popsize 4 + ⌊3 ln n⌋, on the relative
 * search space (the float/int parameters every COMPLETE trial shares, at least two of them) mapped onto
 * [0, 1]^n (log params in log space, step/int params widened by half a step), starting from the centre
 * (or x0) with σ0 = 1/6 of the unit range; out-of-bounds candidates are resampled up to 100 times and then
 * clipped; ints and steps are rounded when mapped back. Categorical parameters, parameters outside the
 * relative space, 1-D spaces and the startup trials are sampled at random, as Optuna's default
 * independent sampler does.
 *
 * The optimizer state is never stored: each trial records the generation it was sampled for, and the state
 * is rebuilt by replaying the generations — a generation is told (in trial-number order, popsize of them)
 * once that many of its trials are COMPLETE, exactly when Optuna's sampler would tell it.
 * Registers "cmaes". Pure: no runtime imports.
 */
import {
  type Distribution,
  type NumericDistribution,
  type ParamValue,
  compatible,
  contains,
  distributionsEqual,
  fromTransformed,
  isSingle,
  singleValue,
  toExternal,
  toInternal,
  toTransformed,
  transformedBounds,
} from "./distributions";
import type { Rng } from "./random";
import { sampleRandom } from "./random";
import {
  type JsonValue,
  type SamplerContext,
  SamplerConfigError,
  type StudyTrial,
  currentTrial,
  registerSampler,
  relativeAttrs,
  storedRelative,
} from "./sampler";
import type { RelativeSample } from "./tpe";

export const CMA_GENERATION_ATTR = "cma:generation";
export const CMA_SPACE_ATTR = "cma:search_space";

const EPS = 1e-8;
const SIGMA_MAX = 1e32;

// ---------------------------------------------------------------------------------------------------------
// Linear algebra for small symmetric matrices

/** Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations: C = B·diag(values)·Bᵀ. */
export function symmetricEigen(matrix: readonly (readonly number[])[]): { values: number[]; vectors: number[][] } {
  const n = matrix.length;
  const a = matrix.map((row) => row.slice());
  const v: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (__, j) => (i === j ? 1 : 0)));
  let scale = 0;
  for (let p = 0; p < n; p++) for (let q = 0; q < n; q++) scale += a[p][q] * a[p][q];
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p][q] * a[p][q];
    // Converged once the off-diagonal mass is at rounding level relative to the matrix.
    if (off <= 1e-34 * scale || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(a[p][q]) < 1e-300) continue;
        const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k][p];
          const akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p][k];
          const aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k][p];
          const vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: a.map((row, i) => row[i]), vectors: v };
}

// ---------------------------------------------------------------------------------------------------------
// The optimizer

export interface CmaState {
  dim: number;
  popsize: number;
  mu: number;
  muEff: number;
  weights: number[];
  cc: number;
  c1: number;
  cmu: number;
  cSigma: number;
  dSigma: number;
  chiN: number;
  mean: number[];
  sigma: number;
  C: number[][];
  pSigma: number[];
  pc: number[];
  generation: number;
  /** Box bounds of every coordinate (here [0, 1]). */
  bounds: [number, number][];
}

/** Hansen's default strategy parameters (as in the `cmaes` library's CMA). */
export function initCma(mean: readonly number[], sigma: number, bounds: [number, number][], popsize?: number): CmaState {
  const n = mean.length;
  const lambda = popsize ?? 4 + Math.floor(3 * Math.log(n));
  const mu = Math.floor(lambda / 2);
  const wp = Array.from({ length: lambda }, (_, i) => Math.log((lambda + 1) / 2) - Math.log(i + 1));
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const pos = wp.slice(0, mu);
  const neg = wp.slice(mu);
  const muEff = sum(pos) ** 2 / sum(pos.map((w) => w * w));
  const muEffMinus = neg.length > 0 ? sum(neg) ** 2 / sum(neg.map((w) => w * w)) : 0;
  const alphaCov = 2;
  const c1 = alphaCov / ((n + 1.3) ** 2 + muEff);
  const cmu = Math.min(1 - c1 - 1e-8, (alphaCov * (muEff - 2 + 1 / muEff)) / ((n + 2) ** 2 + (alphaCov * muEff) / 2));
  const minAlpha = Math.min(1 + c1 / cmu, 1 + (2 * muEffMinus) / (muEff + 2), (1 - c1 - cmu) / (n * cmu));
  const positiveSum = sum(wp.filter((w) => w > 0));
  const negativeSum = sum(wp.filter((w) => w < 0).map(Math.abs));
  const weights = wp.map((w) => (w >= 0 ? w / positiveSum : (minAlpha * w) / negativeSum));
  const cSigma = (muEff + 2) / (n + muEff + 5);
  const dSigma = 1 + 2 * Math.max(0, Math.sqrt((muEff - 1) / (n + 1)) - 1) + cSigma;
  const cc = (4 + muEff / n) / (n + 4 + (2 * muEff) / n);
  const chiN = Math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n));
  return {
    dim: n,
    popsize: lambda,
    mu,
    muEff,
    weights,
    cc,
    c1,
    cmu,
    cSigma,
    dSigma,
    chiN,
    mean: mean.slice(),
    sigma,
    C: Array.from({ length: n }, (_, i) => Array.from({ length: n }, (__, j) => (i === j ? 1 : 0))),
    pSigma: new Array<number>(n).fill(0),
    pc: new Array<number>(n).fill(0),
    generation: 0,
    bounds,
  };
}

/** Symmetrise C, floor negative eigenvalues at ε, and return B and D (= √eigenvalues). */
function decompose(state: CmaState): { B: number[][]; D: number[] } {
  const n = state.dim;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const m = (state.C[i][j] + state.C[j][i]) / 2;
      state.C[i][j] = m;
      state.C[j][i] = m;
    }
  }
  const { values, vectors } = symmetricEigen(state.C);
  const D = values.map((v) => Math.sqrt(v < 0 ? EPS : v));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += vectors[i][k] * D[k] * D[k] * vectors[j][k];
      state.C[i][j] = s;
    }
  }
  return { B: vectors, D };
}

/** One candidate x ~ N(mean, σ²C), resampled until inside the bounds (100 tries), then clipped. */
export function askCma(state: CmaState, rng: Rng): number[] {
  const { B, D } = decompose(state);
  const n = state.dim;
  const draw = (): number[] => {
    const z = Array.from({ length: n }, () => rng.normal());
    return state.mean.map((m, i) => {
      let y = 0;
      for (let k = 0; k < n; k++) y += B[i][k] * D[k] * z[k];
      return m + state.sigma * y;
    });
  };
  const inside = (x: number[]) => x.every((v, i) => v >= state.bounds[i][0] && v <= state.bounds[i][1]);
  for (let i = 0; i < 100; i++) {
    const x = draw();
    if (inside(x)) return x;
  }
  return draw().map((v, i) => Math.min(state.bounds[i][1], Math.max(state.bounds[i][0], v)));
}

/** Update mean, step size, evolution paths and covariance from one generation (popsize solutions). */
export function tellCma(state: CmaState, solutions: readonly { x: readonly number[]; y: number }[]): void {
  if (solutions.length !== state.popsize) throw new RangeError(`Expected ${state.popsize} solutions, got ${solutions.length}`);
  const n = state.dim;
  state.generation += 1;
  const sorted = solutions
    .map((s, i) => ({ ...s, i }))
    .sort((a, b) => (a.y < b.y ? -1 : a.y > b.y ? 1 : a.i - b.i));
  const { B, D } = decompose(state);
  const yk = sorted.map((s) => s.x.map((v, i) => (v - state.mean[i]) / state.sigma));
  const yw = new Array<number>(n).fill(0);
  for (let k = 0; k < state.mu; k++) for (let i = 0; i < n; i++) yw[i] += state.weights[k] * yk[k][i];
  for (let i = 0; i < n; i++) state.mean[i] += state.sigma * yw[i];
  // C^(−1/2) = B·D⁻¹·Bᵀ
  const cInvSqrt = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (__, j) => {
      let s = 0;
      for (let k = 0; k < n; k++) s += (B[i][k] * B[j][k]) / D[k];
      return s;
    }),
  );
  const mul = (m: number[][], v: readonly number[]) => m.map((row) => row.reduce((a, r, j) => a + r * v[j], 0));
  const cyw = mul(cInvSqrt, yw);
  const ps = Math.sqrt(state.cSigma * (2 - state.cSigma) * state.muEff);
  state.pSigma = state.pSigma.map((p, i) => (1 - state.cSigma) * p + ps * cyw[i]);
  const normPs = Math.hypot(...state.pSigma);
  state.sigma *= Math.exp((state.cSigma / state.dSigma) * (normPs / state.chiN - 1));
  state.sigma = Math.min(state.sigma, SIGMA_MAX);
  const left = normPs / Math.sqrt(1 - (1 - state.cSigma) ** (2 * (state.generation + 1)));
  const right = (1.4 + 2 / (n + 1)) * state.chiN;
  const hSigma = left < right ? 1 : 0;
  const pcScale = hSigma * Math.sqrt(state.cc * (2 - state.cc) * state.muEff);
  state.pc = state.pc.map((p, i) => (1 - state.cc) * p + pcScale * yw[i]);
  const wio = state.weights.map((w, k) => {
    if (w >= 0) return w;
    const v = mul(cInvSqrt, yk[k]);
    return (w * n) / (v.reduce((a, b) => a + b * b, 0) + EPS);
  });
  const deltaH = (1 - hSigma) * state.cc * (2 - state.cc);
  const wSum = state.weights.reduce((a, b) => a + b, 0);
  const decay = 1 + state.c1 * deltaH - state.c1 - state.cmu * wSum;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let rankMu = 0;
      for (let k = 0; k < state.popsize; k++) rankMu += wio[k] * yk[k][i] * yk[k][j];
      state.C[i][j] = decay * state.C[i][j] + state.c1 * state.pc[i] * state.pc[j] + state.cmu * rankMu;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// The search-space transform onto [0, 1]^n

export interface UnitTransform {
  names: string[];
  dists: NumericDistribution[];
  lows: number[];
  highs: number[];
}

export function unitTransform(space: Readonly<Record<string, NumericDistribution>>): UnitTransform {
  const names = Object.keys(space).sort();
  const dists = names.map((n) => space[n]);
  const b = dists.map(transformedBounds);
  return { names, dists, lows: b.map((x) => x.low), highs: b.map((x) => x.high) };
}

export function toUnit(tr: UnitTransform, params: Readonly<Record<string, ParamValue>>): number[] {
  return tr.names.map((name, i) => {
    const t = toTransformed(tr.dists[i], toInternal(tr.dists[i], params[name]));
    return (t - tr.lows[i]) / (tr.highs[i] - tr.lows[i]);
  });
}

export function fromUnit(tr: UnitTransform, x: readonly number[]): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  tr.names.forEach((name, i) => {
    const d = tr.dists[i];
    const u = Math.min(1, Math.max(0, x[i]));
    out[name] = toExternal(d, fromTransformed(d, tr.lows[i] + u * (tr.highs[i] - tr.lows[i])));
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// The sampler

export interface CmaEsOptions {
  nStartupTrials: number;
  popsize?: number;
  sigma0?: number;
  x0?: Record<string, number>;
  considerPrunedTrials: boolean;
}

function parseCmaOptions(options: Readonly<Record<string, unknown>>): CmaEsOptions {
  const allowed = ["n_startup_trials", "popsize", "sigma0", "x0", "consider_pruned_trials"];
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw new SamplerConfigError(`Unknown option '${key}' for the cmaes sampler`);
  }
  const intOpt = (key: string, min: number): number | undefined => {
    const v = options[key];
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min) throw new SamplerConfigError(`sampler.${key} must be an integer ≥ ${min}`);
    return v;
  };
  const out: CmaEsOptions = { nStartupTrials: intOpt("n_startup_trials", 0) ?? 1, considerPrunedTrials: false };
  const popsize = intOpt("popsize", 2);
  if (popsize !== undefined) out.popsize = popsize;
  if (options.sigma0 !== undefined) {
    const s = options.sigma0;
    if (typeof s !== "number" || !(s > 0) || !Number.isFinite(s)) throw new SamplerConfigError("sampler.sigma0 must be a positive number");
    out.sigma0 = s;
  }
  if (options.x0 !== undefined) {
    const x0 = options.x0;
    if (typeof x0 !== "object" || x0 === null || Array.isArray(x0)) throw new SamplerConfigError("sampler.x0 must be an object {name: value}");
    for (const [k, v] of Object.entries(x0)) {
      if (typeof v !== "number" || !Number.isFinite(v)) throw new SamplerConfigError(`sampler.x0.${k} must be a finite number`);
    }
    out.x0 = { ...(x0 as Record<string, number>) };
  }
  if (options.consider_pruned_trials !== undefined) {
    if (typeof options.consider_pruned_trials !== "boolean") throw new SamplerConfigError("sampler.consider_pruned_trials must be a boolean");
    out.considerPrunedTrials = options.consider_pruned_trials;
  }
  return out;
}

/** Last reported intermediate value of a pruned trial (NaN/none → null). */
function lastIntermediate(t: StudyTrial): number | null {
  const iv = t.intermediateValues;
  if (!iv) return null;
  let step = -Infinity;
  let value: number | null = null;
  for (const key of Object.keys(iv)) {
    const s = Number(key);
    if (s > step) {
      step = s;
      const v = iv[s];
      value = v === null || v === undefined || Number.isNaN(v) ? null : v;
    }
  }
  return value;
}

/** The trials CMA-ES learns from, with the value it uses (pruned ones only with consider_pruned_trials). */
function usableTrials(trials: readonly StudyTrial[], o: CmaEsOptions): { t: StudyTrial; y: number }[] {
  const out: { t: StudyTrial; y: number }[] = [];
  for (const t of trials) {
    if (t.state === "COMPLETE") {
      const v = t.value ?? t.values?.[0];
      if (typeof v === "number") out.push({ t, y: v });
    } else if (t.state === "PRUNED" && o.considerPrunedTrials) {
      const v = lastIntermediate(t);
      if (v !== null) out.push({ t, y: v });
    }
  }
  return out;
}

/** Optuna's CMA-ES relative space: the intersection over COMPLETE trials, numeric, non-single, by name. */
export function cmaRelativeSearchSpace(trials: readonly StudyTrial[]): Record<string, NumericDistribution> {
  let space: Record<string, Distribution> | null = null;
  for (const t of trials) {
    if (t.state !== "COMPLETE") continue;
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
  const out: Record<string, NumericDistribution> = {};
  for (const name of Object.keys(space ?? {}).sort()) {
    const d = (space as Record<string, Distribution>)[name];
    if (d.type !== "categorical" && !isSingle(d)) out[name] = d;
  }
  return out;
}

function sameNames(stored: JsonValue | undefined, names: readonly string[]): boolean {
  return Array.isArray(stored) && stored.length === names.length && stored.every((v, i) => v === names[i]);
}

/**
 * Rebuild the optimizer from the trials: start from the initial state and tell every generation that has
 * popsize COMPLETE trials recorded for it (the first popsize of them by trial number).
 */
export function replayCma(
  trials: readonly StudyTrial[],
  tr: UnitTransform,
  o: CmaEsOptions,
  sign: number,
): CmaState {
  const n = tr.names.length;
  const mean = tr.names.map((name, i) => {
    const v = o.x0?.[name];
    const d = tr.dists[i];
    if (v === undefined || (d.log && v <= 0)) return 0.5;
    return Math.min(1, Math.max(0, (toTransformed(d, v) - tr.lows[i]) / (tr.highs[i] - tr.lows[i])));
  });
  const state = initCma(mean, Math.max(o.sigma0 ?? 1 / 6, EPS), Array.from({ length: n }, () => [0, 1] as [number, number]), o.popsize);
  const byGeneration = new Map<number, { t: StudyTrial; y: number }[]>();
  for (const u of usableTrials(trials, o)) {
    const g = u.t.systemAttrs?.[CMA_GENERATION_ATTR];
    if (typeof g !== "number" || !sameNames(u.t.systemAttrs?.[CMA_SPACE_ATTR], tr.names)) continue;
    const list = byGeneration.get(g) ?? [];
    list.push(u);
    byGeneration.set(g, list);
  }
  for (;;) {
    const gen = byGeneration.get(state.generation) ?? [];
    if (gen.length < state.popsize) break;
    tellCma(
      state,
      gen.slice(0, state.popsize).map(({ t, y }) => ({ x: toUnit(tr, t.params), y: sign * y })),
    );
  }
  return state;
}

/** The relative sample for a new trial: {} during startup, for spaces under two dimensions, or multi-objective. */
export function sampleCmaRelative(
  ctx: SamplerContext,
  o: CmaEsOptions,
): { relative: RelativeSample; systemAttrs: Record<string, JsonValue> } {
  const empty = { relative: { params: {}, space: {} }, systemAttrs: {} };
  const space = cmaRelativeSearchSpace(ctx.trials);
  if (Object.keys(space).length === 0) return empty;
  if (usableTrials(ctx.trials, o).length < o.nStartupTrials) return empty;
  if (Object.keys(space).length < 2) return empty;
  const tr = unitTransform(space);
  const sign = ctx.directions[0] === "maximize" ? -1 : 1;
  const state = replayCma(ctx.trials, tr, o, sign);
  const params = fromUnit(tr, askCma(state, ctx.rng));
  const relative: RelativeSample = { params, space };
  return {
    relative,
    systemAttrs: { ...relativeAttrs(relative), [CMA_GENERATION_ATTR]: state.generation, [CMA_SPACE_ATTR]: tr.names },
  };
}

function paramFor(ctx: SamplerContext, relative: RelativeSample, name: string, d: Distribution): ParamValue {
  if (isSingle(d)) return singleValue(d);
  const r = relative.space[name];
  if (name in relative.params && r && compatible(r, d) && contains(d, relative.params[name])) return relative.params[name];
  return sampleRandom(d, ctx.rng);
}

registerSampler("cmaes", (options, directions) => {
  const o = parseCmaOptions(options);
  if (directions.length !== 1) throw new SamplerConfigError("The cmaes sampler supports single-objective studies only");
  return {
    type: "cmaes",
    sampleSearchSpace(ctx, space) {
      const existing = storedRelative(ctx);
      const started = typeof currentTrial(ctx)?.systemAttrs?.[CMA_GENERATION_ATTR] === "number";
      const { relative, systemAttrs } = started ? { relative: existing, systemAttrs: {} } : sampleCmaRelative(ctx, o);
      const params: Record<string, ParamValue> = {};
      for (const [name, d] of Object.entries(space)) params[name] = paramFor(ctx, relative, name, d);
      return Object.keys(systemAttrs).length > 0 ? { params, systemAttrs } : { params };
    },
    sampleOne(ctx, name, distribution) {
      return { value: paramFor(ctx, storedRelative(ctx), name, distribution) };
    },
  };
});
