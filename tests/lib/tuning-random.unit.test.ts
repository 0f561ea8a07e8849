import { describe, expect, it } from "vitest";
import { contains, parseDistribution } from "../../worker/lib/tuning/distributions";
import { Rng, sampleRandom } from "../../worker/lib/tuning/random";

const parse = (json: unknown) => parseDistribution(json).distribution;

/** Pearson's chi-square statistic of observed counts against equal expected counts. */
function chiSquare(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const e = total / counts.length;
  return counts.reduce((s, c) => s + ((c - e) * (c - e)) / e, 0);
}
// 99.9% quantiles of chi-square (scipy 1.10.1 scipy.stats.chi2.ppf(0.999, df)): df=9 -> 27.877, df=19 -> 43.820, df=3 -> 16.266.
const CHI2_999 = { 3: 16.266, 9: 27.877, 19: 43.82 };

describe("xoshiro128** generator", () => {
  it("produces the published xoshiro128** sequence from state [1, 2, 3, 4]", () => {
    const rng = Rng.fromState([1, 2, 3, 4]);
    // First outputs by hand from the algorithm: rotl(s1·5, 7)·9 = rotl(10, 7)·9 = 11520, then 0.
    // The rest from an independent Python implementation of xoshiro128** 1.1 (Blackman & Vigna).
    expect([rng.nextUint32(), rng.nextUint32(), rng.nextUint32(), rng.nextUint32(), rng.nextUint32()]).toEqual(
      XOSHIRO_1234,
    );
  });

  it("is deterministic per seed, different across seeds, and resumes from its state", () => {
    const a = Rng.seeded(42);
    const b = Rng.seeded(42);
    const c = Rng.seeded(43);
    const xs = Array.from({ length: 5 }, () => a.random());
    expect(Array.from({ length: 5 }, () => b.random())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.random())).not.toEqual(xs);
    const saved = a.state();
    const next = a.random();
    expect(Rng.fromState(saved).random()).toBe(next);
    expect(Rng.seeded(2 ** 32 + 7).random()).not.toBe(Rng.seeded(7).random());
    expect(() => Rng.seeded(NaN)).toThrow(RangeError);
  });

  it("random() is uniform on [0, 1) (chi-square over 20 bins) with sane moments", () => {
    const rng = Rng.seeded(1);
    const counts = new Array(20).fill(0);
    let sum = 0;
    const n = 100000;
    for (let i = 0; i < n; i++) {
      const u = rng.random();
      if (!(u >= 0 && u < 1)) throw new Error(`out of range: ${u}`);
      counts[Math.floor(u * 20)]++;
      sum += u;
    }
    expect(chiSquare(counts)).toBeLessThan(CHI2_999[19]);
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.005);
  });

  it("normal() has mean 0 and variance 1", () => {
    const rng = Rng.seeded(5);
    const n = 100000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.015);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.02);
  });

  it("weightedIndex follows the weights and never picks a zero weight", () => {
    const rng = Rng.seeded(9);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 40000; i++) counts[rng.weightedIndex([1, 0, 3, 0])]++;
    expect(counts[1]).toBe(0);
    expect(counts[3]).toBe(0);
    expect(counts[2] / counts[0]).toBeGreaterThan(2.7);
    expect(counts[2] / counts[0]).toBeLessThan(3.3);
  });
});

describe("sampleRandom (Optuna's RandomSampler)", () => {
  it("int: every grid value equally likely, including both ends (±step/2 widening)", () => {
    const d = parse({ type: "int", low: -3, high: 24, step: 3 }); // 10 values
    const rng = Rng.seeded(11);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 50000; i++) {
      const v = sampleRandom(d, rng) as number;
      if (!contains(d, v)) throw new Error(`${v} is not in the distribution`);
      counts[(v + 3) / 3]++;
    }
    expect(chiSquare(counts)).toBeLessThan(CHI2_999[9]);
  });

  it("float grid: values on the grid, ends as likely as interior points", () => {
    const d = parse({ type: "float", low: 0, high: 0.9, step: 0.3 });
    const rng = Rng.seeded(12);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 40000; i++) {
      const v = sampleRandom(d, rng) as number;
      if (!contains(d, v)) throw new Error(`${v} is not in the distribution`);
      counts[Math.round(v / 0.3)]++;
    }
    expect(chiSquare(counts)).toBeLessThan(CHI2_999[3]);
  });

  it("log float: uniform in log space, inside [low, high)", () => {
    const d = parse({ type: "float", low: 1e-4, high: 1, log: true });
    const rng = Rng.seeded(13);
    const counts = new Array(20).fill(0);
    for (let i = 0; i < 50000; i++) {
      const v = sampleRandom(d, rng) as number;
      if (!(v >= 1e-4 && v < 1)) throw new Error(`out of range: ${v}`);
      counts[Math.floor(((Math.log10(v) + 4) / 4) * 20)]++;
    }
    expect(chiSquare(counts)).toBeLessThan(CHI2_999[19]);
  });

  it("log int: probability of k proportional to its cell ln(k+½) − ln(k−½)", () => {
    const d = parse({ type: "int", low: 1, high: 4, log: true });
    const rng = Rng.seeded(14);
    const counts = [0, 0, 0, 0];
    const n = 60000;
    for (let i = 0; i < n; i++) counts[(sampleRandom(d, rng) as number) - 1]++;
    const total = Math.log(4.5) - Math.log(0.5);
    counts.forEach((c, i) => {
      const p = (Math.log(i + 1.5) - Math.log(i + 0.5)) / total;
      expect(Math.abs(c / n - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
    });
  });

  it("plain float: uniform on [low, high)", () => {
    const d = parse({ type: "float", low: -2, high: 3 });
    const rng = Rng.seeded(15);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 50000; i++) {
      const v = sampleRandom(d, rng) as number;
      if (!(v >= -2 && v < 3)) throw new Error(`out of range: ${v}`);
      counts[Math.floor(((v + 2) / 5) * 10)]++;
    }
    expect(chiSquare(counts)).toBeLessThan(CHI2_999[9]);
  });

  it("categorical: uniform over choices, returns the choice values", () => {
    const d = parse({ type: "categorical", choices: ["a", null, false, 7] });
    const rng = Rng.seeded(16);
    const counts = new Map<unknown, number>();
    for (let i = 0; i < 40000; i++) {
      const v = sampleRandom(d, rng);
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(["a", 7, false, null].sort());
    expect(chiSquare([...counts.values()])).toBeLessThan(CHI2_999[3]);
  });

  it("single-valued distributions return their value without randomness", () => {
    const rng = Rng.seeded(17);
    const before = rng.state();
    expect(sampleRandom(parse({ type: "float", low: 2.5, high: 2.5 }), rng)).toBe(2.5);
    expect(sampleRandom(parse({ type: "int", low: 0, high: 2, step: 5 }), rng)).toBe(0);
    expect(rng.state()).toEqual(before);
  });

  it("is deterministic for a seed", () => {
    const d = parse({ type: "float", low: 0, high: 1 });
    const a = Rng.seeded(99);
    const b = Rng.seeded(99);
    expect(Array.from({ length: 10 }, () => sampleRandom(d, a))).toEqual(Array.from({ length: 10 }, () => sampleRandom(d, b)));
  });
});

/** xoshiro128** outputs from state [1, 2, 3, 4] (independent Python implementation of the published algorithm). */
const XOSHIRO_1234 = [11520, 0, 5927040, 70819200, 2031721883];
