/**
 * The pipelines pillar's part of the API client: pipelines and their spec versions, runs (trigger,
 * backfill, list, get, clear, mark, cancel) and task attempt logs, with the wire shapes they come in.
 */
import { query, request } from "./client";
import type { ApiTime, BackfillResult, Pipeline, PipelineSummary, PipelineVersion, RunDetail, RunSummary, TaskLog } from "./pipeline-types";

export * from "./pipeline-types";

const BASE = "/api/v1/pipelines";
const pipelinePath = (id: string) => `${BASE}/${encodeURIComponent(id)}`;
const runPath = (runId: string) => `/api/v1/pipeline-runs/${encodeURIComponent(runId)}`;

export const pipelinesApi = {
  list: () => request<{ pipelines: PipelineSummary[] }>("GET", BASE),
  get: (id: string) => request<{ pipeline: Pipeline }>("GET", pipelinePath(id)),
  version: (id: string, version: number) => request<PipelineVersion>("GET", `${pipelinePath(id)}/versions/${version}`),
  /** `spec` is the editor's text (YAML or JSON), stored as written. */
  create: (name: string, spec: string) => request<{ pipeline_id: string; version: number }>("POST", BASE, { name, spec }),
  update: (id: string, spec: string) => request<{ pipeline_id: string; version: number }>("PUT", pipelinePath(id), { spec }),
  delete: (id: string) => request<{ pipeline_id: string; deleted: true }>("DELETE", pipelinePath(id)),
  setPaused: (id: string, paused: boolean) => request<{ pipeline: Pipeline }>("POST", `${pipelinePath(id)}/${paused ? "pause" : "unpause"}`),
  trigger: (id: string, input: { conf?: Record<string, unknown>; logical_date?: ApiTime }) => request<{ run_id: string }>("POST", `${pipelinePath(id)}/runs`, input),
  backfill: (id: string, input: { start: ApiTime; end: ApiTime; conf?: Record<string, unknown> }) => request<BackfillResult>("POST", `${pipelinePath(id)}/backfill`, input),
  runs: (id: string, input: { max_results?: number; page_token?: string } = {}) =>
    request<{ runs: RunSummary[]; next_page_token: string | null }>("GET", `${pipelinePath(id)}/runs?${query(input)}`),
  run: (runId: string) => request<RunDetail>("GET", runPath(runId)),
  clear: (runId: string, taskIds: string[], downstream: boolean) => request<RunDetail>("POST", `${runPath(runId)}/clear`, { task_ids: taskIds, downstream }),
  mark: (runId: string, taskIds: string[], state: "success" | "failed") => request<RunDetail>("POST", `${runPath(runId)}/mark`, { task_ids: taskIds, state }),
  cancel: (runId: string) => request<RunDetail>("POST", `${runPath(runId)}/cancel`),
  log: (runId: string, taskId: string, tryNumber: number) =>
    request<TaskLog>("GET", `${runPath(runId)}/tasks/${encodeURIComponent(taskId)}/logs?${query({ try_number: tryNumber })}`),
};
