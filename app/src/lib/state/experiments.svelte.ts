/**
 * The experiments list: a name search (MLflow's `name ILIKE '%…%'` filter), sorting, page-token
 * pagination, and creating an experiment.
 */
import { api, type MlflowExperiment } from "$lib/api/client";
import { errorMessage, quoteFilterValue } from "./run-fields";

export type ExperimentSortKey = "name" | "experiment_id" | "creation_time" | "last_update_time";

const PAGE_SIZE = 100;

export class ExperimentsState {
  experiments = $state.raw<MlflowExperiment[]>([]);
  loading = $state(true);
  error = $state<string | null>(null);
  query = $state("");
  sort = $state<{ key: ExperimentSortKey; ascending: boolean }>({ key: "last_update_time", ascending: false });
  /** tokens[i] fetches page i; the first page needs none. */
  #tokens: (string | undefined)[] = [undefined];
  pageIndex = $state(0);
  nextToken = $state<string | null>(null);
  /** The query the shown rows answer, which lags `query` while typing. */
  shownQuery = $state("");
  #seq = 0;

  /** Nothing logged yet: no experiment besides MLflow's Default one, and no search narrowing the list. */
  get onlyDefault(): boolean {
    return !this.loading && !this.error && this.shownQuery === "" && this.pageIndex === 0 && this.experiments.every((e) => e.experiment_id === "0");
  }

  get hasPrevious(): boolean {
    return this.pageIndex > 0;
  }

  async load(): Promise<void> {
    const seq = ++this.#seq;
    const query = this.query.trim();
    this.loading = true;
    try {
      const page = await api.mlflow.experiments.search({
        filter: query ? `name ILIKE ${quoteFilterValue(`%${query}%`)}` : undefined,
        order_by: [`${this.sort.key} ${this.sort.ascending ? "ASC" : "DESC"}`],
        max_results: PAGE_SIZE,
        page_token: this.#tokens[this.pageIndex],
      });
      if (seq !== this.#seq) return;
      this.experiments = page.experiments ?? [];
      this.nextToken = page.next_page_token ?? null;
      this.shownQuery = query;
      this.error = null;
    } catch (err) {
      if (seq !== this.#seq) return;
      this.experiments = [];
      this.nextToken = null;
      this.error = errorMessage(err);
    } finally {
      if (seq === this.#seq) this.loading = false;
    }
  }

  search(query: string): Promise<void> {
    this.query = query;
    return this.#firstPage();
  }

  sortBy(key: ExperimentSortKey): Promise<void> {
    // Names read best A→Z; ids and times newest first.
    this.sort = this.sort.key === key ? { key, ascending: !this.sort.ascending } : { key, ascending: key === "name" };
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

  /** Returns the new experiment's id, or throws the API's message for the dialog to show. */
  async create(name: string): Promise<string> {
    const { experiment_id } = await api.mlflow.experiments.create({ name: name.trim() });
    await this.load();
    return experiment_id;
  }

  #firstPage(): Promise<void> {
    this.#tokens = [undefined];
    this.pageIndex = 0;
    return this.load();
  }
}
