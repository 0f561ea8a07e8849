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

// The comparison's shape is the pure module's own, so the card cannot drift from what the server sends.
export type {
  ArtifactRow as ComparedArtifact,
  MetricRow as ComparedMetric,
  RunComparison,
  ValueRow as ComparedValue,
} from "../../../../worker/lib/projects/compare";
import type { RunComparison } from "../../../../worker/lib/projects/compare";

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
