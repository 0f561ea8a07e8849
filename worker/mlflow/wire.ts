/**
 * Domain objects → MLflow's JSON: snake_case, empty fields left out, int64 as JSON numbers, NaN as
 * the string "NaN" (protobuf JSON), RunInfo carrying both run_id and the deprecated run_uuid, and a
 * Run's inputs (dataset inputs) and MLflow 3 outputs (model outputs), and MLflow 3 logged models.
 */
import type { LoggedModel } from "../logged-models/model";
import type { DatasetInput, DatasetSummary, Experiment, KeyValue, MetricPoint, Run, RunInfo } from "../tracking/model";

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

export const wireDatasetInput = (i: DatasetInput) => ({
  tags: wireKvs(i.tags),
  dataset: {
    name: i.dataset.name,
    digest: i.dataset.digest,
    source_type: i.dataset.sourceType,
    source: i.dataset.source,
    schema: i.dataset.schema ?? undefined,
    profile: i.dataset.profile ?? undefined,
  },
});

export const wireDatasetSummary = (d: DatasetSummary) => ({
  experiment_id: d.experimentId,
  name: d.name,
  digest: d.digest,
  context: d.context ?? undefined,
});

export const wireRun = (r: Run) => ({
  info: wireRunInfo(r.info),
  data: { metrics: nonEmpty(r.data.metrics.map(wireMetric)), params: wireKvs(r.data.params), tags: wireKvs(r.data.tags) },
  inputs: {
    dataset_inputs: nonEmpty(r.inputs.datasetInputs.map(wireDatasetInput)),
    model_inputs: nonEmpty(r.inputs.modelInputs.map((m) => ({ model_id: m.modelId }))),
  },
  outputs: { model_outputs: nonEmpty(r.outputs.modelOutputs.map((o) => ({ model_id: o.modelId, step: o.step }))) },
});

/** LoggedModel {info, data}: data carries the params and the latest point of each metric logged for it. */
export const wireLoggedModel = (m: LoggedModel) => ({
  info: {
    model_id: m.modelId,
    experiment_id: m.experimentId,
    name: m.name,
    creation_timestamp_ms: m.creationTimestampMs,
    last_updated_timestamp_ms: m.lastUpdatedTimestampMs,
    artifact_uri: m.artifactLocation,
    status: m.status,
    model_type: m.modelType ?? undefined,
    source_run_id: m.sourceRunId ?? undefined,
    status_message: m.statusMessage ?? undefined,
    tags: wireKvs(m.tags),
  },
  data: {
    params: wireKvs(m.params),
    metrics: nonEmpty(
      m.metrics.map((x) => ({
        key: x.key,
        value: Number.isNaN(x.value) ? "NaN" : x.value,
        timestamp: x.timestamp,
        step: x.step,
        run_id: x.runId,
        model_id: m.modelId,
        dataset_name: x.datasetName ?? undefined,
        dataset_digest: x.datasetDigest ?? undefined,
      })),
    ),
  },
});
