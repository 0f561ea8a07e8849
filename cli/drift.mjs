// `tern drift REFERENCE CURRENT [--all-tests] [--json] [overrides]`: data drift between two CSV or
// Parquet files, computed in Node by the same pure drift module the Worker and the browser run, with
// per-column methods and thresholds, the dataset drift share, a column subset, and model quality
// when target and prediction columns are named. The TypeScript side
// (cli/drift-core.ts and what it imports) is bundled with esbuild in memory at start-up, since Node 20
// cannot load TypeScript; esbuild comes with `npm install` of this repository. Exit codes: 0 when the
// report was computed (drift or not), 2 on bad input (missing or unreadable file, no common column,
// an override that names an unknown method or column, or a value that is not a valid number).
import { readFileSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { loadTypeScript } from "./bundle.mjs";

const here = dirname(fileURLToPath(import.meta.url));
export const EXIT_BAD_INPUT = 2;

class BadInput extends Error {}

/** The drift core as an ES module, bundled with its dependencies. */
const loadCore = () => loadTypeScript(here, "drift-core.ts", "tern drift");

function readInput(path, side) {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    throw new BadInput(`The ${side} file ${path} does not exist.`);
  }
  if (!stat.isFile()) throw new BadInput(`The ${side} file ${path} is not a file.`);
  try {
    return new Uint8Array(readFileSync(path));
  } catch (err) {
    throw new BadInput(`The ${side} file ${path} cannot be read: ${err.message}`);
  }
}

/** Scores as the report page shows them: small p-values in exponent form. */
export function formatNumber(x) {
  if (x === undefined || x === null) return "";
  if (Number.isNaN(x)) return "NaN";
  if (x !== 0 && Math.abs(x) < 0.001) return x.toExponential(2);
  return String(Math.round(x * 1000) / 1000);
}

function pad(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd());
}

/** COL=VALUE, split at the last "=" (column names may hold one; methods and numbers never do). */
export function parsePair(flag, text) {
  const at = text.lastIndexOf("=");
  if (at <= 0 || at === text.length - 1) throw new BadInput(`${flag} takes COLUMN=VALUE, not '${text}'.`);
  return [text.slice(0, at), text.slice(at + 1)];
}

/** A whole decimal number (no empty string, no "0x", no trailing text): what Number() alone lets through is refused. */
export function parseNumber(flag, text) {
  const t = String(text).trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) throw new BadInput(`${flag} must be a number, not '${text}'.`);
  return Number(t);
}

const collect = (value, previous) => [...previous, value];

/** The command-line overrides as the drift core takes them; bad values are BadInput (exit 2). */
export function driftOptions(options) {
  const methods = {};
  for (const pair of options.method ?? []) {
    const [column, method] = parsePair("--method", pair);
    methods[column] = method;
  }
  const thresholds = {};
  for (const pair of options.threshold ?? []) {
    const [column, value] = parsePair("--threshold", pair);
    thresholds[column] = parseNumber(`--threshold for '${column}'`, value);
  }
  const out = { allTests: Boolean(options.allTests), methods, thresholds };
  if (options.methodsAll !== undefined) out.methodAll = options.methodsAll;
  if (options.driftShare !== undefined) out.driftShare = parseNumber("--drift-share", options.driftShare);
  if (options.columns !== undefined) out.columns = options.columns.split(",").map((c) => c.trim()).filter((c) => c !== "");
  if (options.target !== undefined) out.target = options.target;
  if (options.prediction !== undefined) out.prediction = options.prediction;
  if (options.task !== undefined) {
    if (options.task !== "classification" && options.task !== "regression") throw new BadInput(`--task is classification or regression, not '${options.task}'.`);
    out.task = options.task;
  }
  return out;
}

function performanceLines(perf) {
  const lines = ["", `Model quality (${perf.task}; target ${perf.target}, prediction ${perf.prediction}):`];
  const metrics =
    perf.task === "regression"
      ? [["mean error", "meanError"], ["MAE", "mae"], ["RMSE", "rmse"], ["MAPE %", "mape"], ["R2", "r2"], ["max abs error", "absErrorMax"]]
      : [["accuracy", "accuracy"], ["precision", "precision"], ["recall", "recall"], ["F1", "f1"], ["ROC AUC", "rocAuc"], ["log loss", "logLoss"]];
  const side = (s) => (perf.task === "regression" ? s.regression : s.classification);
  const rows = [["metric", "reference", "current"]];
  for (const [label, key] of metrics) {
    const r = side(perf.reference);
    const c = side(perf.current);
    if (r?.[key] === undefined && c?.[key] === undefined) continue;
    rows.push([label, formatNumber(r?.[key]), formatNumber(c?.[key])]);
  }
  lines.push(...pad(rows));
  for (const name of ["reference", "current"]) {
    const e = perf[name].error;
    if (e) lines.push(`${name}: error ${e.code}: ${e.message}`);
  }
  return lines;
}

/** The report for people: one line per column, then the dataset verdict. */
export function formatTable(report, allTests) {
  const rows = [["column", "type", "method", "threshold", "score", "drifted"]];
  const lines = [];
  for (const c of report.columns) {
    if (c.error) {
      rows.push([c.column, c.type, c.method, "", "", `error ${c.error.code}: ${c.error.message}`]);
      continue;
    }
    rows.push([c.column, c.type, c.display_name ?? c.method, formatNumber(c.threshold), formatNumber(c.score), c.drifted ? "yes" : "no"]);
    if (allTests) {
      for (const t of c.tests ?? []) {
        const detail = t.error
          ? `error ${t.error.code}: ${t.error.message}`
          : [
              ...(t.statistic !== undefined ? [`statistic=${formatNumber(t.statistic)}`] : []),
              ...(t.p_value !== undefined ? [`p_value=${formatNumber(t.p_value)}`] : []),
              t.drifted ? "drifted" : "not drifted",
            ].join("  ");
        rows.push([`  ${c.column}`, "", t.method, formatNumber(t.threshold), formatNumber(t.score), detail]);
      }
    }
  }
  lines.push(...pad(rows));
  lines.push("");
  const d = report.dataset;
  if (d) {
    const share = Math.round(d.shareOfDriftedColumns * 1000) / 10;
    lines.push(`Drift is detected for ${share}% of columns (${d.numberOfDriftedColumns} of ${d.numberOfColumns}).`);
    lines.push(d.datasetDrift ? `Dataset drift detected (drift share ${d.driftShare}).` : `Dataset drift not detected (drift share ${d.driftShare}).`);
  } else {
    lines.push("No column could be tested.");
  }
  if (report.failed_columns > 0) lines.push(`${report.failed_columns} column(s) could not be tested (errors above).`);
  if (report.performance) lines.push(...performanceLines(report.performance));
  return lines.join("\n");
}

export async function runDrift(referencePath, currentPath, options, io = { out: process.stdout, err: process.stderr }) {
  try {
    const driftOpts = driftOptions(options);
    const refBytes = readInput(referencePath, "reference");
    const curBytes = readInput(currentPath, "current");
    const core = await loadCore();
    let report;
    try {
      const reference = await core.readTableBytes(referencePath, refBytes);
      const current = await core.readTableBytes(currentPath, curBytes);
      report = core.driftOfTables(reference, current, driftOpts);
    } catch (err) {
      if (err instanceof core.InputError) throw new BadInput(err.message);
      throw err;
    }
    io.out.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatTable(report, Boolean(options.allTests))}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof BadInput)) throw err;
    io.err.write(`tern drift: ${err.message}\n`);
    return EXIT_BAD_INPUT;
  }
}

export function registerDrift(program) {
  program
    .command("drift")
    .description("Data drift between a reference and a current CSV or Parquet file (Evidently's tests, computed locally)")
    .argument("<reference>", "reference data file (.csv or .parquet)")
    .argument("<current>", "current data file (.csv or .parquet)")
    .option("--all-tests", "also run every test applicable to each column and list its statistic and p-value")
    .option("--json", "print the report as JSON")
    .option("--method <column=method>", "use this test for a column (repeatable), e.g. --method amount=psi", collect, [])
    .option("--threshold <column=value>", "use this threshold for a column (repeatable), e.g. --threshold amount=0.2", collect, [])
    .option("--methods-all <method>", "use this test for every column whose type it supports (--method wins)")
    .option("--drift-share <share>", "share of drifted columns at which the dataset drifts, in [0, 1] (default 0.5)")
    .option("--columns <names>", "compare only these columns (comma-separated)")
    .option("--target <column>", "target column: report model quality for reference and current (with --prediction)")
    .option("--prediction <column>", "prediction column (labels or, for a binary target, probabilities of the label 1)")
    .option("--task <task>", "classification or regression (default: regression for a numeric target)")
    // A usage error (missing file argument, unknown option) is bad input too; commander has printed why.
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : EXIT_BAD_INPUT))
    .action(async (reference, current, options) => {
      process.exitCode = await runDrift(reference, current, options);
    });
}
