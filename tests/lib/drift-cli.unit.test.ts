/**
 * `tern drift` as a user runs it: the real CLI spawned with Node on generated CSV and Parquet files
 * (a drifted column, a stable one, a constant one, a categorical one, one that is empty in the current
 * file), its table, its JSON against driftReport computed in-process on the same cells, --all-tests,
 * and exit code 2 for missing, unreadable and unrelated files.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parquetWriteBuffer } from "hyparquet-writer";
import { driftReport, STATTESTS, type RawValue } from "../../worker/lib/drift";
import { mulberry32 } from "../../worker/lib/random";

const CLI = join(__dirname, "..", "..", "cli", "tern.mjs");

type Columns = Record<string, RawValue[]>;

/** Cells rounded to the text the CSV holds, so the in-process run sees exactly what the CLI reads. */
function generate(rows: number, seed: number, current: boolean): Columns {
  const r = mulberry32(seed);
  const cols: Columns = { shifted: [], stable: [], constant: [], colour: [], empty: [] };
  const colours = ["red", "green", "blue"];
  for (let i = 0; i < rows; i++) {
    cols.shifted.push(Number((r() * 10 + (current ? 6 : 0)).toFixed(4)));
    cols.stable.push(Number((r() * 10).toFixed(4)));
    cols.constant.push(2.5);
    cols.colour.push(colours[Math.floor(r() * 3)]);
    cols.empty.push(current ? null : Number((r() * 3).toFixed(3)));
  }
  return cols;
}

function toCsv(cols: Columns): string {
  const names = Object.keys(cols);
  const lines = [names.join(",")];
  for (let i = 0; i < cols[names[0]].length; i++) lines.push(names.map((n) => (cols[n][i] === null ? "" : String(cols[n][i]))).join(","));
  return `${lines.join("\n")}\n`;
}

function toParquet(cols: Columns): ArrayBuffer {
  return parquetWriteBuffer({
    columnData: Object.entries(cols).map(([name, data]) =>
      typeof data.find((v) => v !== null) === "string" ? { name, data, type: "STRING" as const } : { name, data, type: "DOUBLE" as const },
    ),
  });
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function tern(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, "drift", ...args], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const plain = (x: unknown): unknown => JSON.parse(JSON.stringify(x));

let dir: string;
let ref: Columns;
let cur: Columns;
const file = (name: string) => join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tern-drift-cli-"));
  ref = generate(400, 1, false);
  cur = generate(300, 2, true);
  writeFileSync(file("ref.csv"), toCsv(ref));
  writeFileSync(file("cur.csv"), toCsv(cur));
  writeFileSync(file("ref.parquet"), new Uint8Array(toParquet(ref)));
  writeFileSync(file("cur.parquet"), new Uint8Array(toParquet(cur)));
  writeFileSync(file("other.csv"), "a,b\n1,2\n3,4\n");
  writeFileSync(file("broken.parquet"), "this is not parquet");
  writeFileSync(file("blank.csv"), "");
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("tern drift", () => {
  it("prints a table: per column type, method, threshold, score and decision, errors as errors, and the dataset line", async () => {
    const run = await tern(file("ref.csv"), file("cur.csv"));
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const lines = run.stdout.split("\n");
    expect(lines[0].split(/\s+/)).toEqual(["column", "type", "method", "threshold", "score", "drifted"]);
    const row = (name: string) => lines.find((l) => l.startsWith(`${name} `)) ?? "";
    expect(row("shifted")).toMatch(/^shifted\s+num\s+K-S p_value\s+0\.05\s+\S+\s+yes$/);
    expect(row("stable")).toMatch(/^stable\s+num\s+K-S p_value\s+0\.05\s+\S+\s+no$/);
    expect(row("constant")).toMatch(/\s+no$/);
    expect(row("colour")).toMatch(/^colour\s+cat\s+chi-square p_value\s+0\.05\s+\S+\s+no$/);
    expect(row("empty")).toMatch(/error EMPTY_COLUMN: .*'empty'.*current/);
    expect(run.stdout).toContain("Drift is detected for 25% of columns (1 of 4).");
    expect(run.stdout).toContain("Dataset drift not detected");
    expect(run.stdout).toContain("1 column(s) could not be tested");
  });

  it("prints JSON equal to driftReport run in-process on the same cells", async () => {
    const run = await tern(file("ref.csv"), file("cur.csv"), "--json");
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout);
    expect(json).toEqual(plain(driftReport({ reference: ref, current: cur })));
    const shifted = json.columns.find((c: { column: string }) => c.column === "shifted");
    expect(shifted).toMatchObject({ type: "num", method: "ks", threshold: 0.05, drifted: true, reference_rows: 400, current_rows: 300 });
    expect(shifted.score).toBeLessThan(1e-10);
    expect(shifted.tests).toBeUndefined();
    expect(json.dataset).toMatchObject({ numberOfColumns: 4, numberOfDriftedColumns: 1, datasetDrift: false });
    expect(json.failed_columns).toBe(1);
  });

  it("--all-tests lists every applicable test with its statistic and p-value under Evidently's names", async () => {
    const run = await tern(file("ref.csv"), file("cur.csv"), "--json", "--all-tests");
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout);
    expect(json).toEqual(plain(driftReport({ reference: ref, current: cur, allTests: true })));
    const tests = json.columns.find((c: { column: string }) => c.column === "shifted").tests as { method: string; statistic?: number; p_value?: number; display_name: string }[];
    const numeric = Object.values(STATTESTS).filter((s) => s.columnTypes.includes("num"));
    expect(tests.map((t) => t.method).sort()).toEqual(numeric.map((s) => s.name).sort());
    const ks = tests.find((t) => t.method === "ks");
    expect(ks?.display_name).toBe("K-S p_value");
    // Uniform on [0, 10] against [6, 16]: the KS distance is the non-overlapping 60%.
    expect(ks?.statistic).toBeGreaterThan(0.5);
    expect(ks?.statistic).toBeLessThan(0.7);
    expect(ks?.p_value).toBeLessThan(1e-10);
    for (const t of tests) expect(t.display_name).toBe(STATTESTS[t.method as keyof typeof STATTESTS].displayName);
    const colour = json.columns.find((c: { column: string }) => c.column === "colour").tests as { method: string }[];
    expect(colour.map((t) => t.method).sort()).toEqual(Object.values(STATTESTS).filter((s) => s.columnTypes.includes("cat")).map((s) => s.name).sort());

    const table = await tern(file("ref.csv"), file("cur.csv"), "--all-tests");
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ {2}shifted\s+ks\s+0\.05\s+\S+\s+statistic=0\.6\d*\s+p_value=\S+\s+drifted$/m);
    expect(table.stdout).toMatch(/^ {2}stable\s+t_test\s+0\.05\s+\S+\s+statistic=\S+\s+p_value=\S+\s+not drifted$/m);
  });

  it("reads Parquet to the same report as the CSV of the same data", async () => {
    const fromParquet = await tern(file("ref.parquet"), file("cur.parquet"), "--json");
    const fromCsv = await tern(file("ref.csv"), file("cur.csv"), "--json");
    expect(fromParquet.code).toBe(0);
    expect(JSON.parse(fromParquet.stdout)).toEqual(JSON.parse(fromCsv.stdout));
  });

  it("exits with 2 and says why on a missing file, an unreadable file, no common column, or a missing argument", async () => {
    const missing = await tern(file("ref.csv"), file("nope.csv"));
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe("");
    expect(missing.stderr).toMatch(/current file .*nope\.csv does not exist/);

    const missingRef = await tern(file("nope.csv"), file("cur.csv"));
    expect(missingRef.code).toBe(2);
    expect(missingRef.stderr).toMatch(/reference file .*nope\.csv does not exist/);

    const broken = await tern(file("broken.parquet"), file("cur.csv"));
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/broken\.parquet: Could not read the Parquet file/);

    const blank = await tern(file("ref.csv"), file("blank.csv"), "--json");
    expect(blank.code).toBe(2);
    expect(blank.stderr).toMatch(/blank\.csv: The file is empty/);

    const unrelated = await tern(file("ref.csv"), file("other.csv"));
    expect(unrelated.code).toBe(2);
    expect(unrelated.stderr).toContain("no column in common");

    const oneFile = await tern(file("ref.csv"));
    expect(oneFile.code).toBe(2);
    expect(oneFile.stderr).toContain("missing required argument 'current'");

    const directory = await tern(dir, file("cur.csv"));
    expect(directory.code).toBe(2);
    expect(directory.stderr).toContain("is not a file");
  });
});

describe("tern drift overrides", () => {
  const json = async (...args: string[]) => {
    const run = await tern(file("ref.csv"), file("cur.csv"), "--json", ...args);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    return JSON.parse(run.stdout);
  };
  const byColumn = (report: { columns: { column: string }[] }) => Object.fromEntries(report.columns.map((c) => [c.column, c])) as Record<string, any>;

  it("--method and --threshold per column equal driftReport with those settings", async () => {
    const got = await json("--method", "shifted=psi", "--method", "colour=jensenshannon", "--threshold", "shifted=5", "--threshold", "stable=0.9");
    const want = driftReport({ reference: ref, current: cur, settings: { shifted: { method: "psi", threshold: 5 }, colour: { method: "jensenshannon" }, stable: { threshold: 0.9 } } });
    expect(got).toEqual(plain(want));
    const cols = byColumn(got);
    expect(cols.shifted).toMatchObject({ method: "psi", threshold: 5 });
    expect(cols.colour).toMatchObject({ method: "jensenshannon", threshold: 0.1 });
    expect(cols.stable).toMatchObject({ method: "ks", threshold: 0.9 });
  });

  it("--methods-all applies to every column whose type it supports; --method wins over it", async () => {
    const got = byColumn(await json("--methods-all", "wasserstein", "--method", "stable=ks"));
    expect(got.shifted.method).toBe("wasserstein");
    expect(got.stable.method).toBe("ks");
    // wasserstein is numeric-only: the categorical column keeps Evidently's default.
    expect(got.colour.method).toBe("chisquare");
    const both = byColumn(await json("--methods-all", "psi"));
    expect([both.shifted.method, both.colour.method]).toEqual(["psi", "psi"]);
  });

  it("--drift-share decides the dataset verdict; --columns picks and orders the columns", async () => {
    // One of four scored columns drifts: 0.25 >= 0.25 is dataset drift, 0.25 < 0.5 is not.
    expect((await json("--drift-share", "0.25")).dataset).toMatchObject({ driftShare: 0.25, datasetDrift: true });
    expect((await json()).dataset.datasetDrift).toBe(false);
    const some = await json("--columns", "colour,shifted");
    expect(some.columns.map((c: { column: string }) => c.column)).toEqual(["colour", "shifted"]);
    expect(some.dataset).toMatchObject({ numberOfColumns: 2, numberOfDriftedColumns: 1, datasetDrift: true });
    const table = await tern(file("ref.csv"), file("cur.csv"), "--columns", "shifted", "--drift-share", "1");
    expect(table.stdout).toContain("Drift is detected for 100% of columns (1 of 1).");
    expect(table.stdout).toContain("Dataset drift detected (drift share 1).");
  });

  it("--target and --prediction report model quality for reference and current", async () => {
    const mk = (n: number, seed: number, noise: number) => {
      const r = mulberry32(seed);
      const rows = ["x,label,guess,proba,y,yhat"];
      for (let i = 0; i < n; i++) {
        const x = r();
        const label = x > 0.5 ? 1 : 0;
        const flip = r() < noise;
        const guess = flip ? 1 - label : label;
        const proba = flip ? 1 - x : x;
        const y = 3 * x;
        rows.push(`${x},${label},${guess},${proba},${y},${y + (r() - 0.5) * noise}`);
      }
      return `${rows.join("\n")}\n`;
    };
    writeFileSync(file("model-ref.csv"), mk(300, 5, 0.05));
    writeFileSync(file("model-cur.csv"), mk(300, 6, 0.3));
    const run = async (...args: string[]) => {
      const r = await tern(file("model-ref.csv"), file("model-cur.csv"), ...args);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      return r.stdout;
    };
    const cls = JSON.parse(await run("--json", "--target", "label", "--prediction", "guess")).performance;
    expect(cls).toMatchObject({ task: "classification", target: "label", prediction: "guess" });
    expect(cls.reference.classification.accuracy).toBeGreaterThan(0.9);
    expect(cls.current.classification.accuracy).toBeLessThan(0.8);
    expect(cls.current.classification.confusionMatrix).toHaveLength(2);
    const probs = JSON.parse(await run("--json", "--target", "label", "--prediction", "proba")).performance;
    expect(probs.reference.classification.rocAuc).toBeGreaterThan(0.9);
    expect(probs.reference.classification.logLoss).toBeGreaterThan(0);
    const reg = JSON.parse(await run("--json", "--target", "y", "--prediction", "yhat")).performance;
    expect(reg.task).toBe("regression");
    expect(reg.reference.regression.mae).toBeLessThan(reg.current.regression.mae);
    const table = await run("--target", "y", "--prediction", "yhat");
    expect(table).toMatch(/Model quality \(regression; target y, prediction yhat\):/);
    expect(table).toMatch(/^MAE\s+\S+\s+\S+$/m);
  });

  it("exits with 2 and says why on a bad override", async () => {
    const bad = async (args: string[], message: RegExp) => {
      const run = await tern(file("ref.csv"), file("cur.csv"), ...args);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(message);
    };
    await bad(["--method", "shifted=nope"], /--method: unknown method 'nope'\. Methods: ks, chisquare/);
    await bad(["--method", "shifted"], /--method takes COLUMN=VALUE, not 'shifted'/);
    await bad(["--method", "nosuch=ks"], /--method: no column 'nosuch' in either file\. Columns in both: shifted, stable/);
    await bad(["--method", "colour=ks"], /--method: ks \(K-S p_value\) applies to num columns; 'colour' is cat/);
    await bad(["--method", "shifted=abs_text_content_drift"], /applies to text columns; 'shifted' is num/);
    await bad(["--threshold", "shifted=abc"], /--threshold for 'shifted' must be a number, not 'abc'/);
    await bad(["--threshold", "shifted=-1"], /--threshold: the threshold for 'shifted' must be a non-negative number/);
    await bad(["--threshold", "shifted="], /--threshold takes COLUMN=VALUE/);
    await bad(["--methods-all", "TVDX"], /--methods-all: unknown method 'TVDX'/);
    await bad(["--methods-all", "perc_text_content_drift"], /applies to text columns and none of the compared columns is one/);
    await bad(["--drift-share", "1.5"], /--drift-share must be a number within \[0, 1\], not 1\.5/);
    await bad(["--drift-share", "half"], /--drift-share must be a number, not 'half'/);
    await bad(["--columns", "shifted,ghost"], /--columns: no column 'ghost' in either file/);
    await bad(["--columns", ","], /--columns names no column/);
    await bad(["--target", "shifted"], /Model quality needs both --target and --prediction/);
    await bad(["--target", "shifted", "--prediction", "ghost"], /--prediction: no column 'ghost'/);
    await bad(["--task", "ranking"], /--task is classification or regression, not 'ranking'/);
  });
});
