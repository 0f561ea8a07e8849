import { describe, expect, it } from "vitest";
import { compareRuns, type RunFacts } from "../../worker/lib/projects/compare";

const facts = (over: Partial<RunFacts> = {}): RunFacts => ({
  run_id: "a",
  status: "FINISHED",
  params: { alpha: "0.5", target: "close" },
  metrics: { rmse: 0.25, rows: 40 },
  data: [{ name: "prices", version: "prices@3" }],
  artifacts: [
    { path: "model/weights.txt", size: 6, hash: "h1" },
    { path: "tern/output.log", size: 20, hash: "log1" },
  ],
  artifacts_truncated: false,
  ...over,
});

describe("compareRuns", () => {
  it("calls identical runs reproduced, leaving Tern's own records out of the artifacts", () => {
    const c = compareRuns(facts(), facts({ run_id: "b", artifacts: [{ path: "model/weights.txt", size: 6, hash: "h1" }, { path: "tern/output.log", size: 30, hash: "log2" }] }));
    expect(c.reproduced).toBe(true);
    expect(c.params).toEqual({ equal: true, rows: [{ key: "alpha", original: "0.5", reproduction: "0.5", equal: true }, { key: "target", original: "close", reproduction: "close", equal: true }] });
    expect(c.data.rows).toEqual([{ key: "prices", original: "prices@3", reproduction: "prices@3", equal: true }]);
    expect(c.metrics.equal).toBe(true);
    expect(c.metrics.rows[0]).toEqual({ key: "rmse", original: 0.25, reproduction: 0.25, difference: 0, relative_difference: 0, equal: true });
    expect(c.artifacts).toEqual({ equal: true, compared: 1, differing: [], truncated: false });
  });

  it("shows metric differences, missing metrics and differing or one-sided artifacts without changing the verdict", () => {
    const c = compareRuns(
      facts(),
      facts({
        run_id: "b",
        status: "RUNNING",
        metrics: { rmse: 0.2625, extra: 1 },
        artifacts: [{ path: "model/weights.txt", size: 6, hash: "h2" }, { path: "model/new.txt", size: 1, hash: "n" }],
        artifacts_truncated: true,
      }),
    );
    expect(c.reproduced).toBe(true);
    expect(c.reproduction).toEqual({ run_id: "b", status: "RUNNING" });
    const rows = Object.fromEntries(c.metrics.rows.map((r) => [r.key, r]));
    expect(rows.rmse.difference).toBeCloseTo(0.0125, 12);
    expect(rows.rmse.relative_difference).toBeCloseTo(0.05, 12);
    expect(rows.rows).toEqual({ key: "rows", original: 40, reproduction: null, difference: null, relative_difference: null, equal: false });
    expect(rows.extra).toMatchObject({ original: null, reproduction: 1, equal: false });
    expect(c.artifacts.differing).toEqual([
      { path: "model/new.txt", original: null, reproduction: { size: 1, hash: "n" } },
      { path: "model/weights.txt", original: { size: 6, hash: "h1" }, reproduction: { size: 6, hash: "h2" } },
    ]);
    expect(c.artifacts.truncated).toBe(true);
  });

  it("is not a reproduction when a param or a data version differs", () => {
    const p = compareRuns(facts(), facts({ run_id: "b", params: { alpha: "0.6", target: "close" } }));
    expect(p.reproduced).toBe(false);
    expect(p.params.rows[0]).toEqual({ key: "alpha", original: "0.5", reproduction: "0.6", equal: false });
    const d = compareRuns(facts(), facts({ run_id: "b", data: [{ name: "prices", version: "prices@4" }] }));
    expect(d.reproduced).toBe(false);
    expect(d.data.rows).toEqual([{ key: "prices", original: "prices@3", reproduction: "prices@4", equal: false }]);
    const several = compareRuns(facts({ data: [{ name: "p", version: "p@2" }, { name: "p", version: "p@1" }] }), facts({ run_id: "b", data: [{ name: "p", version: "p@1" }, { name: "p", version: "p@2" }] }));
    expect(several.data.rows).toEqual([{ key: "p", original: "p@1, p@2", reproduction: "p@1, p@2", equal: true }]);
  });

  it("treats NaN (null) metrics on both sides as equal and a zero original as having no relative difference", () => {
    const c = compareRuns(facts({ metrics: { loss: null, zero: 0 } }), facts({ run_id: "b", metrics: { loss: null, zero: 0.5 } }));
    expect(c.metrics.rows).toEqual([
      { key: "loss", original: null, reproduction: null, difference: null, relative_difference: null, equal: true },
      { key: "zero", original: 0, reproduction: 0.5, difference: 0.5, relative_difference: null, equal: false },
    ]);
  });
});
