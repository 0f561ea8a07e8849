/**
 * One task of one run, at a chosen attempt: the task instance (its latest attempt's state, timing,
 * output and error), every try's record (state it ended in, times, agent, error), the log of the
 * chosen attempt, and live refresh of these while the attempt runs or its log is still being written.
 */
import { ApiClientError } from "$lib/api/client";
import { pipelinesApi, type PipelineVersion, type RunDetail, type TaskAttempt, type TaskInstance, type TaskLog } from "$lib/api/pipelines";
import { isRunFinished, isTaskFinished } from "$lib/pipelines/states";
import { LiveState } from "./live-state.svelte";

export const ATTEMPT_POLL_MS = 1000;

export class TaskAttemptState extends LiveState {
  readonly pipelineId: string;
  readonly runId: string;
  readonly taskId: string;
  /** The attempt shown; null until the task is known (then its latest attempt). */
  tryNumber = $state<number | null>(null);
  run = $state.raw<RunDetail | null>(null);
  version = $state.raw<PipelineVersion | null>(null);
  pipelineName = $state<string | null>(null);
  log = $state.raw<TaskLog | null>(null);
  logMissing = $state<string | null>(null);

  constructor(pipelineId: string, runId: string, taskId: string, tryNumber: number | null) {
    super(ATTEMPT_POLL_MS);
    this.pipelineId = pipelineId;
    this.runId = runId;
    this.taskId = taskId;
    this.tryNumber = tryNumber;
  }

  get task(): TaskInstance | null {
    return this.run?.tasks.find((t) => t.task_id === this.taskId) ?? null;
  }

  /** Every recorded try, newest first. */
  get attempts(): TaskAttempt[] {
    return this.task?.attempts ?? [];
  }

  /** The record of the try shown, when the run has one. */
  get attempt(): TaskAttempt | null {
    return this.attempts.find((a) => a.try_number === this.tryNumber) ?? null;
  }

  /** Polls while the task can still change: its run is going and it has not finished. */
  get live(): boolean {
    return !this.disposed && !!this.run && !isRunFinished(this.run.state) && this.task !== null && !isTaskFinished(this.task.state);
  }

  protected watching(): boolean {
    return this.live;
  }

  protected async fetchAll(): Promise<void> {
    const run = await pipelinesApi.run(this.runId);
    if (this.disposed) return;
    this.run = run;
    if (!this.task) throw new ApiClientError(404, "RESOURCE_DOES_NOT_EXIST", `Run '${this.runId}' has no task '${this.taskId}'`, null);
    if (this.tryNumber === null) this.tryNumber = Math.max(1, this.task.try_number);
    const [version, pipeline] = await Promise.all([pipelinesApi.version(this.pipelineId, run.version).catch(() => null), pipelinesApi.get(this.pipelineId).catch(() => null)]);
    this.version = version;
    this.pipelineName = pipeline?.pipeline.name ?? null;
    await this.#loadLog();
  }

  async #loadLog(): Promise<void> {
    const tryNumber = this.tryNumber ?? 1;
    if (!this.task || this.task.try_number < tryNumber || this.task.try_number === 0) {
      this.log = null;
      this.logMissing = "This attempt has not started yet.";
      return;
    }
    try {
      const log = await pipelinesApi.log(this.runId, this.taskId, tryNumber);
      if (this.disposed || tryNumber !== this.tryNumber) return;
      this.log = log;
      this.logMissing = null;
    } catch (err) {
      if (!(err instanceof ApiClientError && err.status === 404)) throw err;
      if (tryNumber !== this.tryNumber) return;
      this.log = null;
      this.logMissing = this.task.kind === "agent" ? "No output has arrived from the agent yet." : `A ${this.task.kind} task runs inside Tern and writes no log; see its output and error below.`;
    }
  }

  /** A poll re-reads the run and the chosen attempt's log. */
  protected override async fetchUpdate(): Promise<void> {
    const run = await pipelinesApi.run(this.runId);
    if (this.disposed) return;
    this.run = run;
    await this.#loadLog();
  }

  async choose(tryNumber: number): Promise<void> {
    this.tryNumber = tryNumber;
    this.log = null;
    await this.refresh();
  }
}
