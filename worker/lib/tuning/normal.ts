/**
 * Standard normal special functions for the TPE sampler: erf/erfc/erfcx, the CDF Φ and log Φ, the inverse
 * of log Φ, the log-mass of an interval, and the truncated normal's log-density and quantile function.
 * TPE works with truncated Gaussians whose bounds sit many standard deviations away from the centre, so
 * everything that can underflow is computed in log space, and the far tails use the scaled complementary
 * error function erfcx(x) = exp(x²)·erfc(x), which stays near 1/(x√π) instead of underflowing.
 * erfcx is a fixed-cost polynomial evaluation (coefficients in normal-coefficients.ts), since TPE's
 * densities need tens of thousands of log Φ values per sample.
 */

import { ERFCX_FAR, ERFCX_NEAR } from "./normal-coefficients";

const SQRT2 = Math.SQRT2;
const SQRT_PI = Math.sqrt(Math.PI);
const TWO_OVER_SQRT_PI = 2 / SQRT_PI;
/** log(√(2π)), the normalising constant of the standard normal density in log space. */
export const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** Below this argument erf comes from its power series, which keeps full relative precision near 0. */
const SERIES_LIMIT = 1;

/** erf(x) = 2/√π·exp(−x²)·Σ (2x²)ⁿ·x/(1·3·…·(2n+1)): no alternating signs, so no cancellation. */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * 1e-17) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/** The pieces of ERFCX_NEAR, one after the other, each DEGREE + 1 coefficients from the constant term up. */
const NEAR = Float64Array.from(ERFCX_NEAR.flat());
const NEAR_TERMS = ERFCX_NEAR[0].length;
const NEAR_END = ERFCX_NEAR.length / 2;
const FAR = Float64Array.from(ERFCX_FAR);

/**
 * erfcx(x) for x ≥ 0 (and +∞), within 2 ulp: below 4 a polynomial in x on pieces of width 1/2, from 4 up
 * 1/(x√π) times a polynomial in 1/x² (the tail of the asymptotic series, with the series' divergence
 * interpolated away). The coefficients are Chebyshev interpolants of the exact function
 * (normal-coefficients.py), so there is no loop to converge and the cost is the same for every x.
 */
function erfcxNonNegative(x: number): number {
  if (x < NEAR_END) {
    const j = Math.floor(2 * x);
    const u = x - (j + 0.5) / 2;
    const base = j * NEAR_TERMS;
    let s = NEAR[base + NEAR_TERMS - 1];
    for (let i = NEAR_TERMS - 2; i >= 0; i--) s = s * u + NEAR[base + i];
    return s;
  }
  // Beyond 1e8 every term after the first is below half an ulp (and x² would overflow beyond 1e154).
  if (x > 1e8) return 1 / (x * SQRT_PI);
  const r = 1 / (x * x);
  let s = FAR[FAR.length - 1];
  for (let i = FAR.length - 2; i >= 0; i--) s = s * r + FAR[i];
  return s / (x * SQRT_PI);
}

export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < SERIES_LIMIT) return erfSeries(x);
  if (ax > 6) return x < 0 ? -1 : 1; // erfc(6) ≈ 2e-17 is below half an ulp of 1
  const r = 1 - Math.exp(-ax * ax) * erfcxNonNegative(ax);
  return x < 0 ? -r : r;
}

/**
 * exp(−c·x²) for c = 1 or 1/2 without the rounding of x²: that error (up to x²·2⁻⁵³ in the exponent) would
 * be multiplied by the exponent itself, ~30 ulp at x = 8. x is split as hi + lo with hi of 26 significant
 * bits (Veltkamp), so c·hi² is exact and only the small rest c·lo·(x + hi) is left, whose exp is a short
 * series.
 */
function expNegSquare(x: number, c: number): number {
  if (x > 40) return 0; // exp(−x²/2) is below the smallest subnormal (and 2²⁷·x may overflow)
  const t = 134217729 * x; // 2²⁷ + 1
  const hi = t - (t - x);
  const lo = x - hi;
  // exp of the small rest (|e| < 3e-5 for x ≤ 40, since |lo| ≤ 2⁻²⁷·x) by its Taylor series to e⁴: the
  // next term is below 1e-25.
  const e = -c * lo * (x + hi);
  return Math.exp(-c * hi * hi) * (1 + e * (1 + (e / 2) * (1 + (e / 3) * (1 + e / 4))));
}

export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x > 27.3) return 0; // exp(−x²) underflows below the smallest subnormal
  return expNegSquare(x, 1) * erfcxNonNegative(x);
}

/** Scaled complementary error function exp(x²)·erfc(x); finite for every x ≥ 0, overflows only for x ≪ 0. */
export function erfcx(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x >= 0) return erfcxNonNegative(x);
  // erfc(x) = 2 − erfc(−x) for negative x
  return 2 * Math.exp(x * x) - erfcxNonNegative(-x);
}

/**
 * Upper tail Q(z) = Φ(−z) for z ≥ 0. The exponent is formed from z²/2 rather than (z/√2)², whose rounding
 * would be multiplied by the (large) exponent itself; beyond z = 2 z² is split exactly as well.
 */
function upperTail(z: number): number {
  if (z > 38.7) return 0; // exp(−z²/2) < 2⁻¹⁰⁷⁵ rounds to 0 (a kernel's normaliser often has both ends there)
  const e = z > 2 ? expNegSquare(z, 0.5) : Math.exp(-0.5 * z * z);
  return 0.5 * e * erfcxNonNegative(z / SQRT2);
}

/** Standard normal CDF Φ(z). */
export function ndtr(z: number): number {
  if (Number.isNaN(z)) return NaN;
  return z < 0 ? upperTail(-z) : 1 - upperTail(z);
}

/**
 * log Φ(z). For z ≥ 0 it is log1p(−Q(z)) (log of a number near 1 would lose the digits of a tiny result);
 * for z < −5 it is −z²/2 + log(erfcx(−z/√2)/2), which never underflows.
 */
export function logNdtr(z: number): number {
  if (Number.isNaN(z)) return NaN;
  if (z === Infinity) return 0;
  if (z === -Infinity) return -Infinity;
  if (z >= 0) return Math.log1p(-upperTail(z));
  if (z > -5) return Math.log(upperTail(-z));
  return -0.5 * z * z + Math.log(0.5 * erfcxNonNegative(-z / SQRT2));
}

/** Standard normal log density. */
export function normLogPdf(x: number): number {
  return -0.5 * x * x - LOG_SQRT_2PI;
}

/** log(exp(a) + exp(b)) without overflow. */
export function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + Math.log1p(Math.exp(-Math.abs(a - b)));
}

/** log(exp(p) − exp(q)) for p ≥ q. */
export function logDiffExp(p: number, q: number): number {
  if (q === -Infinity) return p;
  return p + Math.log1p(-Math.exp(q - p));
}

/**
 * log of the standard normal mass in [a, b]. Tails are mirrored into the left tail, where log Φ is
 * accurate; an interval around zero uses log1p(−Φ(a) − Φ(−b)) to avoid cancellation near mass 1.
 */
export function logGaussMass(a: number, b: number): number {
  if (b <= 0) return logDiffExp(logNdtr(b), logNdtr(a));
  if (a > 0) return logDiffExp(logNdtr(-a), logNdtr(-b));
  return Math.log1p(-ndtr(a) - ndtr(-b));
}

/**
 * The x with log Φ(x) = y (y ≤ 0). Newton's method on the concave, increasing log Φ converges from any
 * start; near y = 0 the problem is mirrored (log Φ(−x) = log(1 − eʸ)) so the answer keeps full precision.
 */
export function ndtriExp(y: number): number {
  if (Number.isNaN(y) || y > 0) return NaN;
  if (y === 0) return Infinity;
  if (y === -Infinity) return -Infinity;
  const flipped = y > -1e-2;
  const z = flipped ? Math.log(-Math.expm1(y)) : y;
  // Starting points: the Gaussian tail asymptote far left, a logistic approximation of Φ elsewhere.
  let x = z < -5 ? -Math.sqrt(-2 * (z + LOG_SQRT_2PI)) : -(Math.sqrt(3) / Math.PI) * Math.log(Math.expm1(-z));
  for (let i = 0; i < 100; i++) {
    const lx = logNdtr(x);
    const dx = (lx - z) * Math.exp(lx - normLogPdf(x));
    x -= dx;
    if (!(Math.abs(dx) > 1e-14 * Math.max(1, Math.abs(x)))) break;
  }
  return flipped ? -x : x;
}

/** Φ⁻¹(p). */
export function ndtri(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return NaN;
  if (p > 0.5) return -ndtriExp(Math.log1p(-p));
  return ndtriExp(Math.log(p));
}

/**
 * Quantile of the standard normal truncated to [a, b] (a < b): the c with
 * Φ(c) = Φ(a) + q·(Φ(b) − Φ(a)), solved in log space and on the side of zero where Φ is small.
 */
export function truncNormPpf(q: number, a: number, b: number): number {
  if (!(a < b)) return NaN;
  if (q <= 0) return a;
  if (q >= 1) return b;
  const logMass = logGaussMass(a, b);
  let c: number;
  if (a < 0) {
    c = ndtriExp(logAddExp(logNdtr(a), Math.log(q) + logMass));
  } else {
    c = -ndtriExp(logAddExp(logNdtr(-b), Math.log1p(-q) + logMass));
  }
  // Rounding in the last Newton step may step a hair outside the support.
  return Math.min(b, Math.max(a, c));
}

/**
 * Log density at x of N(loc, scale²) truncated to the standardised interval [a, b]
 * (that is, to [loc + a·scale, loc + b·scale]); −∞ outside, NaN for an empty interval.
 */
export function truncNormLogPdf(x: number, a: number, b: number, loc: number, scale: number): number {
  if (!(a < b)) return NaN;
  const z = (x - loc) / scale;
  if (z < a || z > b) return -Infinity;
  return normLogPdf(z) - logGaussMass(a, b) - Math.log(scale);
}
