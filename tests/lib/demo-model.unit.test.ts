/**
 * The demo's market model: features use only data known at each day's close (changing later bars
 * changes no earlier feature), the logistic regression learns a signal that is there and reports every
 * epoch, and the lineage chain printed at the end goes through the model version.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FEATURES, featureRows, featuresToCsv, monthlyTechReturns, parseDailyBars, parseFeaturesCsv, predictProba, score, shiftMonth, timeSplit, train, type Bar, type FeatureRow } from "../../cli/demo/model";
import { lineagePath } from "../../cli/demo/tasks";

const data = join(import.meta.dirname, "..", "..", "node_modules", "vega-datasets", "data");
const bars = parseDailyBars(readFileSync(join(data, "sp500-2000.csv"), "utf8"));
const tech = monthlyTechReturns(readFileSync(join(data, "stocks.csv"), "utf8"));

describe("features", () => {
  it("reads the real files: daily bars in date order and monthly tech returns", () => {
    expect(bars[0]).toMatchObject({ date: "2000-01-03", close: 1455.219971 });
    expect(bars.every((b, i) => i === 0 || bars[i - 1].date < b.date)).toBe(true);
    // MSFT, AMZN, IBM, AAPL (GOOG listed later): Feb 2000 over Jan 2000.
    const feb = ["MSFT", "AMZN", "IBM", "AAPL"].length;
    expect(tech.get("2000-02")).toBeCloseTo((Math.log(36.35 / 39.81) + Math.log(68.87 / 64.56) + Math.log(92.11 / 100.52) + Math.log(28.66 / 25.94)) / feb, 10);
    expect(tech.has("2000-01")).toBe(false);
    expect(shiftMonth("2008-01", -1)).toBe("2007-12");
    expect(shiftMonth("2007-12", 1)).toBe("2008-01");
  });

  it("uses no data from after the day: later bars change only the target of the last known day", () => {
    const upTo = bars.filter((b) => b.date <= "2008-10-31");
    const rows = featureRows(upTo, tech, "2008-10-01", "2008-10-31");
    expect(rows.length).toBe(23);
    expect(rows.at(-1)!.target).toBeNull();
    const altered: Bar[] = [...upTo, ...bars.filter((b) => b.date > "2008-10-31" && b.date <= "2008-11-30").map((b) => ({ ...b, close: b.close * 3, volume: 1 }))];
    const again = featureRows(altered, tech, "2008-10-01", "2008-10-31");
    expect(again.map((r) => r.values)).toEqual(rows.map((r) => r.values));
    expect(again.slice(0, -1).map((r) => r.target)).toEqual(rows.slice(0, -1).map((r) => r.target));
    expect(again.at(-1)!.target).toBe(1);
    // ret_1 is the day's own log return.
    const i = upTo.findIndex((b) => b.date === rows[0].date);
    expect(rows[0].values[0]).toBeCloseTo(Math.log(upTo[i].close / upTo[i - 1].close), 12);
  });

  it("round-trips through CSV with and without the target", () => {
    const rows = featureRows(bars, tech, "2004-01-01", "2004-03-31");
    const back = parseFeaturesCsv(featuresToCsv(rows, true));
    expect(back.map((r) => r.target)).toEqual(rows.map((r) => r.target));
    back.forEach((r, k) => r.values.forEach((v, j) => expect(v).toBeCloseTo(rows[k].values[j], 6)));
    expect(parseFeaturesCsv(featuresToCsv(rows, false)).every((r) => r.target === null)).toBe(true);
    expect(featuresToCsv(rows, false).split("\n")[0]).toBe(["date", ...FEATURES].join(","));
  });
});

describe("logistic regression", () => {
  /** Rows whose direction follows ret_1's sign with some noise, in a fixed pseudo-random order. */
  function synthetic(n: number): FeatureRow[] {
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5;
    return Array.from({ length: n }, (_, k) => {
      const values = FEATURES.map(() => rand());
      return { date: `d${k}`, values, target: values[0] + 0.1 * rand() > 0 ? 1 : 0 };
    });
  }

  it("learns a signal that is there, reporting each epoch, and can be stopped early", async () => {
    const { train: tr, validation } = timeSplit(synthetic(500), 0.2);
    expect(tr.length).toBe(400);
    const epochs: number[] = [];
    const model = await train(tr, validation, { lr: 0.5, l2: 0.001, epochs: 60, lags: 1 }, ({ epoch, validation: v }) => {
      epochs.push(epoch);
      expect(v).not.toBeNull();
    });
    expect(epochs).toEqual(Array.from({ length: 60 }, (_, k) => k + 1));
    expect(model.features).toEqual(["ret_1", "mom_20", "vol_20", "range_1", "volume_ratio", "tech_mom"]);
    const s = score(model, validation);
    expect(s.accuracy).toBeGreaterThan(0.85);
    expect(s.logloss).toBeLessThan(Math.log(2));
    const p = predictProba(model, [{ date: "x", values: FEATURES.map((_, j) => (j === 0 ? 0.4 : 0)), target: null }]);
    expect(p[0]).toBeGreaterThan(0.5);
    const stopped: number[] = [];
    await train(tr, validation, { lr: 0.5, l2: 0.001, epochs: 60, lags: 5 }, ({ epoch }) => (stopped.push(epoch), epoch < 3));
    expect(stopped).toEqual([1, 2, 3]);
  });

  it("refuses to train on too few labelled rows", async () => {
    await expect(train(synthetic(5), [], { lr: 0.1, l2: 0, epochs: 1, lags: 5 })).rejects.toThrow("too few labelled rows");
  });
});

describe("lineagePath", () => {
  it("follows the chain through the model version, not a dataset's version history", () => {
    const n = (id: string, kind: string, label: string) => ({ id, kind, label });
    const graph = {
      nodes: [
        n("dataset_version:t1", "dataset_version", "train v1"),
        n("run:r", "run", "fit"),
        n("model_version:m/1", "model_version", "m v1"),
        n("dataset_version:b1", "dataset_version", "batch v1"),
        n("dataset_version:b2", "dataset_version", "batch v2"),
        n("pipeline_run:p", "pipeline_run", "predict"),
        n("dataset_version:p1", "dataset_version", "pred v1"),
      ],
      edges: [
        { from: "dataset_version:t1", to: "run:r", kind: "input" },
        { from: "run:r", to: "model_version:m/1", kind: "produced" },
        { from: "model_version:m/1", to: "pipeline_run:p", kind: "used_model" },
        { from: "dataset_version:b1", to: "dataset_version:b2", kind: "parent_version" },
        { from: "dataset_version:b2", to: "pipeline_run:p", kind: "predicted" },
        { from: "pipeline_run:p", to: "dataset_version:p1", kind: "predictions" },
      ],
    };
    expect(lineagePath(graph, "dataset_version:p1")).toEqual([
      "train v1 (dataset_version)",
      "--input--> fit (run)",
      "--produced--> m v1 (model_version)",
      "--used_model--> predict (pipeline_run)",
      "--predictions--> pred v1 (dataset_version)",
    ]);
    expect(lineagePath(graph, "dataset_version:t1")).toBeNull();
  });
});
