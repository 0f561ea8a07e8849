/**
 * Evidently's empirical_mmd: the unbiased squared maximum mean discrepancy with an RBF kernel
 * whose width comes from the median pairwise squared distance in the reference, and a
 * permutation p-value over 100 re-splits of the pooled sample.
 *
 * The statistic is a sum over all pairs, so it is quadratic in time and (as Evidently builds the
 * whole kernel matrix) in memory. Evidently has no sampling, which makes a million rows
 * impossible there (8 TB of kernel). Here each side above MMD_MAX_ROWS values is replaced by a
 * seeded sample of that many values drawn without replacement, and the kernel width, statistic
 * and permutations are computed on the samples: at most a 1000×1000 kernel (8 MB) and 5·10^7
 * additions for the permutations, whatever the input size.
 */
import type { Numbers } from "./numeric-tests";
import { createRng, type Rng } from "./special";
import { DriftTestError } from "./types";

export const MMD_PERMUTATIONS = 100;
export const MMD_MAX_ROWS = 500;

function sampleWithoutReplacement(values: Numbers, size: number, rng: Rng): Float64Array {
  const all = Float64Array.from(values as ArrayLike<number>);
  if (all.length <= size) return all;
  // Partial Fisher–Yates: the first `size` slots end up a uniform sample.
  for (let i = 0; i < size; i++) {
    const j = i + rng.int(all.length - i);
    const t = all[i];
    all[i] = all[j];
    all[j] = t;
  }
  return all.slice(0, size);
}

/** Round half to even, as numpy's around. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Evidently's kernel width: √(½·median) of all n² squared reference distances (diagonal zeros
 * included) with numpy's "nearest" percentile, or √½ when that median is 0.
 */
export function mmdSigma(reference: Numbers): number {
  const n = reference.length;
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) d[i * n + j] = (reference[i] - reference[j]) ** 2;
  d.sort();
  const index = roundHalfEven((d.length + 1) / 2) - 1;
  const sigma = Math.sqrt(0.5 * d[index]);
  return sigma === 0 ? Math.SQRT1_2 : sigma;
}

export interface MmdResult {
  statistic: number;
  pValue: number;
  sigma: number;
  /** Values per side actually used (after sampling). */
  referenceUsed: number;
  currentUsed: number;
}

export function empiricalMmd(reference: Numbers, current: Numbers, seed = 0): MmdResult {
  if (reference.length < 2 || current.length < 2) {
    throw new DriftTestError(
      "TOO_FEW_ROWS",
      `empirical_mmd needs at least 2 values on each side (reference has ${reference.length}, current has ${current.length}).`,
    );
  }
  const rng = createRng(seed);
  const x = sampleWithoutReplacement(reference, MMD_MAX_ROWS, rng);
  const y = sampleWithoutReplacement(current, MMD_MAX_ROWS, rng);
  const n = x.length;
  const m = y.length;
  const N = n + m;
  const sigma = mmdSigma(x);
  const gamma = 1 / (2 * sigma * sigma);
  const z = new Float64Array(N);
  z.set(x, 0);
  z.set(y, n);
  const K = new Float64Array(N * N);
  for (let i = 0; i < N; i++) {
    for (let j = i + 1; j < N; j++) {
      const v = Math.exp(-gamma * (z[i] - z[j]) ** 2);
      K[i * N + j] = v;
      K[j * N + i] = v;
    }
  }
  // Only the kernel mass from each row to the X side is summed per split; the Y side follows from
  // the row totals, halving the work of each permutation.
  const rowTotal = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    let t = 0;
    for (let j = 0; j < N; j++) t += K[i * N + j];
    rowTotal[i] = t;
  }
  const inX = new Uint8Array(N);
  const xIndex = new Int32Array(n);
  const mmdOf = (): number => {
    let sxx = 0;
    let syy = 0;
    let sxy = 0;
    for (let i = 0; i < N; i++) {
      const row = i * N;
      let toX = 0;
      for (let k = 0; k < n; k++) toX += K[row + xIndex[k]];
      if (inX[i]) {
        sxx += toX;
        sxy += rowTotal[i] - toX;
      } else syy += rowTotal[i] - toX;
    }
    return sxx / (n * (n - 1)) + syy / (m * (m - 1)) - (2 * sxy) / (n * m);
  };
  for (let i = 0; i < n; i++) xIndex[i] = i;
  inX.fill(1, 0, n);
  const observed = mmdOf();
  const order = Array.from({ length: N }, (_, i) => i);
  let atLeast = 0;
  for (let p = 0; p < MMD_PERMUTATIONS; p++) {
    for (let i = N - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    inX.fill(0);
    for (let i = 0; i < n; i++) {
      inX[order[i]] = 1;
      xIndex[i] = order[i];
    }
    if (observed <= mmdOf()) atLeast++;
  }
  return { statistic: observed, pValue: atLeast / MMD_PERMUTATIONS, sigma, referenceUsed: n, currentUsed: m };
}
