/**
 * The tracking run linked to a trial (a study with an experiment_id gives each trial a run): how a
 * finished trial ends its run, the same way whether the trial was told by its worker (the service) or
 * failed by a missed heartbeat (the study's own Durable Object, where no request is waiting).
 */
import type { TrialState } from "../lib/tuning/distributions";
import type { ParamValue } from "../lib/tuning/distributions";
import type { TrialJson } from "../lib/tuning/study-state";
import type { RunStatus } from "../tracking/model";
import type { RunLogger } from "../tracking/run-logger";
import type { TrackingService } from "../tracking/service";

const RUN_STATUS: Partial<Record<TrialState, RunStatus>> = { COMPLETE: "FINISHED", FAIL: "FAILED", PRUNED: "KILLED" };

/** Tracking params are strings; Optuna's categorical None reads as Python prints it. */
export function runParams(params: Record<string, ParamValue>): Record<string, string | number | boolean> {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, v === null ? "None" : v]));
}

/** Logs the trial's params and objective value(s) on its run and closes the run with the trial's outcome. */
export async function endTrialRun(
  tracking: TrackingService,
  runLogger: RunLogger,
  trial: TrialJson,
  objectives: number,
  now: number,
): Promise<void> {
  const runId = trial.run_id;
  if (!runId) return;
  const metrics: Record<string, number> = {};
  if (trial.values) {
    if (objectives === 1) metrics.value = trial.values[0];
    else trial.values.forEach((v, i) => (metrics[`values_${i}`] = v));
  }
  await runLogger.log(runId, { params: runParams(trial.params), metrics });
  await tracking.updateRun(runId, { status: RUN_STATUS[trial.state] ?? "FAILED", endTime: trial.complete_time ?? now });
}
