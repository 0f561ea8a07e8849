/**
 * One pipeline run: its task instances, the spec of the version it ran (for the graph), the clear,
 * mark and cancel actions, and polling until the run has finished (stopped when the page goes away).
 */
import { ApiClientError } from "$lib/api/client";
import { pipelinesApi, type Pipeline, type PipelineVersion, type RunDetail } from "$lib/api/pipelines";
import { isRunFinished } from "$lib/pipelines/states";
import { Poller } from "./poller";
import { errorMessage } from "./run-fields";

export const RUN_POLL_MS = 1000;

export class PipelineRunState {
  readonly pipelineId: string;
  readonly runId: string;
  run = $state.raw<RunDetail | null>(null);
  pipeline = $state.raw<Pipeline | null>(null);
  version = $state.raw<PipelineVersion | null>(null);
  loading = $state(true);
  error = $state<string | null>(null);
  notFound = $state(false);
  /** Polls made so far (shown so a watcher can tell the page is live). */
  polls = $state(0);
  readonly #poller = new Poller(RUN_POLL_MS, () => this.live, () => this.refresh());

  constructor(pipelineId: string, runId: string) {
    this.pipelineId = pipelineId;
    this.runId = runId;
  }

  get live(): boolean {
    return !!this.run && !isRunFinished(this.run.state) && !this.#poller.disposed;
  }

  async load(): Promise<void> {
    this.loading = true;
    try {
      const [run, { pipeline }] = await Promise.all([pipelinesApi.run(this.runId), pipelinesApi.get(this.pipelineId)]);
      if (this.#poller.disposed) return;
      this.run = run;
      this.pipeline = pipeline;
      this.version = await pipelinesApi.version(this.pipelineId, run.version);
      this.error = null;
    } catch (err) {
      this.notFound = err instanceof ApiClientError && err.status === 404;
      this.error = errorMessage(err);
    } finally {
      this.loading = false;
    }
    this.#poller.schedule();
  }

  async refresh(): Promise<void> {
    try {
      const run = await pipelinesApi.run(this.runId);
      if (this.#poller.disposed) return;
      this.run = run;
      this.polls += 1;
      this.error = null;
    } catch (err) {
      this.error = errorMessage(err);
    }
    this.#poller.schedule();
  }

  /** Applies an action's answer (the run after it) and resumes polling if the run is going again. */
  async act(action: () => Promise<RunDetail>): Promise<void> {
    const run = await action();
    if (this.#poller.disposed) return;
    this.run = run;
    this.#poller.schedule();
  }

  clear(taskIds: string[], downstream: boolean): Promise<void> {
    return this.act(() => pipelinesApi.clear(this.runId, taskIds, downstream));
  }

  mark(taskIds: string[], state: "success" | "failed"): Promise<void> {
    return this.act(() => pipelinesApi.mark(this.runId, taskIds, state));
  }

  cancel(): Promise<void> {
    return this.act(() => pipelinesApi.cancel(this.runId));
  }

  dispose(): void {
    this.#poller.dispose();
  }
}
