/**
 * The benchmark page: generates the data in the page's main thread, then computes the whole report
 * through the app's Web Worker pool (DriftPool with the built app's drift worker), and leaves the
 * timings on window for the runner.
 */
import { DriftPool } from "../../../app/src/lib/workers/drift/client";
import type { ColumnOutcome } from "../../../app/src/lib/workers/drift/api";
import { benchTasks } from "./data";

declare global {
  interface Window {
    runDriftBench(rows: number, workerUrl: string): Promise<{ generateMs: number; totalMs: number; workers: number; outcomes: ColumnOutcome[] }>;
  }
}

window.runDriftBench = async (rows, workerUrl) => {
  let t = performance.now();
  const tasks = benchTasks(rows);
  const generateMs = performance.now() - t;
  const pool = new DriftPool(undefined, () => new Worker(workerUrl, { type: "module" }));
  t = performance.now();
  const outcomes = await pool.computeColumns(tasks);
  const totalMs = performance.now() - t;
  pool.dispose();
  return { generateMs, totalMs, workers: pool.size, outcomes };
};
