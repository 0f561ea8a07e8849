/**
 * One experiment's trace list: MLflow's trace filter and order_by, page-token pagination, and the
 * experiment it belongs to. Filter and sort live in the page URL so a view can be shared.
 */
import { api, type MlflowTraceInfo } from "$lib/api/client";
import { DEFAULT_TRACE_SORT, orderByClause, TRACE_SORT_KEYS, type TraceSort, type TraceSortKey } from "$lib/traces/trace-fields";
import { ExperimentFilteredList } from "./experiment-filtered-list.svelte";

export const TRACE_PAGE_SIZES = [25, 50, 100] as const;

export class TracesListState extends ExperimentFilteredList<MlflowTraceInfo> {
  sort = $state<TraceSort>(DEFAULT_TRACE_SORT);

  constructor(experimentId: string, params: URLSearchParams) {
    super(experimentId, params, 50);
    const key = params.get("sort") as TraceSortKey | null;
    if (key && TRACE_SORT_KEYS.includes(key)) this.sort = { key, ascending: params.get("asc") === "1" };
  }

  get traces(): MlflowTraceInfo[] {
    return this.items;
  }

  protected async fetchPage(pageToken: string | undefined, pageSize: number) {
    const page = await api.traces.search({
      locations: [{ type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id: this.experimentId } }],
      filter: this.appliedFilter || undefined,
      order_by: [orderByClause(this.sort)],
      max_results: pageSize,
      page_token: pageToken,
    });
    return { items: page.traces ?? [], nextToken: page.next_page_token, settle: () => this.filterAccepted() };
  }

  /** The same column flips direction; a new one starts with its natural order. */
  sortBy(key: TraceSortKey, naturalAscending: boolean): Promise<void> {
    this.sort = this.sort.key === key ? { key, ascending: !this.sort.ascending } : { key, ascending: naturalAscending };
    return this.firstPage();
  }

  protected sortInUrl() {
    const isDefault = this.sort.key === DEFAULT_TRACE_SORT.key && this.sort.ascending === DEFAULT_TRACE_SORT.ascending;
    return isDefault ? null : this.sort;
  }
}
