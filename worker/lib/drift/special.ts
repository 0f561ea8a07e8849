/**
 * Distribution tails and numerical helpers the drift tests share: chi-square, normal and Student t
 * survival functions computed without `1 - cdf` so tiny tails keep their digits, log-space sums, a
 * small seeded pseudo-random generator (the permutation tests must be reproducible), and an exact
 * hypergeometric sampler for permuting category counts without touching every row.
 */
import betainc from "@stdlib/math-base-special-betainc";
import erfc from "@stdlib/math-base-special-erfc";
import gammainc from "@stdlib/math-base-special-gammainc";
import gammaln from "@stdlib/math-base-special-gammaln";

/** Pr(X² >= x) for df degrees of freedom, as the regularised upper incomplete gamma (no 1 - cdf). */
export function chiSquareSf(x: number, df: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return 0;
  if (x <= 0) return 1;
  return gammainc(x / 2, df / 2, true, true);
}

/** Two-sided normal tail 2·Pr(Z >= |z|) = erfc(|z|/√2). */
export function normalTwoSidedP(z: number): number {
  return erfc(Math.abs(z) / Math.SQRT2);
}

/** Upper normal tail Pr(Z >= z), accurate for large z (scipy.special.ndtr(-z)). */
export function normalSf(z: number): number {
  if (Number.isNaN(z)) return NaN;
  return 0.5 * erfc(z / Math.SQRT2);
}

/**
 * Two-sided Student t tail 2·Pr(T_df >= |t|) as the regularised incomplete beta
 * I_{df/(df+t²)}(df/2, 1/2); for small |t| the complementary form keeps the value next to 1 exact.
 */
export function studentTTwoSidedP(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return NaN;
  if (!Number.isFinite(t)) return 0;
  const t2 = t * t;
  if (t2 < df) return betainc(t2 / (df + t2), 0.5, df / 2, true, true);
  return betainc(df / (df + t2), df / 2, 0.5, true, false);
}

/** ln Σ exp(x_i) without overflow or underflow. */
export function logSumExp(values: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
  if (max === -Infinity || max === Infinity) return max;
  let s = 0;
  for (let i = 0; i < values.length; i++) s += Math.exp(values[i] - max);
  return max + Math.log(s);
}

export { gammaln };

/** Uniform doubles in [0, 1) with 53 random bits. */
export interface Rng {
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

/**
 * A seeded generator (SplitMix32 seeding an sfc32 state): fast, 128 bits of state, and the same
 * stream on every JavaScript engine, so a permutation p-value is reproducible across the Worker,
 * the browser and Node.
 */
export function createRng(seed: number): Rng {
  let s = seed >>> 0;
  const splitmix = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const u32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) u32();
  const next = (): number => ((u32() >>> 5) * 67108864 + (u32() >>> 6)) / 9007199254740992;
  return { next, int: (n: number) => Math.floor(next() * n) };
}

/**
 * One draw of the number of successes when `draws` items are taken without replacement from
 * `total` items of which `successes` are successes. Inversion that starts at the mode and walks
 * outward, so it costs O(standard deviation) steps and never materialises the rows.
 */
export function hypergeometricSample(rng: Rng, total: number, successes: number, draws: number): number {
  const lo = Math.max(0, draws - (total - successes));
  const hi = Math.min(draws, successes);
  if (lo === hi) return lo;
  const mode = Math.min(hi, Math.max(lo, Math.floor(((draws + 1) * (successes + 1)) / (total + 2))));
  const logPmf = (x: number): number =>
    gammaln(successes + 1) -
    gammaln(x + 1) -
    gammaln(successes - x + 1) +
    gammaln(total - successes + 1) -
    gammaln(draws - x + 1) -
    gammaln(total - successes - draws + x + 1) -
    (gammaln(total + 1) - gammaln(draws + 1) - gammaln(total - draws + 1));
  const pMode = Math.exp(logPmf(mode));
  let u = rng.next() - pMode;
  if (u < 0) return mode;
  // pmf(x+1)/pmf(x) = (K-x)(n-x) / ((x+1)(N-K-n+x+1))
  let up = mode;
  let pUp = pMode;
  let down = mode;
  let pDown = pMode;
  for (;;) {
    const canUp = up < hi;
    const canDown = down > lo;
    if (!canUp && !canDown) return mode;
    if (canUp) {
      pUp *= ((successes - up) * (draws - up)) / ((up + 1) * (total - successes - draws + up + 1));
      up++;
      u -= pUp;
      if (u < 0) return up;
    }
    if (canDown) {
      pDown *= (down * (total - successes - draws + down)) / ((successes - down + 1) * (draws - down + 1));
      down--;
      u -= pDown;
      if (u < 0) return down;
    }
  }
}

/**
 * e^{q}·K_{1/4}(q), the scaled modified Bessel function of the second kind of order 1/4, from
 * K_ν(q) = ∫₀^∞ e^{-q cosh s} cosh(νs) ds: the trapezoid rule on this analytic, doubly
 * exponentially decaying integrand converges to machine precision with a fixed small step.
 */
export function besselK14Scaled(q: number): number {
  if (!(q > 0)) return NaN;
  const h = 0.02;
  let sum = 0.5;
  for (let k = 1; ; k++) {
    const s = k * h;
    const e = -q * (Math.cosh(s) - 1);
    const term = Math.exp(e) * Math.cosh(s / 4);
    sum += term;
    if (e < -745 || term < 1e-18 * sum) break;
  }
  return sum * h;
}
