import { describe, expect, it } from "vitest";
import type { Trial } from "../../app/src/lib/api/tuning-types";
import { alignPoints } from "../../app/src/lib/tuning/aligned";
import { rampColor, valueColorer } from "../../app/src/lib/tuning/color-scale";
import { cellEdges, contourGrid, interpolateIdw } from "../../app/src/lib/tuning/contour";
import { empiricalDistribution, studyEdf } from "../../app/src/lib/tuning/edf";
import { optimizationHistory } from "../../app/src/lib/tuning/history";
import { learningCurves } from "../../app/src/lib/tuning/intermediate";
import { paramAxis, paramNames } from "../../app/src/lib/tuning/params";
import { paretoPlot } from "../../app/src/lib/tuning/pareto";
import { sliceData } from "../../app/src/lib/tuning/slice";
import { trialRows } from "../../app/src/lib/tuning/trial-table";

const trial = (number: number, over: Partial<Trial> = {}): Trial => ({
  number,
  state: "COMPLETE",
  params: {},
  distributions: {},
  values: null,
  intermediate_values: [],
  user_attrs: {},
  constraints: null,
  start_time: 1000 * number,
  complete_time: 1000 * number + 500,
  last_heartbeat_time: null,
  run_id: null,
  ...over,
});

const lr = { type: "float" as const, low: 1e-5, high: 1, log: true };
const opt = { type: "categorical" as const, choices: ["sgd", "adam", null] };
const depth = { type: "int" as const, low: 1, high: 8 };

describe("optimization history", () => {
  const trials = [
    trial(0, { values: [3] }),
    trial(1, { values: [5] }),
    trial(2, { state: "PRUNED", values: null }),
    trial(3, { values: [1] }),
    trial(4, { state: "FAIL" }),
    trial(5, { values: [2] }),
    trial(6, { values: [Number.NaN] }),
  ];

  it("keeps COMPLETE trials with finite values and tracks the running minimum", () => {
    expect(optimizationHistory(trials, "minimize")).toEqual({ numbers: [0, 1, 3, 5], values: [3, 5, 1, 2], best: [3, 3, 1, 1] });
  });

  it("tracks the running maximum for maximize", () => {
    expect(optimizationHistory(trials, "maximize").best).toEqual([3, 5, 5, 5]);
  });

  it("reads the chosen objective, in trial-number order whatever order trials arrive in", () => {
    const multi = [trial(2, { values: [0, 7] }), trial(0, { values: [0, 9] }), trial(1, { values: [0, 8] })];
    expect(optimizationHistory(multi, "minimize", 1)).toEqual({ numbers: [0, 1, 2], values: [9, 8, 7], best: [9, 8, 7] });
  });
});

describe("empirical distribution function", () => {
  it("rises to the share of values at or below each distinct value, once per tie", () => {
    expect(empiricalDistribution([3, 1, 2, 2])).toEqual({ x: [1, 2, 3], y: [0.25, 0.75, 1] });
  });

  it("ignores non-finite values and is empty without values", () => {
    expect(empiricalDistribution([Number.NaN, 4, Infinity])).toEqual({ x: [4], y: [1] });
    expect(empiricalDistribution([])).toEqual({ x: [], y: [] });
  });

  it("takes only COMPLETE trials of a study", () => {
    expect(studyEdf([trial(0, { values: [2] }), trial(1, { state: "PRUNED", values: [0] }), trial(2, { values: [4] })]).x).toEqual([2, 4]);
  });
});

describe("param axes", () => {
  const trials = [
    trial(0, { params: { lr: 0.01, optimizer: "adam", depth: 3 }, distributions: { lr, optimizer: opt, depth } }),
    trial(1, { params: { lr: 0.1, optimizer: null }, distributions: { lr, optimizer: opt } }),
  ];

  it("lists every param by name", () => {
    expect(paramNames(trials)).toEqual(["depth", "lr", "optimizer"]);
  });

  it("puts categorical choices at their declared index, None included", () => {
    const axis = paramAxis(trials, "optimizer");
    expect(axis.kind).toBe("categorical");
    expect(axis.categories).toEqual(["sgd", "adam", "None"]);
    expect(axis.coord("adam")).toBe(1);
    expect(axis.coord(null)).toBe(2);
    expect(axis.coord(undefined)).toBeNull();
  });

  it("takes log scale from the distribution and refuses values a log axis cannot hold", () => {
    const axis = paramAxis(trials, "lr");
    expect(axis).toMatchObject({ kind: "numeric", log: true });
    expect(axis.coord(0.01)).toBe(0.01);
    expect(axis.coord(0)).toBeNull();
    expect(paramAxis(trials, "depth")).toMatchObject({ kind: "numeric", log: false });
  });

  it("treats a param without a distribution as categorical when it holds text", () => {
    const axis = paramAxis([trial(0, { params: { k: "b" } }), trial(1, { params: { k: "a" } })], "k");
    expect(axis.categories).toEqual(["b", "a"]);
  });
});

describe("slice plots", () => {
  it("pairs each COMPLETE trial's param value with its objective, sorted by the param", () => {
    const trials = [
      trial(0, { params: { x: 0.5 }, distributions: { x: { type: "float", low: 0, high: 1 } }, values: [2] }),
      trial(1, { params: { x: 0.1 }, distributions: { x: { type: "float", low: 0, high: 1 } }, values: [4] }),
      trial(2, { state: "PRUNED", params: { x: 0.3 }, values: null }),
      trial(3, { params: {}, values: [1] }),
    ];
    const s = sliceData(trials, "x");
    expect(s.points.map((p) => [p.x, p.y, p.number])).toEqual([
      [0.1, 4, 1],
      [0.5, 2, 0],
    ]);
  });

  it("places categorical values at their choice index", () => {
    const trials = [trial(0, { params: { o: "sgd" }, distributions: { o: opt }, values: [1] }), trial(1, { params: { o: "adam" }, distributions: { o: opt }, values: [3] })];
    expect(sliceData(trials, "o").points.map((p) => p.x)).toEqual([0, 1]);
  });
});

describe("aligning scatter groups for uPlot", () => {
  it("sorts all points by x, keeps equal x, and puts each group's y in its own column", () => {
    const a = alignPoints([
      [
        { x: 2, y: 20, label: "a2" },
        { x: 1, y: 10, label: "a1" },
      ],
      [{ x: 1, y: 11, label: "b1" }],
    ]);
    expect(a.x).toEqual([1, 1, 2]);
    expect(a.columns).toEqual([
      [10, null, 20],
      [null, 11, null],
    ]);
    expect(a.labels).toEqual(["a1", "b1", "a2"]);
  });
});

describe("contour interpolation", () => {
  it("inverse-distance weighting passes through samples and averages coincident ones", () => {
    const samples = [
      { u: 0, v: 0, value: 1 },
      { u: 1, v: 0, value: 3 },
      { u: 1, v: 0, value: 5 },
    ];
    expect(interpolateIdw(samples, 0, 0)).toBe(1);
    expect(interpolateIdw(samples, 1, 0)).toBe(4);
    // Midway between 1 (once) and 3, 5 (twice, equal distance): (1 + 3 + 5) / 3.
    expect(interpolateIdw(samples, 0.5, 0)).toBeCloseTo(3, 12);
  });

  it("stays within the observed range and hits the observed corners of the grid", () => {
    const dist = { x: { type: "float" as const, low: 0, high: 10 }, y: { type: "float" as const, low: 1e-3, high: 10, log: true } };
    const pts: [number, number, number][] = [
      [0, 0.001, 5],
      [10, 0.001, 1],
      [0, 10, 9],
      [10, 10, 2],
      [4, 0.1, 3],
    ];
    const trials = pts.map(([x, y, v], i) => trial(i, { params: { x, y }, distributions: dist, values: [v] }));
    const c = contourGrid(trials, "x", "y", 0, 11)!;
    expect(c.xs).toHaveLength(11);
    expect(c.xs[0]).toBe(0);
    expect(c.xs[10]).toBe(10);
    // The y grid is even in log10: 1e-3 … 10 over 11 points steps 0.4 decades.
    expect(Math.log10(c.ys[1]) - Math.log10(c.ys[0])).toBeCloseTo(0.4, 12);
    expect(c.z[0][0]).toBe(5);
    expect(c.z[0][10]).toBe(1);
    expect(c.z[10][0]).toBe(9);
    expect(c.z[10][10]).toBe(2);
    for (const row of c.z) for (const v of row) expect(v >= 1 && v <= 9).toBe(true);
    expect([c.min, c.max]).toEqual([1, 9]);
    expect(c.points).toHaveLength(5);
  });

  it("uses one column per categorical choice and needs two trials", () => {
    const dist = { o: opt, x: { type: "float" as const, low: 0, high: 1 } };
    const trials = [trial(0, { params: { o: "sgd", x: 0 }, distributions: dist, values: [1] }), trial(1, { params: { o: null, x: 1 }, distributions: dist, values: [2] })];
    expect(contourGrid(trials, "o", "x", 0, 5)!.xs).toEqual([0, 1, 2]);
    expect(contourGrid(trials.slice(0, 1), "o", "x")).toBeNull();
  });
});

describe("contour cells", () => {
  it("puts edges midway between grid points and half a step past the ends", () => {
    expect(cellEdges([0, 1, 2], false)).toEqual([-0.5, 0.5, 1.5, 2.5]);
    const log = cellEdges([1, 10, 100], true);
    [0.1 ** 0.5, 10 ** 0.5, 10 ** 1.5, 10 ** 2.5].forEach((e, i) => expect(log[i]).toBeCloseTo(e, 9));
    expect(cellEdges([3], false)).toEqual([2.5, 3.5]);
  });
});

describe("Pareto front plot", () => {
  it("splits trials into front, dominated and infeasible, the front sorted along x", () => {
    const trials = [
      trial(0, { values: [1, 5] }),
      trial(1, { values: [3, 1] }),
      trial(2, { values: [4, 4] }),
      trial(3, { values: [0, 0], constraints: [0.5] }),
      trial(4, { state: "FAIL" }),
      trial(5, { values: [2, 2], constraints: [0, -1] }),
    ];
    const p = paretoPlot(trials, [1, 0, 5], [0, 1]);
    expect(p.front.map((q) => q.number)).toEqual([0, 5, 1]);
    expect(p.dominated.map((q) => q.number)).toEqual([2]);
    expect(p.infeasible.map((q) => q.number)).toEqual([3]);
  });

  it("plots the objectives asked for", () => {
    const p = paretoPlot([trial(0, { values: [1, 2, 3] })], [0], [2, 0]);
    expect(p.front[0]).toMatchObject({ x: 3, y: 1 });
  });
});

describe("learning curves", () => {
  it("aligns every reporting trial on the union of steps and marks where each stopped", () => {
    const trials = [
      trial(1, { state: "PRUNED", intermediate_values: [{ step: 0, value: 0.9 }, { step: 1, value: 0.8 }] }),
      trial(0, { intermediate_values: [{ step: 0, value: 1 }, { step: 2, value: 0.5 }, { step: 3, value: null }] }),
      trial(2, { state: "RUNNING" }),
    ];
    const c = learningCurves(trials);
    expect(c.steps).toEqual([0, 1, 2, 3]);
    expect(c.curves.map((k) => [k.number, k.state, k.y, k.lastStep])).toEqual([
      [0, "COMPLETE", [1, null, 0.5, null], 2],
      [1, "PRUNED", [0.9, 0.8, null, null], 1],
    ]);
  });
});

describe("colour scale", () => {
  it("runs from the dark end to the bright end and clamps", () => {
    expect(rampColor(0)).toBe("#440154");
    expect(rampColor(1)).toBe("#fde725");
    expect(rampColor(-3)).toBe("#440154");
    expect(rampColor(0.5)).toBe("#21918c");
  });

  it("gives the best value the bright end whichever the direction", () => {
    expect(valueColorer(0, 10, "minimize")(0)).toBe("#fde725");
    expect(valueColorer(0, 10, "maximize")(10)).toBe("#fde725");
    expect(valueColorer(3, 3, "minimize")(3)).toBe(rampColor(0.5));
  });
});

describe("trial table rows", () => {
  const trials = [
    trial(0, { values: [3], params: { o: "b" } }),
    trial(1, { state: "PRUNED", params: { o: "a" } }),
    trial(2, { values: [1], params: {} }),
    trial(3, { state: "RUNNING", complete_time: null, params: { o: "c" } }),
  ];

  it("filters by state", () => {
    expect(trialRows(trials, new Set(["PRUNED", "RUNNING"]), { kind: "number" }, true).map((t) => t.number)).toEqual([1, 3]);
    expect(trialRows(trials, new Set(), { kind: "number" }, false).map((t) => t.number)).toEqual([3, 2, 1, 0]);
  });

  it("sorts by value and param with missing values last either way", () => {
    expect(trialRows(trials, null, { kind: "value", objective: 0 }, true).map((t) => t.number)).toEqual([2, 0, 1, 3]);
    expect(trialRows(trials, null, { kind: "value", objective: 0 }, false).map((t) => t.number)).toEqual([0, 2, 1, 3]);
    expect(trialRows(trials, null, { kind: "param", name: "o" }, false).map((t) => t.number)).toEqual([3, 0, 1, 2]);
    expect(trialRows(trials, null, { kind: "duration" }, true).map((t) => t.number)).toEqual([0, 1, 2, 3]);
  });
});
