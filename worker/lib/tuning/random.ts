/**
 * Seeded randomness for samplers and Optuna's random sampler. The generator is xoshiro128** 1.1
 * (Blackman & Vigna; 32-bit words, period 2¹²⁸ − 1), seeded by expanding a seed through SplitMix32
 * (the MurmurHash3 32-bit finaliser over a Weyl sequence). Its four-word state is plain data, so a
 * Durable Object can persist it between asks and resume the exact same stream.
 */
import {
  type Distribution,
  type ParamValue,
  fromTransformed,
  isSingle,
  singleValue,
  toExternal,
  transformedBounds,
} from "./distributions";

export type RngState = [number, number, number, number];

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

export class Rng {
  private s: Uint32Array;

  private constructor(state: ArrayLike<number>) {
    this.s = Uint32Array.from(state);
    // The all-zero state is the generator's one fixed point.
    if (this.s.every((w) => w === 0)) this.s[0] = 1;
  }

  /** A generator seeded from any finite number (both 32-bit halves of an integer seed are used). */
  static seeded(seed: number): Rng {
    if (!Number.isFinite(seed)) throw new RangeError(`seed must be finite, got ${seed}`);
    const whole = Math.trunc(seed);
    let x = (whole >>> 0) ^ Math.imul(Math.floor(whole / 4294967296) >>> 0, 0x27d4eb2d);
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      words.push((z ^ (z >>> 16)) >>> 0);
    }
    return new Rng(words);
  }

  static fromState(state: RngState): Rng {
    return new Rng(state);
  }

  state(): RngState {
    return [this.s[0], this.s[1], this.s[2], this.s[3]];
  }

  /** Next 32-bit output as an unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  random(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in [low, high) (low when low == high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.random();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.min(n - 1, Math.floor(this.random() * n));
  }

  /** Standard normal deviate by the Box–Muller transform. */
  normal(): number {
    const u1 = 1 - this.random(); // (0, 1], so the log is finite
    const u2 = this.random();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Index drawn with probability proportional to non-negative `weights` (inverse CDF on their sum). */
  weightedIndex(weights: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < weights.length; i++) total += weights[i];
    const u = this.random() * total;
    let acc = 0;
    for (let i = 0; i < weights.length; i++) {
      acc += weights[i];
      if (u < acc) return i;
    }
    // Rounding can leave u at the very top; the last positive weight owns it.
    for (let i = weights.length - 1; i >= 0; i--) if (weights[i] > 0) return i;
    return weights.length - 1;
  }
}

/**
 * Optuna's RandomSampler for one parameter: uniform in the transformed space (log scale for log params;
 * [low − step/2, high + step/2] for grid and int params, then rounded to the grid and clipped), uniform
 * over categorical choices.
 */
export function sampleRandom(dist: Distribution, rng: Rng): ParamValue {
  if (dist.type === "categorical") return dist.choices[rng.int(dist.choices.length)];
  if (isSingle(dist)) return singleValue(dist);
  const b = transformedBounds(dist);
  return toExternal(dist, fromTransformed(dist, rng.uniform(b.low, b.high)));
}
