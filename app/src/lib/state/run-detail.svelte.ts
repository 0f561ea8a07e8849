/**
 * One run's page: the run and its experiment, renaming it, and the histories of its metrics for the
 * charts (loaded through MetricHistories, which owns how histories are fetched); its artifacts and
 * what it is linked to (models, nested runs) live in their own states, loaded once the run is.
 */
import { api, ApiClientError, type MlflowExperiment, type MlflowRun } from "$lib/api/client";
import { runColor } from "$lib/charts/palette";
import { MetricHistories, type ChartState, type HistoryEntry } from "./metric-history.svelte";
import { RunArtifactsState } from "./run-artifacts.svelte";
import { RunLineageState } from "./run-lineage.svelte";
import { errorMessage, metricsOf, paramsOf, SYSTEM_TAG_PREFIX, tagsOf, type LatestMetric } from "./run-fields";

export class RunDetailState {
  readonly runId: string;
  run = $state.raw<MlflowRun | null>(null);
  experiment = $state.raw<MlflowExperiment | null>(null);
  loading = $state(true);
  error = $state<string | null>(null);
  readonly histories = new MetricHistories();
  readonly artifacts: RunArtifactsState;
  readonly lineage: RunLineageState;
  #charts = new Map<string, { entry: HistoryEntry | undefined; state: ChartState }>();

  constructor(runId: string) {
    this.runId = runId;
    this.artifacts = new RunArtifactsState(runId);
    this.lineage = new RunLineageState(runId);
  }

  readonly params: [string, string][] = $derived(this.run ? [...paramsOf(this.run)].sort(([a], [b]) => a.localeCompare(b)) : []);
  readonly metrics: [string, LatestMetric][] = $derived(this.run ? [...metricsOf(this.run)].sort(([a], [b]) => a.localeCompare(b)) : []);
  readonly metricKeys: string[] = $derived(this.metrics.map(([key]) => key));
  readonly tags: Map<string, string> = $derived(this.run ? tagsOf(this.run) : new Map());
  /** Tags the user set; MLflow's own (mlflow.*) are kept apart for the "system tags" view. */
  readonly userTags: [string, string][] = $derived([...this.tags].filter(([k]) => !k.startsWith(SYSTEM_TAG_PREFIX)).sort(([a], [b]) => a.localeCompare(b)));
  readonly systemTags: [string, string][] = $derived([...this.tags].filter(([k]) => k.startsWith(SYSTEM_TAG_PREFIX)).sort(([a], [b]) => a.localeCompare(b)));

  async load(): Promise<void> {
    this.loading = this.run === null;
    let run: MlflowRun;
    try {
      run = (await api.mlflow.runs.get(this.runId)).run;
      this.run = run;
      this.error = null;
    } catch (err) {
      this.run = null;
      this.error = err instanceof ApiClientError && err.status === 404 ? `Run ${this.runId} does not exist.` : errorMessage(err);
      return;
    } finally {
      this.loading = false;
    }
    if (this.experiment?.experiment_id === run.info.experiment_id) return;
    try {
      this.experiment = (await api.mlflow.experiments.get(run.info.experiment_id)).experiment;
    } catch {
      // The breadcrumb falls back to the experiment id.
    }
  }

  /** Reloads the run, every history, the artifact listings and the links, for a run still logging. */
  async refresh(): Promise<void> {
    await this.load();
    await Promise.all([this.loadHistories(true), this.artifacts.refresh(), this.loadRelated()]);
  }

  /** The root artifact listing, registered versions, logged models and nested runs, each on its own. */
  async loadRelated(): Promise<void> {
    if (!this.run) return;
    await Promise.all([this.artifacts.list(""), this.lineage.load(this.run)]);
  }

  /** Releases what the page held outside Svelte (the image preview's object URL). */
  dispose(): void {
    this.artifacts.dispose();
  }

  loadHistories(refresh = false): Promise<void> {
    return this.histories.load(
      this.metricKeys.map((key) => ({ runId: this.runId, key })),
      refresh,
    );
  }

  /** The same object while the history is unchanged, so other histories arriving redraw nothing here. */
  chart(key: string): ChartState {
    const entry = this.histories.get(this.runId, key);
    const cached = this.#charts.get(key);
    if (cached && cached.entry === entry) return cached.state;
    const state: ChartState =
      !entry || entry.status === "loading"
        ? { status: "loading" }
        : entry.status === "error"
          ? entry
          : { status: "ready", inputs: [{ label: key, color: runColor(0), points: entry.points }] };
    this.#charts.set(key, { entry, state });
    return state;
  }

  /** Returns null on success, or the API's message. */
  async rename(name: string): Promise<string | null> {
    try {
      await api.mlflow.runs.update({ run_id: this.runId, run_name: name.trim() });
      // Renaming also rewrites the mlflow.runName tag, so take the whole run back.
      this.run = (await api.mlflow.runs.get(this.runId)).run;
      return null;
    } catch (err) {
      return errorMessage(err);
    }
  }
}
