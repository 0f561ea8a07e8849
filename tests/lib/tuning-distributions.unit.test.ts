import { describe, expect, it } from "vitest";
import {
  type Distribution,
  DistributionError,
  compatible,
  contains,
  distributionToJson,
  distributionsEqual,
  fromTransformed,
  isSingle,
  parseDistribution,
  roundHalfEven,
  singleValue,
  toExternal,
  toInternal,
  toTransformed,
  transformedBounds,
} from "../../worker/lib/tuning/distributions";

const parse = (json: unknown) => parseDistribution(json).distribution;

function expectInvalid(json: unknown, message: RegExp) {
  expect(() => parseDistribution(json)).toThrow(DistributionError);
  expect(() => parseDistribution(json)).toThrow(message);
}

describe("parseDistribution: validation", () => {
  it("fills defaults: log=false, float step=null, int step=1", () => {
    expect(parse({ type: "float", low: -1, high: 2 })).toEqual({ type: "float", low: -1, high: 2, log: false, step: null });
    expect(parse({ type: "int", low: 0, high: 5 })).toEqual({ type: "int", low: 0, high: 5, log: false, step: 1 });
    expect(parse({ type: "float", low: 1, high: 2, log: null, step: null })).toEqual({
      type: "float",
      low: 1,
      high: 2,
      log: false,
      step: null,
    });
  });

  it("rejects low > high, non-positive log bounds, log with step, bad steps", () => {
    expectInvalid({ type: "float", low: 2, high: 1 }, /low <= high/);
    expectInvalid({ type: "int", low: 3, high: 1 }, /low <= high/);
    expectInvalid({ type: "float", low: 0, high: 1, log: true }, /low > 0/);
    expectInvalid({ type: "float", low: -1, high: 1, log: true }, /low > 0/);
    expectInvalid({ type: "int", low: 0, high: 10, log: true }, /low >= 1/);
    expectInvalid({ type: "float", low: 1, high: 2, log: true, step: 0.5 }, /step.*log/);
    expectInvalid({ type: "int", low: 1, high: 8, log: true, step: 2 }, /step.*1.*log/);
    expectInvalid({ type: "float", low: 0, high: 1, step: 0 }, /step > 0/);
    expectInvalid({ type: "float", low: 0, high: 1, step: -0.5 }, /step > 0/);
    expectInvalid({ type: "int", low: 0, high: 4, step: 0 }, /step > 0/);
  });

  it("rejects wrong types, non-finite numbers, non-integers for int, unknown fields and types", () => {
    expectInvalid(null, /JSON object/);
    expectInvalid([1, 2], /JSON object/);
    expectInvalid({ type: "uniform", low: 0, high: 1 }, /type/);
    expectInvalid({ low: 0, high: 1 }, /type/);
    expectInvalid({ type: "float", low: "0", high: 1 }, /low.*finite number/);
    expectInvalid({ type: "float", low: 0 }, /high.*finite number/);
    expectInvalid({ type: "float", low: 0, high: Infinity }, /high.*finite/);
    expectInvalid({ type: "float", low: NaN, high: 1 }, /low/);
    expectInvalid({ type: "int", low: 0.5, high: 3 }, /integer/);
    expectInvalid({ type: "int", low: 0, high: 3, step: 1.5 }, /integer/);
    expectInvalid({ type: "float", low: 0, high: 1, log: "yes" }, /log.*boolean/);
    expectInvalid({ type: "float", low: 0, high: 1, q: 0.1 }, /Unknown field.*q/);
    expectInvalid({ type: "categorical", choices: ["a"], low: 0 }, /Unknown field.*low/);
  });

  it("categorical: non-empty array of JSON scalars", () => {
    expect(parse({ type: "categorical", choices: [null, true, 1.5, "x"] })).toEqual({
      type: "categorical",
      choices: [null, true, 1.5, "x"],
    });
    expectInvalid({ type: "categorical", choices: [] }, /one or more/);
    expectInvalid({ type: "categorical", choices: "abc" }, /array/);
    expectInvalid({ type: "categorical" }, /array/);
    expectInvalid({ type: "categorical", choices: [1, [2]] }, /choices\[1\]/);
    expectInvalid({ type: "categorical", choices: [{ a: 1 }] }, /choices\[0\]/);
    expectInvalid({ type: "categorical", choices: [NaN] }, /choices\[0\]/);
  });

  it("moves `high` down onto the step grid and warns, exactly as Optuna does", () => {
    // Values from Optuna 4.8.0: FloatDistribution(low, high, step=...).high / IntDistribution(...).high.
    const floats: [number, number, number, number][] = [
      [0, 1, 0.3, 0.9],
      [0.1, 1.0, 0.2, 0.9],
      [-1.5, 2.0, 0.7, 2.0],
      [0, 0.35, 0.1, 0.3],
      [1e-3, 2e-3, 3e-4, 0.0019],
      [0, 1, 0.1, 1.0],
      [0, 0.5, 1, 0.0],
    ];
    for (const [low, high, step, want] of floats) {
      const { distribution, warnings } = parseDistribution({ type: "float", low, high, step });
      expect(distribution).toMatchObject({ low, high: want, step });
      expect(warnings.length).toBe(want === high ? 0 : 1);
    }
    const ints: [number, number, number, number][] = [
      [0, 10, 3, 9],
      [-7, 5, 4, 5],
      [1, 1, 5, 1],
      [0, 2, 5, 0],
    ];
    for (const [low, high, step, want] of ints) {
      const { distribution, warnings } = parseDistribution({ type: "int", low, high, step });
      expect(distribution).toMatchObject({ low, high: want, step });
      expect(warnings.length).toBe(want === high ? 0 : 1);
    }
    expect(parseDistribution({ type: "int", low: 0, high: 10, step: 3 }).warnings[0]).toMatch(/\[0, 10\].*\[0, 9\]/);
  });

  it("round-trips through distributionToJson", () => {
    const all: unknown[] = [
      { type: "float", low: 1e-5, high: 1, log: true },
      { type: "float", low: 0, high: 1, step: 0.25 },
      { type: "int", low: -3, high: 9, step: 3 },
      { type: "categorical", choices: ["a", null, false, 2] },
    ];
    for (const j of all) {
      const d = parse(j);
      expect(parse(JSON.parse(JSON.stringify(distributionToJson(d))))).toEqual(d);
    }
  });
});

describe("membership and representations", () => {
  const grid = parse({ type: "float", low: 0, high: 1, step: 0.1 });
  const logF = parse({ type: "float", low: 1e-3, high: 10, log: true });
  const int3 = parse({ type: "int", low: -2, high: 10, step: 3 });
  const cat = parse({ type: "categorical", choices: [true, 1, "1", null] });

  it("float grid membership tolerates float sums (1e-8 steps), like Optuna's _contains", () => {
    // Optuna 4.8.0 FloatDistribution(0, 1, step=0.1)._contains(v) for these v: True, False, True, False, True.
    expect([0.30000000000000004, 0.3 + 1e-7, 1.0, 1.05, 0.7].map((v) => contains(grid, v))).toEqual([
      true,
      false,
      true,
      false,
      true,
    ]);
    expect(contains(grid, -0.1)).toBe(false);
    expect(contains(grid, "0.5")).toBe(false);
    expect(contains(grid, NaN)).toBe(false);
  });

  it("log and int membership", () => {
    expect(contains(logF, 1e-3)).toBe(true);
    expect(contains(logF, 10)).toBe(true);
    expect(contains(logF, 1e-4)).toBe(false);
    expect([-2, 1, 4, 7, 10].every((v) => contains(int3, v))).toBe(true);
    expect([-1, 0, 2, 11, 4.5, -5].some((v) => contains(int3, v))).toBe(false);
  });

  it("categorical membership is strict: true, 1 and '1' are different choices", () => {
    expect(toInternal(cat, true)).toBe(0);
    expect(toInternal(cat, 1)).toBe(1);
    expect(toInternal(cat, "1")).toBe(2);
    expect(toInternal(cat, null)).toBe(3);
    expect(contains(cat, false)).toBe(false);
    expect(contains(cat, undefined)).toBe(false);
    expect(() => toInternal(cat, "x")).toThrow(DistributionError);
    expect(toExternal(cat, 2)).toBe("1");
    expect(() => toExternal(cat, 4)).toThrow(DistributionError);
  });

  it("internal representation of numbers, with log domain checks", () => {
    expect(toInternal(int3, 4)).toBe(4);
    expect(toExternal(int3, 4)).toBe(4);
    expect(() => toInternal(logF, 0)).toThrow(/log/);
    expect(() => toInternal(grid, "0.1")).toThrow(DistributionError);
  });

  it("transformed bounds: log, ±step/2 for grids, ln(low−½)..ln(high+½) for log ints", () => {
    expect(transformedBounds(grid as never)).toEqual({ low: -0.05, high: 1.05 });
    const b = transformedBounds(logF as never);
    expect(b.low).toBeCloseTo(Math.log(1e-3), 15);
    expect(b.high).toBeCloseTo(Math.log(10), 15);
    expect(transformedBounds(int3 as never)).toEqual({ low: -3.5, high: 11.5 });
    const li = parse({ type: "int", low: 1, high: 100, log: true });
    expect(transformedBounds(li as never)).toEqual({ low: Math.log(0.5), high: Math.log(100.5) });
    expect(toTransformed(logF as never, 1)).toBe(0);
  });

  it("fromTransformed snaps to the grid, rounds ints and keeps continuous floats below high", () => {
    expect(fromTransformed(int3 as never, 5.4)).toBe(4);
    expect(fromTransformed(int3 as never, 5.6)).toBe(7);
    expect(fromTransformed(int3 as never, 11.49)).toBe(10);
    expect(fromTransformed(int3 as never, -3.5)).toBe(-2);
    const li = parse({ type: "int", low: 1, high: 100, log: true }) as never;
    expect(fromTransformed(li, Math.log(100.4))).toBe(100);
    expect(fromTransformed(li, Math.log(0.6))).toBe(1);
    expect(fromTransformed(li, Math.log(2.5))).toBe(2); // half to even
    const f = parse({ type: "float", low: 0, high: 1 }) as never;
    const top = fromTransformed(f, 1);
    expect(top).toBeLessThan(1);
    expect(top).toBeGreaterThan(1 - 1e-15);
    expect(fromTransformed(logF as never, Math.log(10))).toBeLessThan(10);
    for (let x = -0.05; x <= 1.05; x += 0.013) expect(contains(grid, fromTransformed(grid as never, x))).toBe(true);
  });

  it("roundHalfEven matches numpy.round on halves", () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, -2, 2, 3]);
  });

  it("isSingle, singleValue, compatibility and equality", () => {
    expect(isSingle(parse({ type: "float", low: 0, high: 0.5, step: 1 }))).toBe(true);
    expect(isSingle(parse({ type: "int", low: 0, high: 2, step: 5 }))).toBe(true);
    expect(isSingle(parse({ type: "float", low: 2, high: 2 }))).toBe(true);
    expect(isSingle(grid)).toBe(false);
    expect(isSingle(parse({ type: "categorical", choices: ["only"] }))).toBe(true);
    expect(singleValue(parse({ type: "categorical", choices: ["only"] }))).toBe("only");
    const a: Distribution = parse({ type: "float", low: 0, high: 1 });
    const b: Distribution = parse({ type: "float", low: -5, high: 5 });
    expect(compatible(a, b)).toBe(true);
    expect(distributionsEqual(a, b)).toBe(false);
    expect(compatible(a, logF)).toBe(false);
    expect(compatible(a, int3)).toBe(false);
    expect(compatible(cat, parse({ type: "categorical", choices: [true, 1, "1", null] }))).toBe(true);
    expect(compatible(cat, parse({ type: "categorical", choices: [1, true, "1", null] }))).toBe(false);
  });
});
