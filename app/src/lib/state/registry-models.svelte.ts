/**
 * The registered models list: a name search (MLflow's `name ILIKE '%…%'` filter), sorting by name or
 * last update, page-token pagination with a page size, and registering a new model.
 */
import { api, type MlflowRegisteredModel } from "$lib/api/client";
import { errorMessage, quoteFilterValue } from "./run-fields";

export type ModelSortKey = "name" | "last_updated_timestamp";

export const MODEL_PAGE_SIZES = [10, 25, 50, 100] as const;

export class RegisteredModelsState {
  models = $state.raw<MlflowRegisteredModel[]>([]);
  loading = $state(true);
  error = $state<string | null>(null);
  query = $state("");
  sort = $state<{ key: ModelSortKey; ascending: boolean }>({ key: "name", ascending: true });
  pageSize = $state<number>(25);
  /** tokens[i] fetches page i; the first page needs none. */
  #tokens = $state<(string | undefined)[]>([undefined]);
  pageIndex = $state(0);
  nextToken = $state<string | null>(null);
  /** The query the shown rows answer, which lags `query` while typing. */
  shownQuery = $state("");
  #seq = 0;

  /** No model registered at all (not merely none matching a search). */
  get isEmpty(): boolean {
    return !this.loading && !this.error && this.shownQuery === "" && this.pageIndex === 0 && this.models.length === 0;
  }

  get hasPrevious(): boolean {
    return this.pageIndex > 0;
  }

  async load(): Promise<void> {
    const seq = ++this.#seq;
    const query = this.query.trim();
    this.loading = true;
    try {
      const page = await api.registry.models.search({
        filter: query ? `name ILIKE ${quoteFilterValue(`%${query}%`)}` : undefined,
        order_by: `${this.sort.key} ${this.sort.ascending ? "ASC" : "DESC"}`,
        max_results: this.pageSize,
        page_token: this.#tokens[this.pageIndex],
      });
      if (seq !== this.#seq) return;
      this.models = page.registered_models ?? [];
      this.nextToken = page.next_page_token ?? null;
      this.shownQuery = query;
      this.error = null;
    } catch (err) {
      if (seq !== this.#seq) return;
      this.models = [];
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

  sortBy(key: ModelSortKey): Promise<void> {
    // Names read best A→Z; times newest first.
    this.sort = this.sort.key === key ? { key, ascending: !this.sort.ascending } : { key, ascending: key === "name" };
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

  /** Returns the new model's name, or throws the API's message for the dialog to show. */
  async create(name: string, description: string): Promise<string> {
    const { registered_model } = await api.registry.models.create({ name: name.trim(), description: description.trim() || undefined });
    return registered_model.name;
  }

  #firstPage(): Promise<void> {
    this.#tokens = [undefined];
    this.pageIndex = 0;
    return this.load();
  }
}
