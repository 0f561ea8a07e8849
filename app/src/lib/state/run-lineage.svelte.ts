/**
 * What a run is linked to beyond its own data: the model versions registered from it
 * (model-versions/search by run_id), the MLflow 3 logged models it output (each looked up for its
 * name), its parent run (the mlflow.parentRunId tag) and its child runs (runs tagged with this run as
 * their parent, in its experiment). Each part loads and fails on its own.
 */
import { SvelteMap } from "svelte/reactivity";
import { api, type MlflowLoggedModel, type MlflowModelVersion, type MlflowRun } from "$lib/api/client";
import { errorMessage, quoteFilterValue, TAGS, tagsOf } from "./run-fields";
import { SourceRuns } from "./registry-runs.svelte";

export type Loaded<T> = { status: "loading" } | { status: "error"; message: string } | { status: "ready"; value: T };

/** Child runs shown on the page; more are reached through the experiment's runs table. */
export const CHILD_RUNS_SHOWN = 100;

export const versionHref = (v: Pick<MlflowModelVersion, "name" | "version">) =>
  `/models/${encodeURIComponent(v.name)}/versions/${encodeURIComponent(v.version)}`;

export const runPageHref = (experimentId: string, runId: string) => `/experiments/${encodeURIComponent(experimentId)}/runs/${encodeURIComponent(runId)}`;

/** The runs table of the experiment, filtered to a run's children. */
export const childRunsFilter = (runId: string) => `tags.${TAGS.parentRun} = ${quoteFilterValue(runId)}`;

export class RunLineageState {
  readonly runId: string;
  versions = $state.raw<Loaded<MlflowModelVersion[]>>({ status: "loading" });
  children = $state.raw<Loaded<{ runs: MlflowRun[]; more: boolean }>>({ status: "loading" });
  /** Logged models by id; null when the model is gone or could not be read. */
  readonly loggedModels = new SvelteMap<string, MlflowLoggedModel | null>();
  readonly parents = new SourceRuns();

  constructor(runId: string) {
    this.runId = runId;
  }

  async load(run: MlflowRun): Promise<void> {
    const parentId = tagsOf(run).get(TAGS.parentRun);
    await Promise.all([
      this.#loadVersions(),
      this.#loadChildren(run.info.experiment_id),
      this.parents.resolve([parentId]),
      ...(run.outputs?.model_outputs ?? []).map((o) => this.#loadLoggedModel(o.model_id)),
    ]);
  }

  async #loadVersions(): Promise<void> {
    try {
      const versions: MlflowModelVersion[] = [];
      let pageToken: string | undefined;
      // A run rarely has more than a page of versions; the loop keeps a busy one complete.
      do {
        const page = await api.registry.versions.search({ filter: `run_id = ${quoteFilterValue(this.runId)}`, max_results: 200, page_token: pageToken });
        versions.push(...(page.model_versions ?? []));
        pageToken = page.next_page_token;
      } while (pageToken);
      versions.sort((a, b) => a.name.localeCompare(b.name) || Number(a.version) - Number(b.version));
      this.versions = { status: "ready", value: versions };
    } catch (err) {
      this.versions = { status: "error", message: errorMessage(err) };
    }
  }

  async #loadChildren(experimentId: string): Promise<void> {
    try {
      const page = await api.mlflow.runs.search({
        experiment_ids: [experimentId],
        filter: childRunsFilter(this.runId),
        order_by: ["attributes.start_time DESC"],
        max_results: CHILD_RUNS_SHOWN,
      });
      this.children = { status: "ready", value: { runs: page.runs ?? [], more: !!page.next_page_token } };
    } catch (err) {
      this.children = { status: "error", message: errorMessage(err) };
    }
  }

  async #loadLoggedModel(modelId: string): Promise<void> {
    if (this.loggedModels.has(modelId)) return;
    try {
      this.loggedModels.set(modelId, (await api.loggedModels.get(modelId)).model);
    } catch {
      this.loggedModels.set(modelId, null);
    }
  }
}
