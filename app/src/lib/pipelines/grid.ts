/**
 * The grid view's model: rows are tasks in dependency order (the latest spec's, then tasks only older
 * versions had), columns are runs by logical date (oldest left, like Airflow's grid), and each cell is
 * one task instance of one run.
 */
import type { PipelineSpec, RunDetail, RunSummary, TaskInstance, TaskState } from "../api/pipeline-types";
import { topologicalOrder } from "../../../../worker/lib/pipelines/machine";

export interface GridCell {
  run_id: string;
  task_id: string;
  state: TaskState;
  try_number: number;
  /** False when this run's version had no such task. */
  present: boolean;
}

export interface GridModel {
  tasks: string[];
  runs: RunSummary[];
  /** cells[row][column] */
  cells: GridCell[][];
}

/** Task ids in dependency order; a spec that cannot be ordered falls back to its own key order. */
export function taskOrder(spec: Pick<PipelineSpec, "tasks">): string[] {
  try {
    return topologicalOrder(spec as Parameters<typeof topologicalOrder>[0]);
  } catch {
    return Object.keys(spec.tasks);
  }
}

export function buildGrid(spec: Pick<PipelineSpec, "tasks">, runs: RunSummary[], details: ReadonlyMap<string, RunDetail>): GridModel {
  const columns = [...runs].sort((a, b) => a.logical_date - b.logical_date);
  const tasks = taskOrder(spec);
  const known = new Set(tasks);
  const extra = new Set<string>();
  for (const r of columns) for (const t of details.get(r.run_id)?.tasks ?? []) if (!known.has(t.task_id)) extra.add(t.task_id);
  tasks.push(...[...extra].sort());
  const byRun = new Map<string, Map<string, TaskInstance>>();
  for (const r of columns) byRun.set(r.run_id, new Map((details.get(r.run_id)?.tasks ?? []).map((t) => [t.task_id, t])));
  const cells = tasks.map((task_id) =>
    columns.map((r): GridCell => {
      const ti = byRun.get(r.run_id)?.get(task_id);
      return { run_id: r.run_id, task_id, state: ti?.state ?? "none", try_number: ti?.try_number ?? 0, present: ti !== undefined };
    }),
  );
  return { tasks, runs: columns, cells };
}
