/**
 * The registered models list: a name search (MLflow's `name ILIKE '%…%'` filter), sorting by name or
 * last update, page-token pagination with a page size, and registering a new model.
 */
import { api, type MlflowRegisteredModel } from "$lib/api/client";
import { PagedSearch, type PageRequest } from "./paged-search.svelte";
import { quoteFilterValue } from "./run-fields";

export type ModelSortKey = "name" | "last_updated_timestamp";

export const MODEL_PAGE_SIZES = [10, 25, 50, 100] as const;

export class RegisteredModelsState extends PagedSearch<MlflowRegisteredModel, ModelSortKey> {
  constructor() {
    super({ key: "name", ascending: true }, 25);
  }

  get models(): MlflowRegisteredModel[] {
    return this.items;
  }

  /** No model registered at all (not merely none matching a search). */
  get isEmpty(): boolean {
    return !this.loading && !this.error && this.shownQuery === "" && this.pageIndex === 0 && this.items.length === 0;
  }

  protected async fetchSearchPage(r: PageRequest<ModelSortKey>) {
    const page = await api.registry.models.search({
      filter: r.query ? `name ILIKE ${quoteFilterValue(`%${r.query}%`)}` : undefined,
      order_by: `${r.sort.key} ${r.sort.ascending ? "ASC" : "DESC"}`,
      max_results: r.pageSize,
      page_token: r.pageToken,
    });
    return { items: page.registered_models ?? [], nextToken: page.next_page_token };
  }

  /** Names read best A→Z; times newest first. */
  protected initialAscending(key: ModelSortKey): boolean {
    return key === "name";
  }

  /** Returns the new model's name, or throws the API's message for the dialog to show. */
  async create(name: string, description: string): Promise<string> {
    const { registered_model } = await api.registry.models.create({ name: name.trim(), description: description.trim() || undefined });
    return registered_model.name;
  }
}
