/**
 * Project runs in the API client: reproduce a run on an agent queue, its reproductions, and the
 * comparison of a run with another (params, data versions, metrics, artifact hashes).
 */
import { query, request, type MlflowRunStatus } from "./client";

export interface SubmittedProjectRun {
  run_id: string;
  pipeline_id: string;
  pipeline_run_id: string;
  queue: string;
}

export interface ComparedValue {
  key: string;
  original: string | null;
  reproduction: string | null;
  equal: boolean;
}

export interface ComparedMetric {
  key: string;
  original: number | null;
  reproduction: number | null;
  difference: number | null;
  relative_difference: number | null;
  equal: boolean;
}

export interface ComparedArtifact {
  path: string;
  original: { size: number; hash: string } | null;
  reproduction: { size: number; hash: string } | null;
}

export interface RunComparison {
  original: { run_id: string; status: string };
  reproduction: { run_id: string; status: string };
  reproduced: boolean;
  params: { equal: boolean; rows: ComparedValue[] };
  data: { equal: boolean; rows: ComparedValue[] };
  metrics: { equal: boolean; rows: ComparedMetric[] };
  artifacts: { equal: boolean; compared: number; differing: ComparedArtifact[]; truncated: boolean };
}

export interface Reproduction {
  run_id: string;
  name: string;
  status: MlflowRunStatus;
  start_time: number;
  pipeline_run_id: string | null;
  comparison: RunComparison;
}

const runPath = (runId: string) => `/api/v1/runs/${encodeURIComponent(runId)}`;

export const projectsApi = {
  reproduce: (runId: string, queue: string) => request<SubmittedProjectRun>("POST", `${runPath(runId)}/reproduce`, { queue }),
  reproductions: (runId: string) => request<{ reproductions: Reproduction[] }>("GET", `${runPath(runId)}/reproductions`),
  comparison: (runId: string, other: string) => request<RunComparison>("GET", `${runPath(runId)}/comparison?${query({ with: other })}`),
};
