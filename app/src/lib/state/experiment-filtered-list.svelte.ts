/**
 * A token-paged list inside one experiment, narrowed by an MLflow filter typed by the user: the runs
 * table and the trace list. A 400 from the API is about the filter (the only user text in the
 * request) and is shown under the filter box; filter and sort live in the page URL so a view can be
 * shared and survives a reload.
 */
import { replaceState } from "$app/navigation";
import { api, ApiClientError, type MlflowExperiment } from "$lib/api/client";
import { errorMessage } from "./run-fields";
import { TokenPagedList } from "./token-paged-list.svelte";

export abstract class ExperimentFilteredList<T> extends TokenPagedList<T> {
  readonly experimentId: string;
  experiment = $state.raw<MlflowExperiment | null>(null);
  experimentError = $state<string | null>(null);
  /** The API's word on a filter it refuses, shown under the filter box. */
  filterError = $state<string | null>(null);
  /** The filter box's text; `appliedFilter` is what the rows answer. */
  filter = $state("");
  appliedFilter = $state("");

  constructor(experimentId: string, params: URLSearchParams, pageSize: number) {
    super(pageSize);
    this.experimentId = experimentId;
    this.filter = this.appliedFilter = params.get("filter") ?? "";
  }

  /** The sort to put into the URL, or null when it is the default one. */
  protected abstract sortInUrl(): { key: string; ascending: boolean } | null;

  async loadExperiment(): Promise<void> {
    try {
      this.experiment = (await api.mlflow.experiments.get(this.experimentId)).experiment;
      this.experimentError = null;
    } catch (err) {
      this.experimentError = err instanceof ApiClientError && err.status === 404 ? `Experiment ${this.experimentId} does not exist.` : errorMessage(err);
    }
  }

  applyFilter(text: string = this.filter): Promise<void> {
    this.filter = text;
    this.appliedFilter = text.trim();
    return this.firstPage();
  }

  clearFilter(): Promise<void> {
    return this.applyFilter("");
  }

  /** Called by subclasses when a page arrived: the filter was accepted. */
  protected filterAccepted(): void {
    this.filterError = null;
  }

  protected override failed(err: unknown): boolean {
    if (err instanceof ApiClientError && err.status === 400) {
      this.filterError = err.message;
      return true;
    }
    this.filterError = null;
    return false;
  }

  protected override beforeFirstPage(): void {
    const url = new URL(window.location.href);
    const set = (name: string, value: string | null) => (value ? url.searchParams.set(name, value) : url.searchParams.delete(name));
    const sort = this.sortInUrl();
    set("filter", this.appliedFilter || null);
    set("sort", sort ? sort.key : null);
    set("asc", sort ? (sort.ascending ? "1" : "0") : null);
    replaceState(url, {});
  }
}
