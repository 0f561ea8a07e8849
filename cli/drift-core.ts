/**
 * What `tern drift` computes, in TypeScript so it shares the pure drift module and the table reader
 * with the Worker and the browser; cli/drift.mjs bundles this file with esbuild when the command runs
 * (Node 20 cannot load TypeScript). Reads a CSV or Parquet file into columns typed the way pandas
 * types them, and runs driftReport on the two tables.
 */
import {
  type CategoryValue,
  type ClassificationQuality,
  classificationQuality,
  driftReport,
  DriftTestError,
  isTextStattest,
  methodDisplayName,
  type ColumnSetting,
  type ColumnType,
  type DriftReportSummary,
  type RawValue,
  type RegressionQuality,
  regressionQuality,
  STATTESTS,
  type StattestName,
  TEXT_STATTESTS,
  type TextStattestName,
} from "../worker/lib/drift";
import type { ColumnValues as DriftColumnValues } from "../worker/lib/drift/select";
import { formatOf, readCsv, readParquet } from "../app/src/lib/drift/read-table";
import { inferTableColumnType, type ColumnValues, type Table } from "../app/src/lib/drift/table";

/** Bad input the command reports with exit code 2 (not a bug in the computation). */
export class InputError extends Error {
  override readonly name = "InputError";
}

/** A data file's bytes as a table; the format follows the file name (.parquet, else CSV). */
export async function readTableBytes(name: string, bytes: Uint8Array): Promise<Table> {
  try {
    if (formatOf(name) === "parquet") {
      const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      return await readParquet(buffer);
    }
    return await readCsv(new TextDecoder("utf-8").decode(bytes));
  } catch (err) {
    throw new InputError(`${name}: ${(err as Error).message}`);
  }
}

/** A column as driftReport takes it: numbers stay a Float64Array, categories become their cells. */
function toDriftValues(data: ColumnValues): DriftColumnValues {
  if (data.storage === "number") return data.values;
  return Array.from(data.codes, (c): RawValue => (c < 0 ? null : data.dictionary[c]));
}

export type Method = StattestName | TextStattestName;
export const METHOD_NAMES = [...Object.keys(STATTESTS), ...Object.keys(TEXT_STATTESTS)] as Method[];

export interface DriftOptions {
  allTests?: boolean;
  /** Share of drifted columns at which the dataset drifts, in [0, 1]. */
  driftShare?: number;
  /** Only these columns, in this order. */
  columns?: string[];
  /** Per-column method and threshold overrides. */
  methods?: Record<string, string>;
  thresholds?: Record<string, number>;
  /** One method for every column whose type it supports (per-column --method wins). */
  methodAll?: string;
  target?: string;
  prediction?: string;
  task?: "classification" | "regression";
}

export interface SidePerformance {
  classification?: ClassificationQuality;
  regression?: RegressionQuality;
  error?: { code: string; message: string };
}

export interface PerformanceReport {
  task: "classification" | "regression";
  target: string;
  prediction: string;
  reference: SidePerformance;
  current: SidePerformance;
}

export type DriftOfTables = DriftReportSummary & { performance?: PerformanceReport };

function checkMethod(name: string, flag: string): Method {
  if (!(METHOD_NAMES as string[]).includes(name)) throw new InputError(`${flag}: unknown method '${name}'. Methods: ${METHOD_NAMES.join(", ")}.`);
  return name as Method;
}

const supports = (method: Method, type: ColumnType): boolean => (isTextStattest(method) ? type === "text" : STATTESTS[method].columnTypes.includes(type));

const typesOf = (method: Method): string => (isTextStattest(method) ? "text" : STATTESTS[method].columnTypes.join(" and "));

function cellsOf(data: ColumnValues): RawValue[] {
  if (data.storage === "number") return Array.from(data.values, (v) => (Number.isNaN(v) ? null : v));
  return Array.from(data.codes, (c): RawValue => (c < 0 ? null : data.dictionary[c]));
}

/**
 * Model quality on one side. Classification predictions that are probabilities (numbers in [0, 1],
 * not all whole) become labels at 0.5 for the positive label 1, as Evidently does.
 */
function sidePerformance(task: "classification" | "regression", target: ColumnValues, prediction: ColumnValues): SidePerformance {
  const y = cellsOf(target);
  const p = cellsOf(prediction);
  try {
    if (task === "regression") return { regression: regressionQuality(y, p) };
    const numbers = p.filter((v): v is number => typeof v === "number");
    const probabilities = numbers.length > 0 && numbers.length === p.filter((v) => v !== null).length && numbers.every((v) => v >= 0 && v <= 1) && !numbers.every(Number.isInteger);
    if (!probabilities) return { classification: classificationQuality({ target: y, prediction: p }) };
    const labels = [...new Set(y.filter((v): v is CategoryValue => v !== null && v !== undefined))];
    if (labels.length !== 2) throw new DriftTestError("WRONG_COLUMN_TYPE", `Probabilities as predictions need a binary target; the target has ${labels.length} labels.`);
    const positive = labels.find((l) => l === 1 || l === "1" || l === true) ?? labels.sort()[1];
    const negative = labels.find((l) => l !== positive) as CategoryValue;
    const probs = p.map((v) => (typeof v === "number" ? v : NaN));
    const predicted = p.map((v, i): RawValue => (v === null ? null : probs[i] >= 0.5 ? positive : negative));
    return { classification: classificationQuality({ target: y, prediction: predicted, probabilities: probs, positiveLabel: positive }) };
  } catch (err) {
    if (err instanceof DriftTestError) return { error: { code: err.code, message: err.message } };
    throw err;
  }
}

/**
 * Drift of every column present in both tables (reference order, or the --columns order), under the
 * overrides, and model quality when target and prediction are named. Each column's type comes from
 * the current file as pandas would read it: a typed array alone cannot tell "1.0" (float) from "1"
 * (int). Every override is checked against the files first: a bad one is an InputError.
 */
export function driftOfTables(reference: Table, current: Table, options: DriftOptions = {}): DriftOfTables {
  const currentByName = new Map(current.columns.map((c) => [c.name, c.data]));
  const referenceByName = new Map(reference.columns.map((c) => [c.name, c.data]));
  const common = reference.columns.filter((c) => currentByName.has(c.name)).map((c) => c.name);
  if (common.length === 0) throw new InputError("The reference and current files have no column in common.");
  const inBoth = (name: string, flag: string) => {
    if (!currentByName.has(name) || !referenceByName.has(name)) {
      const where = currentByName.has(name) ? "the reference file" : referenceByName.has(name) ? "the current file" : "either file";
      throw new InputError(`${flag}: no column '${name}' in ${where}. Columns in both: ${common.join(", ")}.`);
    }
  };
  if (options.driftShare !== undefined && !(options.driftShare >= 0 && options.driftShare <= 1)) {
    throw new InputError(`--drift-share must be a number within [0, 1], not ${options.driftShare}.`);
  }
  let names = common;
  if (options.columns) {
    if (options.columns.length === 0) throw new InputError("--columns names no column.");
    for (const c of options.columns) inBoth(c, "--columns");
    names = [...new Set(options.columns)];
  }
  const types = new Map(names.map((n) => [n, inferTableColumnType(currentByName.get(n) as ColumnValues)]));
  const settings: Record<string, ColumnSetting> = {};
  for (const n of names) settings[n] = { type: types.get(n) };
  if (options.methodAll !== undefined) {
    const m = checkMethod(options.methodAll, "--methods-all");
    const fitting = names.filter((n) => supports(m, types.get(n) as ColumnType));
    if (fitting.length === 0) throw new InputError(`--methods-all: ${m} applies to ${typesOf(m)} columns and none of the compared columns is one.`);
    for (const n of fitting) settings[n].method = m;
  }
  for (const [column, name] of Object.entries(options.methods ?? {})) {
    const m = checkMethod(name, "--method");
    inBoth(column, "--method");
    if (!names.includes(column)) throw new InputError(`--method: column '${column}' is not among --columns.`);
    const type = types.get(column) as ColumnType;
    if (!supports(m, type)) throw new InputError(`--method: ${m} (${methodDisplayName(m)}) applies to ${typesOf(m)} columns; '${column}' is ${type}.`);
    settings[column].method = m;
  }
  for (const [column, value] of Object.entries(options.thresholds ?? {})) {
    inBoth(column, "--threshold");
    if (!names.includes(column)) throw new InputError(`--threshold: column '${column}' is not among --columns.`);
    if (!Number.isFinite(value) || value < 0) throw new InputError(`--threshold: the threshold for '${column}' must be a non-negative number.`);
    settings[column].threshold = value;
  }
  const ref: Record<string, DriftColumnValues> = {};
  const cur: Record<string, DriftColumnValues> = {};
  for (const name of names) {
    ref[name] = toDriftValues(referenceByName.get(name) as ColumnValues);
    cur[name] = toDriftValues(currentByName.get(name) as ColumnValues);
  }
  const report: DriftOfTables = driftReport({ reference: ref, current: cur, columns: names, settings, allTests: options.allTests ?? false, driftShare: options.driftShare });
  if (options.target !== undefined || options.prediction !== undefined) {
    if (options.target === undefined || options.prediction === undefined) throw new InputError("Model quality needs both --target and --prediction.");
    inBoth(options.target, "--target");
    inBoth(options.prediction, "--prediction");
    const task = options.task ?? (inferTableColumnType(currentByName.get(options.target) as ColumnValues) === "num" ? "regression" : "classification");
    report.performance = {
      task,
      target: options.target,
      prediction: options.prediction,
      reference: sidePerformance(task, referenceByName.get(options.target) as ColumnValues, referenceByName.get(options.prediction) as ColumnValues),
      current: sidePerformance(task, currentByName.get(options.target) as ColumnValues, currentByName.get(options.prediction) as ColumnValues),
    };
  } else if (options.task) {
    throw new InputError("--task needs --target and --prediction.");
  }
  return report;
}
