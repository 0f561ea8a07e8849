/**
 * One experiment's trace list: MLflow's trace filter and order_by, page-token pagination, and the
 * experiment it belongs to. Filter and sort live in the page URL so a view can be shared.
 */
import { replaceState } from "$app/navigation";
import { api, ApiClientError, type MlflowExperiment, type MlflowTraceInfo } from "$lib/api/client";
import { DEFAULT_TRACE_SORT, orderByClause, TRACE_SORT_KEYS, type TraceSort, type TraceSortKey } from "$lib/traces/trace-fields";
import { errorMessage } from "./run-fields";

export const TRACE_PAGE_SIZES = [25, 50, 100] as const;

export class TracesListState {
  readonly experimentId: string;
  experiment = $state.raw<MlflowExperiment | null>(null);
  experimentError = $state<string | null>(null);
  traces = $state.raw<MlflowTraceInfo[]>([]);
  loading = $state(true);
  /** A failure to load that is not the filter's fault. */
  error = $state<string | null>(null);
  /** The API's word on a filter it refuses, shown under the filter box. */
  filterError = $state<string | null>(null);
  filter = $state("");
  appliedFilter = $state("");
  sort = $state<TraceSort>(DEFAULT_TRACE_SORT);
  pageSize = $state<number>(50);
  pageIndex = $state(0);
  nextToken = $state<string | null>(null);
  #tokens: (string | undefined)[] = [undefined];
  #seq = 0;

  constructor(experimentId: string, params: URLSearchParams) {
    this.experimentId = experimentId;
    this.filter = this.appliedFilter = params.get("filter") ?? "";
    const key = params.get("sort") as TraceSortKey | null;
    if (key && TRACE_SORT_KEYS.includes(key)) this.sort = { key, ascending: params.get("asc") === "1" };
  }

  get hasPrevious(): boolean {
    return this.pageIndex > 0;
  }

  async loadExperiment(): Promise<void> {
    try {
      this.experiment = (await api.mlflow.experiments.get(this.experimentId)).experiment;
      this.experimentError = null;
    } catch (err) {
      this.experimentError = err instanceof ApiClientError && err.status === 404 ? `Experiment ${this.experimentId} does not exist.` : errorMessage(err);
    }
  }

  async load(): Promise<void> {
    const seq = ++this.#seq;
    this.loading = true;
    try {
      const page = await api.traces.search({
        locations: [{ type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id: this.experimentId } }],
        filter: this.appliedFilter || undefined,
        order_by: [orderByClause(this.sort)],
        max_results: this.pageSize,
        page_token: this.#tokens[this.pageIndex],
      });
      if (seq !== this.#seq) return;
      this.traces = page.traces ?? [];
      this.nextToken = page.next_page_token ?? null;
      this.error = this.filterError = null;
    } catch (err) {
      if (seq !== this.#seq) return;
      this.traces = [];
      this.nextToken = null;
      // The filter is the only user text in the request (order_by comes from the headers): a 400 is about it.
      if (err instanceof ApiClientError && err.status === 400) {
        this.filterError = err.message;
        this.error = null;
      } else {
        this.error = errorMessage(err);
        this.filterError = null;
      }
    } finally {
      if (seq === this.#seq) this.loading = false;
    }
  }

  applyFilter(text: string = this.filter): Promise<void> {
    this.filter = text;
    this.appliedFilter = text.trim();
    return this.#firstPage();
  }

  clearFilter(): Promise<void> {
    return this.applyFilter("");
  }

  /** The same column flips direction; a new one starts with its natural order. */
  sortBy(key: TraceSortKey, naturalAscending: boolean): Promise<void> {
    this.sort = this.sort.key === key ? { key, ascending: !this.sort.ascending } : { key, ascending: naturalAscending };
    return this.#firstPage();
  }

  setPageSize(size: number): Promise<void> {
    this.pageSize = size;
    return this.#firstPage();
  }

  next(): Promise<void> {
    if (!this.nextToken) return Promise.resolve();
    this.#tokens = [...this.#tokens.slice(0, this.pageIndex + 1), this.nextToken];
    this.pageIndex += 1;
    return this.load();
  }

  previous(): Promise<void> {
    if (this.pageIndex === 0) return Promise.resolve();
    this.pageIndex -= 1;
    return this.load();
  }

  #firstPage(): Promise<void> {
    this.#tokens = [undefined];
    this.pageIndex = 0;
    this.#syncUrl();
    return this.load();
  }

  #syncUrl(): void {
    const url = new URL(window.location.href);
    const set = (name: string, value: string | null) => (value ? url.searchParams.set(name, value) : url.searchParams.delete(name));
    set("filter", this.appliedFilter || null);
    const isDefault = this.sort.key === DEFAULT_TRACE_SORT.key && this.sort.ascending === DEFAULT_TRACE_SORT.ascending;
    set("sort", isDefault ? null : this.sort.key);
    set("asc", isDefault ? null : this.sort.ascending ? "1" : "0");
    replaceState(url, {});
  }
}
