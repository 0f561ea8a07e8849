/**
 * One experiment's runs table: MLflow filter and order_by, page-token pagination, the chosen
 * param/metric/tag columns (remembered per experiment in this browser), and the selection to compare.
 * Filter and sort live in the page URL so a view can be shared and survives a reload.
 */
import { SvelteSet } from "svelte/reactivity";
import { api, type MlflowRun } from "$lib/api/client";
import { ExperimentFilteredList } from "./experiment-filtered-list.svelte";
import { orderByTarget, SYSTEM_TAG_PREFIX, type ColumnKind, type ColumnRef } from "./run-fields";

export interface SortSpec {
  /** An MLflow order_by target: `attributes.start_time`, ``metrics.`loss` ``. */
  target: string;
  ascending: boolean;
}

export const DEFAULT_SORT: SortSpec = { target: "attributes.start_time", ascending: false };
export const PAGE_SIZES = [25, 50, 100, 250] as const;
const DEFAULT_METRIC_COLUMNS = 6;
const DEFAULT_PARAM_COLUMNS = 3;

const columnsKey = (experimentId: string) => `tern.runs-columns.${experimentId}`;
const sameColumn = (a: ColumnRef, b: ColumnRef) => a.kind === b.kind && a.key === b.key;

export class RunsTableState extends ExperimentFilteredList<MlflowRun> {
  sort = $state<SortSpec>(DEFAULT_SORT);
  readonly selected = new SvelteSet<string>();
  /** The user's own column choice; null until they change the defaults. */
  #chosen = $state<ColumnRef[] | null>(null);
  /** Keys seen on any page so far, so columns do not vanish when paging. */
  #seen = $state.raw<Record<ColumnKind, string[]>>({ param: [], metric: [], tag: [] });

  constructor(experimentId: string, params: URLSearchParams) {
    super(experimentId, params, 50);
    const sort = params.get("sort");
    if (sort) this.sort = { target: sort, ascending: params.get("asc") === "1" };
    try {
      const saved = JSON.parse(localStorage.getItem(columnsKey(experimentId)) ?? "null") as ColumnRef[] | null;
      if (Array.isArray(saved)) this.#chosen = saved.filter((c) => ["param", "metric", "tag"].includes(c?.kind) && typeof c.key === "string");
    } catch {
      this.#chosen = null;
    }
  }

  /** Param, metric and tag keys to choose columns from (system tags left out, as MLflow's UI does). */
  get available(): Record<ColumnKind, string[]> {
    return this.#seen;
  }

  get columns(): ColumnRef[] {
    if (this.#chosen) return this.#chosen;
    return [
      ...this.#seen.metric.slice(0, DEFAULT_METRIC_COLUMNS).map((key) => ({ kind: "metric" as const, key })),
      ...this.#seen.param.slice(0, DEFAULT_PARAM_COLUMNS).map((key) => ({ kind: "param" as const, key })),
    ];
  }

  isShown(column: ColumnRef): boolean {
    return this.columns.some((c) => sameColumn(c, column));
  }

  toggleColumn(column: ColumnRef): void {
    const current = this.columns;
    this.#saveColumns(this.isShown(column) ? current.filter((c) => !sameColumn(c, column)) : [...current, column]);
  }

  resetColumns(): void {
    this.#chosen = null;
    try {
      localStorage.removeItem(columnsKey(this.experimentId));
    } catch {
      // Storage may be refused; the defaults apply to this page anyway.
    }
  }

  get runs(): MlflowRun[] {
    return this.items;
  }

  get compareHref(): string {
    return `/experiments/${encodeURIComponent(this.experimentId)}/compare?runs=${[...this.selected].map(encodeURIComponent).join(",")}`;
  }

  protected async fetchPage(pageToken: string | undefined, pageSize: number) {
    const page = await api.mlflow.runs.search({
      experiment_ids: [this.experimentId],
      filter: this.appliedFilter || undefined,
      order_by: [`${this.sort.target} ${this.sort.ascending ? "ASC" : "DESC"}`],
      max_results: pageSize,
      page_token: pageToken,
    });
    const runs = page.runs ?? [];
    return {
      items: runs,
      nextToken: page.next_page_token,
      settle: () => {
        this.#remember(runs);
        this.filterAccepted();
      },
    };
  }

  /** A click on a header: the same column flips direction; a new one starts with its natural order. */
  sortBy(target: string, naturalAscending: boolean): Promise<void> {
    this.sort = this.sort.target === target ? { target, ascending: !this.sort.ascending } : { target, ascending: naturalAscending };
    return this.firstPage();
  }

  sortByColumn(column: ColumnRef): Promise<void> {
    return this.sortBy(orderByTarget(column), true);
  }

  toggleSelected(runId: string): void {
    if (this.selected.has(runId)) this.selected.delete(runId);
    else this.selected.add(runId);
  }

  /** The header checkbox: select every run on this page, or clear them if all are selected. */
  toggleAllOnPage(): void {
    const ids = this.runs.map((r) => r.info.run_id);
    if (ids.every((id) => this.selected.has(id))) ids.forEach((id) => this.selected.delete(id));
    else ids.forEach((id) => this.selected.add(id));
  }

  clearSelection(): void {
    this.selected.clear();
  }

  #remember(runs: MlflowRun[]): void {
    const merge = (kind: ColumnKind, keys: Iterable<string>) => [...new Set([...this.#seen[kind], ...keys])].sort((a, b) => a.localeCompare(b));
    this.#seen = {
      param: merge("param", runs.flatMap((r) => (r.data.params ?? []).map((p) => p.key))),
      metric: merge("metric", runs.flatMap((r) => (r.data.metrics ?? []).map((m) => m.key))),
      tag: merge("tag", runs.flatMap((r) => (r.data.tags ?? []).map((t) => t.key).filter((k) => !k.startsWith(SYSTEM_TAG_PREFIX)))),
    };
  }

  #saveColumns(columns: ColumnRef[]): void {
    this.#chosen = columns;
    try {
      localStorage.setItem(columnsKey(this.experimentId), JSON.stringify(columns));
    } catch {
      // Storage may be refused; the choice applies to this page anyway.
    }
  }

  protected sortInUrl() {
    const isDefault = this.sort.target === DEFAULT_SORT.target && this.sort.ascending === DEFAULT_SORT.ascending;
    return isDefault ? null : { key: this.sort.target, ascending: this.sort.ascending };
  }
}
