/** The tuning API's wire types, in a module without browser dependencies so pure chart code can share them. */

export type StudyDirection = "minimize" | "maximize";
export type TrialState = "RUNNING" | "COMPLETE" | "PRUNED" | "FAIL" | "WAITING";
export const TRIAL_STATES: readonly TrialState[] = ["COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING"];

export type ParamValue = null | boolean | number | string;

export type Distribution =
  | { type: "float"; low: number; high: number; log?: boolean; step?: number | null }
  | { type: "int"; low: number; high: number; log?: boolean; step?: number }
  | { type: "categorical"; choices: ParamValue[] };

export interface IntermediateValue {
  step: number;
  /** null where the reported value was NaN. */
  value: number | null;
}

export interface Trial {
  number: number;
  state: TrialState;
  params: Record<string, ParamValue>;
  distributions: Record<string, Distribution>;
  values: number[] | null;
  intermediate_values: IntermediateValue[];
  user_attrs: Record<string, unknown>;
  constraints: number[] | null;
  start_time: number | null;
  complete_time: number | null;
  last_heartbeat_time: number | null;
  run_id: string | null;
}

export interface Study {
  study_id: string;
  name: string;
  directions: StudyDirection[];
  sampler: { type: string; seed?: number | null; [option: string]: unknown };
  pruner: { type: string; [option: string]: unknown } | null;
  heartbeat_interval: number | null;
  grace_period: number | null;
  failed_trial_max_retry: number | null;
  experiment_id: string | null;
  user_attrs: Record<string, unknown>;
  creation_time: number;
  last_update_time: number;
  n_trials: number;
  state_counts: Partial<Record<TrialState, number>>;
  best_trial: Trial | null;
}

export interface ParamImportance {
  name: string;
  importance: number;
}
