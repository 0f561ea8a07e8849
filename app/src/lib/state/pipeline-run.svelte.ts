/**
 * One pipeline run: its task instances, the spec of the version it ran (for the graph), the clear,
 * mark and cancel actions, and polling until the run has finished (stopped when the page goes away).
 */
import { pipelinesApi, type Pipeline, type PipelineVersion, type RunDetail } from "$lib/api/pipelines";
import { isRunFinished } from "$lib/pipelines/states";
import { LiveState } from "./live-state.svelte";

export const RUN_POLL_MS = 1000;

export class PipelineRunState extends LiveState {
  readonly pipelineId: string;
  readonly runId: string;
  run = $state.raw<RunDetail | null>(null);
  pipeline = $state.raw<Pipeline | null>(null);
  version = $state.raw<PipelineVersion | null>(null);
  /** Polls made so far (shown so a watcher can tell the page is live). */
  polls = $state(0);

  constructor(pipelineId: string, runId: string) {
    super(RUN_POLL_MS);
    this.pipelineId = pipelineId;
    this.runId = runId;
  }

  get live(): boolean {
    return !!this.run && !isRunFinished(this.run.state) && !this.disposed;
  }

  protected watching(): boolean {
    return this.live;
  }

  protected async fetchAll(): Promise<void> {
    const [run, { pipeline }] = await Promise.all([pipelinesApi.run(this.runId), pipelinesApi.get(this.pipelineId)]);
    if (this.disposed) return;
    this.run = run;
    this.pipeline = pipeline;
    this.version = await pipelinesApi.version(this.pipelineId, run.version);
  }

  /** A poll re-reads the run only: its version and pipeline do not change under it. */
  protected override async fetchUpdate(): Promise<void> {
    const run = await pipelinesApi.run(this.runId);
    if (this.disposed) return;
    this.run = run;
    this.polls += 1;
  }

  /** Applies an action's answer (the run after it) and resumes polling if the run is going again. */
  async act(action: () => Promise<RunDetail>): Promise<void> {
    const run = await action();
    if (this.disposed) return;
    this.run = run;
    this.poller.schedule();
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
}
