/**
 * How pipeline run and task states look everywhere in the app: Airflow's state colours (so a grid
 * reads the same to anyone who knows Airflow's), their labels, and which states are final.
 */
import type { RunState, TaskState } from "../api/pipeline-types";

/** Airflow's colours by state name; "none" (not reached yet) is drawn as an empty outline. */
export const STATE_COLORS: Record<TaskState, string> = {
  none: "transparent",
  queued: "#808080", // gray
  running: "#00ff00", // lime
  success: "#008000", // green
  failed: "#ff0000", // red
  up_for_retry: "#ffd700", // gold
  upstream_failed: "#ffa500", // orange
  skipped: "#ff69b4", // hotpink
};

/** Text that stays legible on each state's colour. */
export const STATE_TEXT: Record<TaskState, string> = {
  none: "inherit",
  queued: "#ffffff",
  running: "#14532d",
  success: "#ffffff",
  failed: "#ffffff",
  up_for_retry: "#422006",
  upstream_failed: "#431407",
  skipped: "#500724",
};

export const STATE_LABELS: Record<TaskState, string> = {
  none: "no status",
  queued: "queued",
  running: "running",
  success: "success",
  failed: "failed",
  up_for_retry: "up for retry",
  upstream_failed: "upstream failed",
  skipped: "skipped",
};

/** The legend's order: the order a task usually moves through them. */
export const LEGEND_STATES: TaskState[] = ["queued", "running", "success", "failed", "up_for_retry", "upstream_failed", "skipped", "none"];

export const isRunFinished = (state: RunState): boolean => state === "success" || state === "failed";

const TASK_FINISHED: ReadonlySet<TaskState> = new Set(["success", "failed", "skipped", "upstream_failed"]);
export const isTaskFinished = (state: TaskState): boolean => TASK_FINISHED.has(state);

/** Inline style for a square or node of this state. */
export function stateStyle(state: TaskState): string {
  return state === "none" ? "background-color: transparent" : `background-color: ${STATE_COLORS[state]}`;
}
