/**
 * The two-sample Kolmogorov–Smirnov test: the statistic D and its two-sided p-value with the same
 * method choice as scipy.stats.ks_2samp(method="auto") — the exact lattice-path distribution when
 * both samples have at most 10,000 values, otherwise the one-sample Kolmogorov distribution of D_n
 * at n = round(n1·n2/(n1+n2)) (Simard & L'Ecuyer's choice of algorithm per region). Pure maths.
 */

/** Above this sample size scipy's "auto" mode stops attempting the exact distribution. */
export const KS_MAX_EXACT_N = 10_000;

export interface KsResult {
  /** D, rounded to a multiple of 1/lcm(n1, n2) in exact mode as scipy reports it. */
  statistic: number;
  pValue: number;
  mode: "exact" | "asymp";
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Banker's rounding, as numpy's round does. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** x · 2^e without overflowing or underflowing the intermediate power of two. */
function ldexp(x: number, e: number): number {
  let out = x;
  let rest = e;
  while (rest > 1000) {
    out *= 2 ** 1000;
    rest -= 1000;
  }
  while (rest < -1000) {
    out *= 2 ** -1000;
    rest += 1000;
  }
  return out * 2 ** rest;
}

const clip01 = (p: number): number => Math.min(1, Math.max(0, p));

/** max |F1 - F2| over the pooled sample; both inputs sorted ascending. */
export function ksStatistic(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let d = 0;
  // Walk the pooled values in order; at each distinct value both ECDFs include every tie.
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && a[i] <= b[j]) ? a[i] : b[j];
    while (i < n1 && a[i] <= v) i++;
    while (j < n2 && b[j] <= v) j++;
    const diff = Math.abs(i / n1 - j / n2);
    if (diff > d) d = diff;
  }
  return d;
}

/**
 * Pr(D_{n,n} >= h/n) for equal sample sizes: the reflection-principle alternating sum of binomial
 * ratios, evaluated innermost-first so that no subtraction of nearly equal terms happens.
 */
function probOutsideSquare(n: number, h: number): number {
  let acc = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let ratio = 1;
    for (let j = 0; j < h; j++) ratio = ((n - k * h - j) * ratio) / (n + k * h + j + 1);
    acc = ratio * (1 - acc);
  }
  return 2 * acc;
}

/**
 * Pr(D_{m,n} >= h/lcm) for unequal sizes: the share of monotone lattice paths from (0,0) to (m,n)
 * that leave the band |x·n/g - y·m/g| < h. Each lattice point stores the share of the paths reaching
 * it that have already left the band (1 outside the band), which keeps every value in [0, 1]
 * instead of counting paths (Viehmann's recursion, arXiv:2102.08037).
 */
function probOutsideBand(m0: number, n0: number, g: number, h: number): number {
  const m = Math.max(m0, n0);
  const n = Math.min(m0, n0);
  const mg = m / g;
  const ng = n / g;
  let prev = new Float64Array(n + 1);
  let next = new Float64Array(n + 1);
  let lo = 0;
  let hi = Math.min(Math.ceil(h / mg), n + 1);
  // Column x = 0: points below the band's upper edge are inside and nothing has left yet.
  prev.fill(0, lo, hi);
  for (let x = 1; x <= m; x++) {
    const newLo = Math.min(Math.max(Math.floor((ng * x - h) / mg) + 1, 0), n);
    const newHi = Math.min(Math.ceil((ng * x + h) / mg), n + 1);
    if (newHi <= newLo) return 1;
    let below = newLo === 0 ? 0 : 1;
    for (let y = newLo; y < newHi; y++) {
      const left = y >= lo && y < hi ? prev[y] : 1;
      below = (left * x + below * y) / (x + y);
      next[y] = below;
    }
    [prev, next] = [next, prev];
    lo = newLo;
    hi = newHi;
  }
  return prev[n];
}

/** Exact two-sided p-value, or null when the computation did not give a probability. */
function exactPValue(n1: number, n2: number, h: number): number | null {
  const p = n1 === n2 ? probOutsideSquare(n1, h) : probOutsideBand(n1, n2, gcd(n1, n2), h);
  return p >= 0 && p <= 1 ? p : null;
}

// ---- Kolmogorov distribution of D_n (one sample, two-sided), survival function ----

const STIRLING = [
  -2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3, 8.4175084175084175084e-4,
  -5.952380952380952381e-4, 7.9365079365079365079e-4, -2.7777777777777777778e-3, 8.3333333333333333333e-2,
];

/** log(n! / n^n) by Stirling's series. */
function logFactorialOverPower(n: number): number {
  const r = 1 / n;
  const y = r / n;
  let poly = 0;
  for (const c of STIRLING) poly = poly * y + c;
  return Math.log(n) / 2 - n + Math.log(2 * Math.PI) / 2 + r * poly;
}

/** ln C(n, k) from ln Γ by Stirling's series for large arguments and exact sums of logs below. */
const LOG_FACT_TABLE: number[] = (() => {
  const t = [0];
  for (let i = 1; i <= 256; i++) t.push(t[i - 1] + Math.log(i));
  return t;
})();

function logFactorial(k: number): number {
  if (k <= 256) return LOG_FACT_TABLE[k];
  const x = k + 1;
  const inv = 1 / x;
  const inv2 = inv * inv;
  const series = inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 * (1 / 1680))));
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + series;
}

/**
 * One-sided Smirnov survival Pr(D_n^+ >= d) by the Birnbaum–Tingey sum. All terms are positive;
 * they are summed in log space relative to the largest so tiny tails keep their digits.
 */
export function smirnovSf(n: number, d: number): number {
  if (d <= 0) return 1;
  if (d >= 1) return 0;
  const top = Math.floor(n * (1 - d));
  const logs: number[] = [];
  let best = -Infinity;
  for (let v = 0; v <= top; v++) {
    const rest = (n - v) / n - d;
    if (rest <= 0) continue;
    const lt =
      logFactorial(n) -
      logFactorial(v) -
      logFactorial(n - v) +
      Math.log(d) +
      (v - 1) * Math.log(d + v / n) +
      (n - v) * Math.log(rest);
    logs.push(lt);
    if (lt > best) best = lt;
  }
  if (best === -Infinity) return 0;
  let sum = 0;
  for (const lt of logs) sum += Math.exp(lt - best);
  return clip01(Math.exp(best) * sum);
}

const E128 = 2 ** 128;
const EM128 = 2 ** -128;

/** Pr(D_n <= d) by Durbin's matrix method with Marsaglia–Tsang–Wang's exponent bookkeeping. */
function kolmogorovCdfDurbin(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  const invFact = new Float64Array(m + 1);
  invFact[0] = 1;
  for (let j = 1; j <= m; j++) invFact[j] = invFact[j - 1] / j;
  const edge = new Float64Array(m);
  for (let j = 1; j <= m; j++) edge[j - 1] = (1 - h ** j) * invFact[j];
  edge[m - 1] = (1 + (Math.max(2 * h - 1, 0) ** m - 2 * h ** m)) * invFact[m];

  let base: Float64Array = new Float64Array(m * m);
  for (let r = 0; r < m; r++) for (let c = 1; c < m; c++) if (r - c + 1 >= 0) base[r * m + c] = invFact[r - c + 1];
  for (let r = 0; r < m; r++) base[r * m] = edge[r];
  for (let c = 0; c < m; c++) base[(m - 1) * m + c] = edge[m - 1 - c];

  const multiply = (a: Float64Array, b: Float64Array): Float64Array => {
    const out = new Float64Array(m * m);
    for (let r = 0; r < m; r++) {
      for (let t = 0; t < m; t++) {
        const art = a[r * m + t];
        if (art === 0) continue;
        for (let c = 0; c < m; c++) out[r * m + c] += art * b[t * m + c];
      }
    }
    return out;
  };

  let power: Float64Array = new Float64Array(m * m);
  for (let i = 0; i < m; i++) power[i * m + i] = 1;
  let exponent = 0;
  let baseExponent = 0;
  for (let e = n; e > 0; e = Math.floor(e / 2)) {
    if (e % 2 === 1) {
      power = multiply(power, base);
      exponent += baseExponent;
    }
    base = multiply(base, base);
    baseExponent *= 2;
    if (Math.abs(base[(k - 1) * m + (k - 1)]) > E128) {
      for (let i = 0; i < base.length; i++) base[i] /= E128;
      baseExponent += 128;
    }
  }
  let p = power[(k - 1) * m + (k - 1)];
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < EM128) {
      p *= E128;
      exponent -= 128;
    }
  }
  return clip01(exponent !== 0 ? ldexp(p, exponent) : p);
}

/** Pelz–Good asymptotic series for Pr(D_n <= x), used for large n where Durbin's matrix is too big. */
function kolmogorovCdfPelzGood(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const PI2 = Math.PI ** 2;
  const PI4 = Math.PI ** 4;
  const PI6 = Math.PI ** 6;
  const SQRT2PI = Math.sqrt(2 * Math.PI);
  const z = Math.sqrt(n) * x;
  const z2 = z * z;
  const z3 = z2 * z;
  const z4 = z2 * z2;
  const z6 = z4 * z2;
  const qlog = -PI2 / 8 / z2;
  if (qlog < -708) return 0;
  let q = Math.exp(qlog);
  const k1a = -z2;
  const k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * PI2) / 4;
  const k2c = (PI4 * (1 - 2 * z2)) / 16;
  const k3d = (PI6 * (5 - 30 * z2)) / 64;
  const k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z ** 8;
  const terms = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k > 0; k--) {
    const mm = 2 * k - 1;
    const m2 = mm * mm;
    const m4 = m2 * m2;
    const m6 = m4 * m2;
    const qp = q ** (8 * k);
    const coeffs = [1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6];
    for (let i = 0; i < 4; i++) terms[i] = terms[i] * qp + coeffs[i];
  }
  const denominators = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) terms[i] = (terms[i] * q * SQRT2PI) / denominators[i];
  q = Math.exp(-PI2 / 2 / z2);
  let extra2 = 0;
  let extra3 = 0;
  for (let k = maxk; k > 0; k--) {
    const k2 = k * k;
    const qk = q ** k2;
    extra2 += k2 * qk;
    const s = Math.sqrt(3) * z;
    const kpi = Math.PI * k;
    extra3 += (s + kpi) * (s - kpi) * k2 * qk;
  }
  terms[2] += (extra2 * PI2 * SQRT2PI) / (-36 * z3);
  terms[3] += (extra3 * PI2 * SQRT2PI) / (216 * z6);
  let sum = 0;
  for (let i = 0; i < 4; i++) sum += terms[i] / n ** (i / 2);
  return sum;
}

/**
 * Pr(D_n > x) for the two-sided one-sample statistic, choosing the algorithm by region as scipy's
 * kstwo.sf does. Where scipy uses Pomeranz's recursion (n <= 140, 0.754693 < n·x² <= 4) this uses
 * Durbin's matrix, which computes the same exact distribution.
 */
export function kolmogorovSf(n: number, x: number): number {
  if (!Number.isInteger(n) || n <= 0 || Number.isNaN(x)) return NaN;
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    let cdf: number;
    if (n <= 140) {
      cdf = 1;
      for (let i = 1; i <= n; i++) cdf *= i * (1 / n) * (2 * t - 1);
    } else {
      cdf = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    }
    return clip01(1 - cdf);
  }
  if (t >= n - 1) return clip01(2 * (1 - x) ** n);
  if (x >= 0.5) return clip01(2 * smirnovSf(n, x));
  const nx2 = t * x;
  if (n <= 140) {
    if (nx2 <= 4) return clip01(1 - kolmogorovCdfDurbin(n, x));
    return clip01(2 * smirnovSf(n, x));
  }
  if (nx2 >= 370) return 0;
  if (nx2 >= 2.2) return clip01(2 * smirnovSf(n, x));
  const cdf = n <= 100_000 && n * x ** 1.5 <= 1.4 ? kolmogorovCdfDurbin(n, x) : kolmogorovCdfPelzGood(n, x);
  return clip01(1 - cdf);
}

/** Two-sided two-sample KS test on sorted, finite, non-empty samples. */
export function ks2Sample(sortedA: ArrayLike<number>, sortedB: ArrayLike<number>): KsResult {
  const n1 = sortedA.length;
  const n2 = sortedB.length;
  const d = ksStatistic(sortedA, sortedB);
  if (Math.max(n1, n2) <= KS_MAX_EXACT_N) {
    const lcm = (n1 / gcd(n1, n2)) * n2;
    const h = roundHalfEven(d * lcm);
    const dExact = h / lcm;
    if (h === 0) return { statistic: dExact, pValue: 1, mode: "exact" };
    const p = exactPValue(n1, n2, h);
    if (p !== null) return { statistic: dExact, pValue: p, mode: "exact" };
    // scipy falls back to the asymptotic distribution but keeps the rounded statistic.
    return { statistic: dExact, pValue: asymptoticPValue(n1, n2, dExact), mode: "asymp" };
  }
  return { statistic: d, pValue: asymptoticPValue(n1, n2, d), mode: "asymp" };
}

function asymptoticPValue(n1: number, n2: number, d: number): number {
  const big = Math.max(n1, n2);
  const small = Math.min(n1, n2);
  const en = (big * small) / (big + small);
  return clip01(kolmogorovSf(roundHalfEven(en), d));
}
