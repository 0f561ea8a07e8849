import { describe, expect, it } from "vitest";
import type { StudyDirection } from "../../worker/lib/tuning/distributions";
import {
  constrainedDominates,
  dominates,
  greedyHypervolumeSubset,
  hypervolume,
  hypervolumeContributions,
  motpeReferencePoint,
  nonDominatedRanks,
  paretoFront,
  violation,
} from "../../worker/lib/tuning/pareto";
import { Rng } from "../../worker/lib/tuning/random";

const MIN2: StudyDirection[] = ["minimize", "minimize"];

/** Exact volume for integer points by counting the unit cells of [0, ref) that some point dominates. */
function cellCount(points: number[][], ref: number[]): number {
  const d = ref.length;
  let count = 0;
  const cell = new Array<number>(d).fill(0);
  const visit = (k: number): void => {
    if (k === d) {
      if (points.some((p) => p.every((v, i) => v <= cell[i]))) count++;
      return;
    }
    for (let c = 0; c < ref[k]; c++) {
      cell[k] = c;
      visit(k + 1);
    }
  };
  visit(0);
  return count;
}

function randomIntPoints(rng: Rng, n: number, d: number, max: number): number[][] {
  return Array.from({ length: n }, () => Array.from({ length: d }, () => rng.int(max)));
}

describe("dominance", () => {
  it("respects directions and needs a strict improvement", () => {
    expect(dominates([1, 1], [2, 2], MIN2)).toBe(true);
    expect(dominates([1, 2], [1, 2], MIN2)).toBe(false);
    expect(dominates([1, 2], [1, 3], MIN2)).toBe(true);
    expect(dominates([1, 3], [2, 2], MIN2)).toBe(false);
    expect(dominates([1, 3], [2, 2], ["minimize", "maximize"])).toBe(true);
    expect(dominates([2, 2], [1, 3], ["maximize", "minimize"])).toBe(true);
  });

  it("constrained domination: feasible beats infeasible, infeasible compare by total violation", () => {
    expect(violation([1, -5, 2])).toBe(3);
    expect(violation(null)).toBe(0);
    const feasibleBad = { values: [100, 100], constraints: [0, -1] };
    const infeasibleGood = { values: [0, 0], constraints: [0.5] };
    const infeasibleWorse = { values: [-10, -10], constraints: [0.3, 0.3] };
    expect(constrainedDominates(feasibleBad, infeasibleGood, MIN2)).toBe(true);
    expect(constrainedDominates(infeasibleGood, feasibleBad, MIN2)).toBe(false);
    // 0.5 < 0.6: objective values do not matter between infeasible points.
    expect(constrainedDominates(infeasibleGood, infeasibleWorse, MIN2)).toBe(true);
    expect(constrainedDominates(infeasibleWorse, infeasibleGood, MIN2)).toBe(false);
    expect(constrainedDominates({ values: [1, 1] }, { values: [2, 2], constraints: [-1] }, MIN2)).toBe(true);
  });
});

describe("non-dominated sort", () => {
  it("ranks layers of a hand-made set", () => {
    const pts = [[1, 5], [2, 2], [5, 1], [3, 3], [6, 6], [2, 2], [4, 4]].map((values) => ({ values }));
    expect(nonDominatedRanks(pts, MIN2)).toEqual([0, 0, 0, 1, 3, 0, 2]);
  });

  it("matches the definition on random sets (rank k = not dominated by anything of rank ≥ k, dominated by some rank k−1)", () => {
    const rng = Rng.seeded(7);
    for (let trial = 0; trial < 20; trial++) {
      const d = 2 + (trial % 3);
      const pts = randomIntPoints(rng, 30, d, 6).map((values) => ({ values }));
      const dirs = Array.from({ length: d }, (_, i) => (i % 2 === 0 ? "minimize" : "maximize")) as StudyDirection[];
      const ranks = nonDominatedRanks(pts, dirs);
      pts.forEach((p, i) => {
        for (let j = 0; j < pts.length; j++) {
          if (dominates(pts[j].values, p.values, dirs)) expect(ranks[j]).toBeLessThan(ranks[i]);
        }
        if (ranks[i] > 0) {
          expect(pts.some((q, j) => ranks[j] === ranks[i] - 1 && dominates(q.values, p.values, dirs))).toBe(true);
        }
      });
    }
  });

  it("constrained: feasible layers first, then infeasible by violation (equal violation shares a rank)", () => {
    const pts = [
      { values: [1, 1], constraints: [2] },
      { values: [5, 5], constraints: [-1] },
      { values: [9, 9], constraints: [1] },
      { values: [0, 0], constraints: [1] },
      { values: [6, 6], constraints: [0] },
    ];
    expect(nonDominatedRanks(pts, MIN2, { constrained: true })).toEqual([3, 0, 2, 2, 1]);
    // Without the flag constraints are ignored.
    expect(nonDominatedRanks(pts, MIN2)).toEqual([1, 2, 4, 0, 3]);
  });
});

describe("paretoFront", () => {
  it("returns feasible non-dominated indices ascending, duplicates included", () => {
    const pts = [
      { values: [3, 1] },
      { values: [1, 3] },
      { values: [2, 2] },
      { values: [2, 2] },
      { values: [3, 3] },
      { values: [0, 0], constraints: [0.1] },
      { values: [1.5, 2.5], constraints: [-1, 0] },
    ];
    expect(paretoFront(pts, MIN2)).toEqual([0, 1, 2, 3, 6]);
    expect(paretoFront(pts, ["maximize", "maximize"])).toEqual([4]);
    expect(paretoFront([], MIN2)).toEqual([]);
    expect(paretoFront([{ values: [1, 1], constraints: [1] }], MIN2)).toEqual([]);
  });

  it("single objective: every point with the best value", () => {
    expect(paretoFront([{ values: [3] }, { values: [1] }, { values: [1] }, { values: [2] }], ["minimize"])).toEqual([1, 2]);
  });

  it("rejects a wrong number of values", () => {
    expect(() => paretoFront([{ values: [1] }], MIN2)).toThrow(RangeError);
  });
});

describe("hypervolume", () => {
  it("known 2-D values", () => {
    // Two boxes of area 2 overlapping in one unit square.
    expect(hypervolume([[1, 2], [2, 1]], [3, 3])).toBe(3);
    expect(hypervolume([[0, 0]], [1, 1])).toBe(1);
    // A dominated point and a duplicate add nothing; a point on the reference border adds nothing.
    expect(hypervolume([[1, 2], [2, 1], [2, 2], [1, 2], [3, 0]], [3, 3])).toBe(3);
    expect(hypervolume([], [1, 1])).toBe(0);
    // Staircase 0.1..0.9 against (1, 1): Σ (1 − x_i)·(y_{i−1} − y_i).
    const stair = [0.1, 0.3, 0.5, 0.7, 0.9].map((x) => [x, 1 - x]);
    expect(hypervolume(stair, [1, 1])).toBeCloseTo(0.9 * 0.1 + 0.7 * 0.2 + 0.5 * 0.2 + 0.3 * 0.2 + 0.1 * 0.2, 14);
  });

  it("known 3-D value: three unit-offset boxes", () => {
    // Boxes [p, (2,2,2)] for p = (0,1,1), (1,0,1), (1,1,0): each 2·1·1 = 2, pairwise overlaps 1 (the cube
    // [1,2]³), triple overlap 1 → 3·2 − 3·1 + 1 = 4.
    expect(hypervolume([[0, 1, 1], [1, 0, 1], [1, 1, 0]], [2, 2, 2])).toBe(4);
  });

  for (const d of [2, 3, 4]) {
    it(`equals exact cell counting on random integer sets in ${d}-D`, () => {
      const rng = Rng.seeded(100 + d);
      const ref = new Array<number>(d).fill(6);
      for (let rep = 0; rep < 15; rep++) {
        const pts = randomIntPoints(rng, 2 + rng.int(9), d, 6);
        expect(hypervolume(pts, ref)).toBe(cellCount(pts, ref));
      }
    });
  }

  it("contributions are HV(all) − HV(all but i); dominated and duplicated points contribute 0", () => {
    expect(hypervolumeContributions([[1, 2], [2, 1], [2, 2], [0, 3]], [3, 3])).toEqual([1, 1, 0, 0]);
    expect(hypervolumeContributions([[1, 2], [2, 0]], [3, 3])).toEqual([1, 2]);
    expect(hypervolumeContributions([[1, 1], [1, 1]], [2, 2])).toEqual([0, 0]);
    const rng = Rng.seeded(3);
    for (const d of [2, 3, 4]) {
      const ref = new Array<number>(d).fill(5);
      const pts = randomIntPoints(rng, 8, d, 5);
      const all = cellCount(pts, ref);
      const contrib = hypervolumeContributions(pts, ref);
      pts.forEach((_, i) => {
        expect(contrib[i]).toBe(all - cellCount(pts.filter((__, j) => j !== i), ref));
      });
    }
  });

  it("greedy subset selection picks the largest gains first", () => {
    // (0,2) and (2,0) each cover 2 of [.,3]²; (1,1) covers 4 → picked first, then the one adding most.
    const pts = [[0, 2], [1, 1], [2, 0]];
    expect(greedyHypervolumeSubset(pts, 1, [3, 3])).toEqual([1]);
    const two = greedyHypervolumeSubset(pts, 2, [3, 3]);
    expect(two[0]).toBe(1);
    expect(two).toHaveLength(2);
    expect(greedyHypervolumeSubset(pts, 5, [3, 3])).toEqual([0, 1, 2]);
  });

  it("MOTPE reference point lies beyond the worst point whatever its sign", () => {
    expect(motpeReferencePoint([[1, -2], [2, -4], [0, 0]])).toEqual([2.2, 1e-12]);
    expect(motpeReferencePoint([[-1, -2], [-3, -4]])).toEqual([-0.9, -1.8]);
  });
});
