/**
 * The benchmark's data, generated identically in the page and in Node: 20 numeric and 5
 * categorical columns, reference and current, with drift planted in some of them.
 */
import type { ColumnValues } from "../../../app/src/lib/drift/table";
import type { ColumnTask } from "../../../app/src/lib/workers/drift/api";
import type { StattestName } from "../../../worker/lib/drift";
import { mulberry32 } from "../../../worker/lib/random";

export const NUMERIC_COLUMNS = 20;
export const CATEGORICAL_COLUMNS = 5;
/** Every column also runs these, beside its default test. */
export const EXTRA_METHODS: StattestName[] = ["ks", "wasserstein", "psi", "jensenshannon"];

function numeric(rows: number, seed: number, shift: number, scale: number): ColumnValues {
  const r = mulberry32(seed);
  const values = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    // Sum of four uniforms, centred (near-normal). Only + - × on doubles, so every JS engine
    // produces bit-identical data; Math.log/cos may differ in the last bit between engines.
    values[i] = shift + scale * (r() + r() + r() + r() - 2);
    // A few missing cells, as real files have.
    if (i % 1000 === 999) values[i] = NaN;
  }
  return { storage: "number", values, integer: false };
}

const DICTIONARY = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"];

function categorical(rows: number, seed: number, categories: number, tilt: number): ColumnValues {
  const r = mulberry32(seed);
  const codes = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const u = r();
    // Tilted towards the first categories by squaring; exact arithmetic as above.
    codes[i] = Math.min(categories - 1, Math.floor(categories * (tilt ? u * u : u)));
  }
  return { storage: "category", codes, dictionary: DICTIONARY };
}

/** The 25 column tasks; every fifth numeric and the last two categorical columns drift. */
export function benchTasks(rows: number): ColumnTask[] {
  const tasks: ColumnTask[] = [];
  for (let c = 0; c < NUMERIC_COLUMNS; c++) {
    const drifted = c % 5 === 0;
    tasks.push({
      column: `num_${c}`,
      columnType: "num",
      reference: numeric(rows, 1000 + c, 0, 1),
      current: numeric(rows, 2000 + c, drifted ? 0.3 : 0, drifted ? 1.2 : 1),
      extraMethods: EXTRA_METHODS,
    });
  }
  for (let c = 0; c < CATEGORICAL_COLUMNS; c++) {
    const drifted = c >= CATEGORICAL_COLUMNS - 2;
    tasks.push({
      column: `cat_${c}`,
      columnType: "cat",
      reference: categorical(rows, 3000 + c, 4 + c, 0),
      current: categorical(rows, 4000 + c, 4 + c, drifted ? 0.5 : 0),
      extraMethods: EXTRA_METHODS,
    });
  }
  return tasks;
}
