/**
 * A task's arguments with their templates filled in, as the run gives them: params (the spec's,
 * overridden by conf), conf, the run's dates and ids, and the outputs of upstream tasks that succeeded.
 * The same pure renderer the Worker uses does the work; secrets are never sent to the browser, so they
 * show as a mask.
 */
import type { PipelineSpec, RunDetail } from "../api/pipeline-types";
import { render, TemplateError, type TemplateContext } from "../../../../worker/lib/pipelines/template";

/** Fields every task has (scheduling, not arguments). */
const POLICY_FIELDS = new Set([
  "kind",
  "depends_on",
  "trigger_rule",
  "retries",
  "retry_delay_s",
  "retry_exponential_backoff",
  "max_retry_delay_s",
  "execution_timeout_s",
  "description",
]);

export interface RenderedArg {
  field: string;
  /** The value with templates filled in, or null when rendering failed. */
  value: unknown;
  /** As written in the spec. */
  raw: unknown;
  error: string | null;
}

export const SECRET_MASK = "••••••";

export function templateContext(spec: Pick<PipelineSpec, "params">, run: RunDetail, taskId: string, tryNumber: number): TemplateContext {
  const outputs: Record<string, unknown> = {};
  for (const t of run.tasks) if (t.state === "success" && t.output !== null && t.output !== undefined) outputs[t.task_id] = t.output;
  const iso = (t: number) => new Date(t).toISOString();
  return {
    params: { ...spec.params, ...run.conf },
    conf: run.conf,
    outputs,
    logical_date: iso(run.logical_date),
    data_interval_start: iso(run.data_interval_start),
    data_interval_end: iso(run.data_interval_end),
    run_id: run.run_id,
    pipeline_id: run.pipeline_id,
    task_id: taskId,
    try_number: tryNumber,
    secret: () => SECRET_MASK,
  };
}

/** Every argument field of the task (any kind: unknown kinds show all their non-policy fields). */
export function renderedArgs(spec: PipelineSpec, run: RunDetail, taskId: string, tryNumber: number): RenderedArg[] {
  const task = spec.tasks[taskId];
  if (!task) return [];
  const ctx = templateContext(spec, run, taskId, tryNumber);
  return Object.entries(task)
    .filter(([field]) => !POLICY_FIELDS.has(field))
    .map(([field, raw]) => {
      try {
        return { field, value: render(raw, ctx), raw, error: null };
      } catch (err) {
        if (err instanceof TemplateError) return { field, value: null, raw, error: err.message };
        throw err;
      }
    });
}
