/**
 * Evidently's numeric-only drift tests beyond ks and wasserstein: anderson (k-sample
 * Anderson–Darling with scipy's capped p-value), cramer_von_mises, mannw (one-sided Mann–Whitney U),
 * ed (energy distance), es (Epps–Singleton) and t_test (pooled-variance Student t). Inputs are
 * cleaned finite numbers (arrays or Float64Arrays); every statistic is computed from one sort of
 * each side, so a million rows cost O(n log n). Undefined cases throw DriftTestError.
 */
import { chiSquareSf, besselK14Scaled, gammaln, normalSf, studentTTwoSidedP } from "./special";
import { DriftTestError } from "./types";

export type Numbers = ArrayLike<number>;

export function sortedCopy(values: Numbers): Float64Array {
  return (values instanceof Float64Array ? values.slice() : Float64Array.from(values)).sort();
}

function requireRows(method: string, reference: Numbers, current: Numbers, min: number): void {
  if (reference.length < min || current.length < min) {
    throw new DriftTestError(
      "TOO_FEW_ROWS",
      `${method} needs at least ${min} values on each side (reference has ${reference.length}, current has ${current.length}).`,
    );
  }
}

function requireVariation(method: string, a: Float64Array, b: Float64Array): void {
  const v = a[0];
  if (a[a.length - 1] === v && b[0] === v && b[b.length - 1] === v) {
    throw new DriftTestError("CONSTANT_COLUMN", `${method} is undefined when every reference and current value is the same (${v}).`);
  }
}

/**
 * Walk the pooled sorted sample one distinct value at a time, reporting how many of the value
 * each side holds and how many pooled values lie strictly below it.
 */
function forEachDistinct(a: Float64Array, b: Float64Array, visit: (below: number, inA: number, inB: number, value: number) => void): void {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const v = j >= b.length || (i < a.length && a[i] <= b[j]) ? a[i] : b[j];
    const below = i + j;
    let ia = i;
    while (ia < a.length && a[ia] === v) ia++;
    let jb = j;
    while (jb < b.length && b[jb] === v) jb++;
    visit(below, ia - i, jb - j, v);
    i = ia;
    j = jb;
  }
}

// ---------------------------------------------------------------- anderson

/** Scholz & Stephens (1987) Table 2 interpolation coefficients and their significance levels. */
const AD_B0 = [0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085];
const AD_B1 = [-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615];
const AD_B2 = [-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154];
const AD_SIG = [0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001];

/** Least-squares quadratic through (x_i, y_i), as np.polyfit(x, y, 2); returns [c2, c1, c0]. */
function quadraticFit(x: readonly number[], y: readonly number[]): [number, number, number] {
  // Normal equations on centred x keep the 3×3 system well conditioned.
  const n = x.length;
  const mx = x.reduce((s, v) => s + v, 0) / n;
  const s = [0, 0, 0, 0, 0];
  const t = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    const d = x[i] - mx;
    let p = 1;
    for (let k = 0; k < 5; k++) {
      s[k] += p;
      if (k < 3) t[k] += p * y[i];
      p *= d;
    }
  }
  const m = [
    [s[0], s[1], s[2], t[0]],
    [s[1], s[2], s[3], t[1]],
    [s[2], s[3], s[4], t[2]],
  ];
  for (let c = 0; c < 3; c++) {
    let piv = c;
    for (let r = c + 1; r < 3; r++) if (Math.abs(m[r][c]) > Math.abs(m[piv][c])) piv = r;
    [m[c], m[piv]] = [m[piv], m[c]];
    for (let r = 0; r < 3; r++) {
      if (r === c) continue;
      const f = m[r][c] / m[c][c];
      for (let k = c; k < 4; k++) m[r][k] -= f * m[c][k];
    }
  }
  const a0 = m[0][3] / m[0][0];
  const a1 = m[1][3] / m[1][1];
  const a2 = m[2][3] / m[2][2];
  // a0 + a1 (x - mx) + a2 (x - mx)² expanded in powers of x.
  return [a2, a1 - 2 * a2 * mx, a0 - a1 * mx + a2 * mx * mx];
}

/** Critical values for k = 2 samples (m = k - 1 = 1) and the fitted log-significance curve. */
export const ANDERSON_CRITICAL: readonly number[] = AD_B0.map((b0, i) => b0 + AD_B1[i] + AD_B2[i]);
const AD_FIT = quadraticFit(ANDERSON_CRITICAL, AD_SIG.map(Math.log));

export interface TestStatistic {
  statistic: number;
  pValue: number;
}

/**
 * scipy.stats.anderson_ksamp([reference, current]) with midranks: the normalised statistic and
 * the p-value interpolated from Scholz & Stephens' table, capped at 0.25 and floored at 0.001
 * outside the tabulated range, exactly as scipy (and so Evidently) reports it.
 */
export function andersonDarling(reference: Numbers, current: Numbers): TestStatistic & { capped: "cap" | "floor" | null } {
  const a = sortedCopy(reference);
  const b = sortedCopy(current);
  requireRows("anderson", a, b, 1);
  requireVariation("anderson", a, b);
  const n1 = a.length;
  const n2 = b.length;
  const N = n1 + n2;
  if (N < 4) throw new DriftTestError("TOO_FEW_ROWS", `anderson needs at least 4 values in total (got ${N}).`);
  let sum1 = 0;
  let sum2 = 0;
  let cum1 = 0;
  let cum2 = 0;
  forEachDistinct(a, b, (below, f1, f2) => {
    const l = f1 + f2;
    const B = below + l / 2;
    cum1 += f1;
    cum2 += f2;
    const M1 = cum1 - f1 / 2;
    const M2 = cum2 - f2 / 2;
    const denom = B * (N - B) - (N * l) / 4;
    const w = l / N / denom;
    sum1 += w * (N * M1 - B * n1) ** 2;
    sum2 += w * (N * M2 - B * n2) ** 2;
  });
  const A2kN = ((N - 1) / N) * (sum1 / n1 + sum2 / n2);
  const k = 2;
  const H = 1 / n1 + 1 / n2;
  // hs_cs[j] = Σ_{i<=j} 1/(N-1-i) for j = 0..N-3; h = Σ_{i=1}^{N-1} 1/i; g = Σ_j hs_cs[j]/(j+2)
  let hs = 0;
  let g = 0;
  for (let j = 0; j <= N - 3; j++) {
    hs += 1 / (N - 1 - j);
    g += hs / (j + 2);
  }
  const h = hs + 1;
  const ca = (4 * g - 6) * (k - 1) + (10 - 6 * g) * H;
  const cb = (2 * g - 4) * k * k + 8 * h * k + (2 * g - 14 * h - 4) * H - 8 * h + 4 * g - 6;
  const cc = (6 * h + 2 * g - 2) * k * k + (4 * h - 4 * g + 6) * k + (2 * h - 6) * H + 4 * h;
  const cd = (2 * h + 6) * k * k - 4 * h * k;
  const sigmasq = (ca * N ** 3 + cb * N ** 2 + cc * N + cd) / ((N - 1) * (N - 2) * (N - 3));
  const A2 = (A2kN - (k - 1)) / Math.sqrt(sigmasq);
  const lo = Math.min(...ANDERSON_CRITICAL);
  const hi = Math.max(...ANDERSON_CRITICAL);
  if (A2 < lo) return { statistic: A2, pValue: 0.25, capped: "cap" };
  if (A2 > hi) return { statistic: A2, pValue: 0.001, capped: "floor" };
  const [c2, c1, c0] = AD_FIT;
  return { statistic: A2, pValue: Math.exp((c2 * A2 + c1) * A2 + c0), capped: null };
}

// ---------------------------------------------------------------- cramer_von_mises

/** Above this sample size (either side) the asymptotic distribution is used, as scipy's "auto". */
export const CVM_MAX_EXACT_N = 20;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return Math.round(r);
}

/**
 * Exact Pr(U >= u) for the two-sample Cramér–von Mises U over all C(m+n, m) orderings, by the
 * lattice-path frequency tables of Xiao, Gordon & Yakovlev (2006), with the threshold on the
 * path sum derived from U the way scipy does (floor division, so midrank U values round the
 * same way).
 */
function cvmExactPValue(u: number, m: number, n: number): number {
  const lcm = (m / gcd(m, n)) * n;
  const a = lcm / m;
  const b = lcm / n;
  const mn = m * n;
  const zeta = Math.floor((lcm * lcm * (m + n) * (6 * u - mn * (4 * mn - 1))) / (6 * mn * mn));
  // gs[v] holds the frequency table of path sums reaching (current u-row, v).
  let gs: Map<number, number>[] = [new Map([[0, 1]])];
  for (let v = 1; v <= m; v++) gs.push(new Map());
  for (let row = 0; row <= n; row++) {
    const next: Map<number, number>[] = [];
    let tmp = new Map<number, number>();
    for (let v = 0; v <= m; v++) {
      const merged = new Map<number, number>();
      const add = (key: number, f: number): void => {
        merged.set(key, (merged.get(key) ?? 0) + f);
      };
      const step = (a * v - b * row) ** 2;
      for (const [key, f] of tmp) add(key + step, f);
      for (const [key, f] of gs[v]) add(key + step, f);
      tmp = merged;
      next.push(merged);
    }
    gs = next;
  }
  let count = 0;
  for (const [value, f] of gs[m]) if (value >= zeta) count += f;
  return count / binomial(m + n, m);
}

/**
 * CDF of the limiting Cramér–von Mises distribution (Csörgő & Faraway 1996, eq. 1.2), the series
 * scipy sums until a term drops below 1e-7.
 */
export function cvmLimitCdf(x: number): number {
  if (!(x > 0)) return 0;
  let total = 0;
  for (let k = 0; k < 1000; k++) {
    const y = 4 * k + 1;
    const q = (y * y) / (16 * x);
    const u = Math.exp(gammaln(k + 0.5) - gammaln(k + 1)) / (Math.PI ** 1.5 * Math.sqrt(x));
    // e^{-q}·K_{1/4}(q) = e^{-2q}·(e^{q} K_{1/4}(q))
    const term = u * Math.sqrt(y) * Math.exp(-2 * q) * besselK14Scaled(q);
    total += term;
    if (Math.abs(term) < 1e-7) break;
  }
  return total;
}

/**
 * Pr(W² > x) for the limiting Cramér–von Mises distribution by Smirnov's alternating integral
 * representation, (1/π) Σ_k (-1)^{k+1} ∫_{((2k-1)π)²}^{(2kπ)²} √(-√y / sin √y) e^{-xy/2} / y dy, with
 * y = s² and tanh-sinh quadrature (it absorbs the inverse-square-root endpoint singularities), each
 * term carried in log space. Accurate where 1 - cdf has cancelled, far beyond 1e-300.
 */
export function cvmLimitSf(x: number): number {
  if (!(x > 0)) return 1;
  let logFirst = NaN;
  let total = 0;
  for (let k = 1; k <= 200; k++) {
    const a = (2 * k - 1) * Math.PI;
    const half = Math.PI / 2;
    const mid = a + half;
    // ∫_a^{a+π} 2 √(s / |sin s|) e^{-x (s² - a²)/2} / s ds
    let sum = 0;
    const step = 1 / 64;
    for (let t = -4.5; t <= 4.5 + 1e-12; t += step) {
      const u = half * Math.sinh(t);
      const dLeft = (2 * half) / (1 + Math.exp(-2 * u));
      const dRight = (2 * half) / (1 + Math.exp(2 * u));
      if (dLeft === 0 || dRight === 0) continue;
      const s = dLeft <= dRight ? a + dLeft : a + 2 * half - dRight;
      const sinAbs = Math.sin(Math.min(dLeft, dRight));
      const weight = (half * half * Math.cosh(t)) / Math.cosh(u) ** 2;
      const f = (2 * Math.sqrt(s / sinAbs) * Math.exp((-x * dLeft * (2 * a + dLeft)) / 2)) / s;
      sum += weight * f;
    }
    const logTerm = (-x * a * a) / 2 + Math.log(sum * step) - Math.log(Math.PI);
    if (k === 1) logFirst = logTerm;
    const rel = Math.exp(logTerm - logFirst);
    total += (k % 2 === 1 ? 1 : -1) * rel;
    if (rel < 1e-17) break;
  }
  return Math.min(1, Math.exp(logFirst + Math.log(total)));
}

/** Below this, 1 - cdf has lost its digits to cancellation and the integral form takes over. */
const CVM_SERIES_MIN_P = 1e-6;

/**
 * Two-sample Cramér–von Mises (scipy.stats.cramervonmises_2samp, which Evidently copies): the
 * statistic T from midranks, the exact p-value when both sides have at most 20 values, else the
 * normalised statistic against the limiting distribution (p = 1 below 0.003, else 1 - cdf,
 * and the accurate tail integral once that falls below 1e-6).
 */
export function cramerVonMises(reference: Numbers, current: Numbers): TestStatistic & { mode: "exact" | "asymp" } {
  const x = sortedCopy(reference);
  const y = sortedCopy(current);
  requireRows("cramer_von_mises", x, y, 2);
  requireVariation("cramer_von_mises", x, y);
  const nx = x.length;
  const ny = y.length;
  // Σ over each side of (midrank - position)², positions counted within the side.
  let sx = 0;
  let sy = 0;
  let px = 0;
  let py = 0;
  forEachDistinct(x, y, (below, fx, fy) => {
    const rank = below + (fx + fy + 1) / 2;
    for (let i = 0; i < fx; i++) sx += (rank - ++px) ** 2;
    for (let j = 0; j < fy; j++) sy += (rank - ++py) ** 2;
  });
  const u = nx * sx + ny * sy;
  const k = nx * ny;
  const N = nx + ny;
  const t = u / (k * N) - (4 * k - 1) / (6 * N);
  if (Math.max(nx, ny) <= CVM_MAX_EXACT_N) return { statistic: t, pValue: cvmExactPValue(u, nx, ny), mode: "exact" };
  const et = (1 + 1 / N) / 6;
  const vt = ((N + 1) * (4 * k * N - 3 * (nx * nx + ny * ny) - 2 * k)) / (45 * N * N * 4 * k);
  const tn = 1 / 6 + (t - et) / Math.sqrt(45 * vt);
  // scipy: p = 1 below 0.003, else max(0, 1 - cdf); its digits are kept down to 1e-6 and the
  // accurate tail is used below, where scipy's value is rounding noise or 0.
  let p = tn < 0.003 ? 1 : Math.max(0, 1 - cvmLimitCdf(tn));
  if (p < CVM_SERIES_MIN_P) p = cvmLimitSf(tn);
  return { statistic: t, pValue: p, mode: "asymp" };
}

// ---------------------------------------------------------------- mannw

/** Below or at this size on one side, with no ties, scipy uses the exact U distribution. */
export const MANNW_MAX_EXACT_SMALL_N = 8;

/**
 * Pr(U <= k) for the Mann–Whitney U under the null with sizes m <= n and no ties: the first k + 1
 * coefficients of the Gaussian binomial [m+n choose m]_q, built as Π (1 - q^{n+i}) / (1 - q^i),
 * over C(m+n, m). O(m·k) with k <= m·n/2.
 */
function mannWhitneyExactCdf(k: number, m: number, n: number): number {
  const c = new Float64Array(k + 1);
  c[0] = 1;
  for (let i = 1; i <= m; i++) {
    const up = n + i;
    for (let j = k; j >= up; j--) c[j] -= c[j - up];
    for (let j = i; j <= k; j++) c[j] += c[j - i];
  }
  let s = 0;
  for (let j = 0; j <= k; j++) s += c[j];
  let total = 1;
  for (let i = 1; i <= m; i++) total = (total * (n + i)) / i;
  return s / total;
}

/**
 * scipy.stats.mannwhitneyu(x=reference, y=current, alternative="less"): one-sided, so it only
 * detects a current distribution shifted upward. The statistic is U of the reference; the
 * p-value is exact when one side has at most 8 values and there are no ties, otherwise the
 * tie-corrected normal approximation with continuity correction.
 */
export function mannWhitney(reference: Numbers, current: Numbers): TestStatistic & { mode: "exact" | "asymp" } {
  const x = sortedCopy(reference);
  const y = sortedCopy(current);
  requireRows("mannw", x, y, 1);
  requireVariation("mannw", x, y);
  const n1 = x.length;
  const n2 = y.length;
  const n = n1 + n2;
  let r1 = 0;
  let tieTerm = 0;
  forEachDistinct(x, y, (below, fx, fy) => {
    const t = fx + fy;
    r1 += fx * (below + (t + 1) / 2);
    if (t > 1) tieTerm += t * t * t - t;
  });
  const u1 = r1 - (n1 * (n1 + 1)) / 2;
  const u2 = n1 * n2 - u1;
  if ((n1 <= MANNW_MAX_EXACT_SMALL_N || n2 <= MANNW_MAX_EXACT_SMALL_N) && tieTerm === 0) {
    const small = Math.min(n1, n2);
    const big = Math.max(n1, n2);
    // Pr(U >= u2) = Pr(U <= u1) by symmetry; sum whichever side is the shorter tail.
    const p = u1 <= (n1 * n2) / 2 ? mannWhitneyExactCdf(u1, small, big) : 1 - mannWhitneyExactCdf(u2 - 1, small, big);
    return { statistic: u1, pValue: Math.min(1, Math.max(0, p)), mode: "exact" };
  }
  const s = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  const z = (u2 - (n1 * n2) / 2 - 0.5) / s;
  return { statistic: u1, pValue: Math.min(1, Math.max(0, normalSf(z))), mode: "asymp" };
}

// ---------------------------------------------------------------- ed

/** scipy.stats.energy_distance: √2 times the L2 distance between the two empirical CDFs. */
export function energyDistance(reference: Numbers, current: Numbers): number {
  const u = sortedCopy(reference);
  const v = sortedCopy(current);
  requireRows("ed", u, v, 1);
  let i = 0;
  let j = 0;
  let sum = 0;
  let prev = NaN;
  let fu = 0;
  let fv = 0;
  while (i < u.length || j < v.length) {
    const x = j >= v.length || (i < u.length && u[i] <= v[j]) ? u[i] : v[j];
    if (!Number.isNaN(prev)) sum += (fu - fv) * (fu - fv) * (x - prev);
    while (i < u.length && u[i] === x) i++;
    while (j < v.length && v[j] === x) j++;
    fu = i / u.length;
    fv = j / v.length;
    prev = x;
  }
  return Math.SQRT2 * Math.sqrt(sum);
}

// ---------------------------------------------------------------- t_test

function meanAndSs(values: Numbers): [number, number] {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  const mean = s / values.length;
  let ss = 0;
  let corr = 0;
  for (let i = 0; i < values.length; i++) {
    const d = values[i] - mean;
    ss += d * d;
    corr += d;
  }
  // Second-order correction for the rounding of the mean (two-pass compensated variance).
  return [mean, ss - (corr * corr) / values.length];
}

/**
 * scipy.stats.ttest_ind(reference, current): Student's t with pooled variance (equal_var=True),
 * two-sided, df = n_r + n_c - 2. Needs two values on each side; identical constants are undefined.
 */
export function tTest(reference: Numbers, current: Numbers): TestStatistic & { df: number } {
  requireRows("t_test", reference, current, 2);
  const n1 = reference.length;
  const n2 = current.length;
  const [m1, ss1] = meanAndSs(reference);
  const [m2, ss2] = meanAndSs(current);
  const df = n1 + n2 - 2;
  const pooled = (ss1 + ss2) / df;
  if (pooled === 0 && m1 === m2) {
    throw new DriftTestError("CONSTANT_COLUMN", `t_test is undefined when both sides are the same constant (${m1}).`);
  }
  const t = (m1 - m2) / Math.sqrt(pooled * (1 / n1 + 1 / n2));
  return { statistic: t, pValue: studentTTwoSidedP(t, df), df };
}

// ---------------------------------------------------------------- es

/** np.percentile(sorted, q) with linear interpolation. */
export function percentileSorted(sorted: Float64Array | readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  const frac = pos - lo;
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

/** Eigen-decomposition of a small symmetric matrix by cyclic Jacobi rotations. */
function symmetricEigen(a: number[][]): { values: number[]; vectors: number[][] } {
  const n = a.length;
  const m = a.map((row) => [...row]);
  const v = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j): number => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += m[p][q] * m[p][q];
    if (off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (m[p][q] === 0) continue;
        const theta = (m[q][q] - m[p][p]) / (2 * m[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k][p];
          const mkq = m[k][q];
          m[k][p] = c * mkp - s * mkq;
          m[k][q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p][k];
          const mqk = m[q][k];
          m[p][k] = c * mpk - s * mqk;
          m[q][k] = s * mpk + c * mqk;
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
  return { values: m.map((row, i) => row[i]), vectors: v };
}

const ES_T = [0.4, 0.8];

/**
 * scipy.stats.epps_singleton_2samp(reference, current) with t = (0.4, 0.8) scaled by half the
 * pooled IQR: the quadratic form of the difference in empirical characteristic functions with
 * the pseudo-inverse of the pooled covariance, its small-sample correction when both sides have
 * fewer than 25 values, and the chi-square tail with the covariance rank as degrees of freedom.
 * Evidently refuses a pooled IQR of 0; scipy refuses fewer than 5 values on a side.
 */
export function eppsSingleton(reference: Numbers, current: Numbers): TestStatistic & { df: number } {
  requireRows("es", reference, current, 5);
  const nx = reference.length;
  const ny = current.length;
  const n = nx + ny;
  const pooled = new Float64Array(n);
  pooled.set(reference as ArrayLike<number>, 0);
  pooled.set(current as ArrayLike<number>, nx);
  pooled.sort();
  const iqr = percentileSorted(pooled, 0.75) - percentileSorted(pooled, 0.25);
  if (iqr === 0) {
    throw new DriftTestError("CONSTANT_COLUMN", "es is undefined when the interquartile range of reference and current together is 0.");
  }
  const ts = ES_T.map((t) => t / (iqr / 2));
  const dim = 2 * ts.length;
  const gi = new Float64Array(dim);
  const g = (x: number): void => {
    for (let k = 0; k < ts.length; k++) {
      gi[k] = Math.cos(ts[k] * x);
      gi[k + ts.length] = Math.sin(ts[k] * x);
    }
  };
  const features = (values: Numbers): { mean: number[]; cov: number[][] } => {
    const len = values.length;
    const mean = new Array<number>(dim).fill(0);
    for (let i = 0; i < len; i++) {
      g(values[i]);
      for (let d = 0; d < dim; d++) mean[d] += gi[d];
    }
    for (let d = 0; d < dim; d++) mean[d] /= len;
    const cov = Array.from({ length: dim }, () => new Array<number>(dim).fill(0));
    for (let i = 0; i < len; i++) {
      g(values[i]);
      for (let d = 0; d < dim; d++) gi[d] -= mean[d];
      for (let r = 0; r < dim; r++) for (let c = r; c < dim; c++) cov[r][c] += gi[r] * gi[c];
    }
    for (let r = 0; r < dim; r++) {
      for (let c = r; c < dim; c++) {
        cov[r][c] /= len;
        cov[c][r] = cov[r][c];
      }
    }
    return { mean, cov };
  };
  const fx = features(reference);
  const fy = features(current);
  const est = fx.cov.map((row, r) => row.map((v, c) => (n / nx) * v + (n / ny) * fy.cov[r][c]));
  const { values, vectors } = symmetricEigen(est);
  const eps = 2 ** -52;
  const maxAbs = Math.max(...values.map(Math.abs));
  // numpy's pinv drops singular values below max·max(M, N)·eps; matrix_rank of the pseudo-inverse
  // then counts its singular values above its own largest·max(M, N)·eps.
  const inv = values.map((l) => (Math.abs(l) > maxAbs * dim * eps ? 1 / l : 0));
  const maxInv = Math.max(...inv.map(Math.abs));
  const rank = inv.filter((s) => Math.abs(s) > maxInv * dim * eps).length;
  const diff = fx.mean.map((v, d) => v - fy.mean[d]);
  let w = 0;
  for (let k = 0; k < dim; k++) {
    if (inv[k] === 0) continue;
    let proj = 0;
    for (let d = 0; d < dim; d++) proj += vectors[d][k] * diff[d];
    w += proj * proj * inv[k];
  }
  w *= n;
  if (Math.max(nx, ny) < 25) w *= 1 / (1 + n ** -0.45 + 10.1 * (nx ** -1.7 + ny ** -1.7));
  return { statistic: w, pValue: chiSquareSf(w, rank), df: rank };
}
