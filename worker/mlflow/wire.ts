/**
 * Domain objects → MLflow's JSON: snake_case, empty fields left out, int64 as JSON numbers, NaN as
 * the string "NaN" (protobuf JSON), RunInfo carrying both run_id and the deprecated run_uuid.
 */
import type { Experiment, KeyValue, MetricPoint, Run, RunInfo } from "../tracking/model";

const nonEmpty = <T>(xs: T[]) => (xs.length ? xs : undefined);

export const wireMetric = (m: MetricPoint) => ({
  key: m.key,
  value: Number.isNaN(m.value) ? "NaN" : m.value,
  timestamp: m.timestamp,
  step: m.step,
});

export const wireExperiment = (e: Experiment) => ({
  experiment_id: e.experimentId,
  name: e.name,
  artifact_location: e.artifactLocation,
  lifecycle_stage: e.lifecycleStage,
  last_update_time: e.lastUpdateTime,
  creation_time: e.creationTime,
  tags: nonEmpty(e.tags),
});

export const wireRunInfo = (i: RunInfo) => ({
  run_id: i.runId,
  run_uuid: i.runId,
  run_name: i.runName,
  experiment_id: i.experimentId,
  user_id: i.userId,
  status: i.status,
  start_time: i.startTime,
  end_time: i.endTime ?? undefined,
  artifact_uri: i.artifactUri,
  lifecycle_stage: i.lifecycleStage,
});

const wireKvs = (xs: KeyValue[]) => nonEmpty(xs.map((x) => ({ key: x.key, value: x.value })));

export const wireRun = (r: Run) => ({
  info: wireRunInfo(r.info),
  data: { metrics: nonEmpty(r.data.metrics.map(wireMetric)), params: wireKvs(r.data.params), tags: wireKvs(r.data.tags) },
  inputs: {},
});
