/**
 * The pipelines list: every pipeline with its schedule, next run and last run states, and pausing or
 * unpausing one in place.
 */
import { pipelinesApi, type PipelineSummary } from "$lib/api/pipelines";
import { errorMessage } from "./run-fields";

export class PipelinesState {
  pipelines = $state.raw<PipelineSummary[]>([]);
  loading = $state(true);
  loadedOnce = $state(false);
  error = $state<string | null>(null);
  /** Per pipeline: the refusal of the last pause/unpause, if any. */
  toggleErrors = $state<Record<string, string>>({});
  toggling = $state<Record<string, boolean>>({});

  get empty(): boolean {
    return this.loadedOnce && !this.error && this.pipelines.length === 0;
  }

  async load(): Promise<void> {
    this.loading = true;
    try {
      this.pipelines = (await pipelinesApi.list()).pipelines;
      this.error = null;
    } catch (err) {
      this.error = errorMessage(err);
    } finally {
      this.loading = false;
      this.loadedOnce = true;
    }
  }

  async setPaused(id: string, paused: boolean): Promise<void> {
    this.toggling = { ...this.toggling, [id]: true };
    try {
      const { pipeline } = await pipelinesApi.setPaused(id, paused);
      this.pipelines = this.pipelines.map((p) => (p.pipeline_id === id ? { ...p, ...pipeline } : p));
      const { [id]: _, ...rest } = this.toggleErrors;
      this.toggleErrors = rest;
    } catch (err) {
      this.toggleErrors = { ...this.toggleErrors, [id]: errorMessage(err) };
    } finally {
      this.toggling = { ...this.toggling, [id]: false };
    }
  }
}
