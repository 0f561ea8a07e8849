/**
 * The experiments list: a name search (MLflow's `name ILIKE '%…%'` filter), sorting, page-token
 * pagination, and creating an experiment.
 */
import { api, type MlflowExperiment } from "$lib/api/client";
import { PagedSearch, type PageRequest } from "./paged-search.svelte";
import { quoteFilterValue } from "./run-fields";

export type ExperimentSortKey = "name" | "experiment_id" | "creation_time" | "last_update_time";

const PAGE_SIZE = 100;

export class ExperimentsState extends PagedSearch<MlflowExperiment, ExperimentSortKey> {
  constructor() {
    super({ key: "last_update_time", ascending: false }, PAGE_SIZE);
  }

  get experiments(): MlflowExperiment[] {
    return this.items;
  }

  /** Nothing logged yet: no experiment besides MLflow's Default one, and no search narrowing the list. */
  get onlyDefault(): boolean {
    return !this.loading && !this.error && this.shownQuery === "" && this.pageIndex === 0 && this.items.every((e) => e.experiment_id === "0");
  }

  protected async fetchSearchPage(r: PageRequest<ExperimentSortKey>) {
    const page = await api.mlflow.experiments.search({
      filter: r.query ? `name ILIKE ${quoteFilterValue(`%${r.query}%`)}` : undefined,
      order_by: [`${r.sort.key} ${r.sort.ascending ? "ASC" : "DESC"}`],
      max_results: r.pageSize,
      page_token: r.pageToken,
    });
    return { items: page.experiments ?? [], nextToken: page.next_page_token };
  }

  /** Names read best A→Z; ids and times newest first. */
  protected initialAscending(key: ExperimentSortKey): boolean {
    return key === "name";
  }

  /** Returns the new experiment's id, or throws the API's message for the dialog to show. */
  async create(name: string): Promise<string> {
    const { experiment_id } = await api.mlflow.experiments.create({ name: name.trim() });
    await this.load();
    return experiment_id;
  }
}
