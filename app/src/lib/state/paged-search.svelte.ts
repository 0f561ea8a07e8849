/**
 * A token-paged list searched by name and sorted by a column: the experiments and registered-models
 * lists. Subclasses say how to fetch one page for a query and sort.
 */
import { TokenPagedList, type FetchedPage } from "./token-paged-list.svelte";

export interface PageRequest<K> {
  query: string;
  sort: { key: K; ascending: boolean };
  pageSize: number;
  pageToken: string | undefined;
}

export abstract class PagedSearch<T, K extends string> extends TokenPagedList<T> {
  query = $state("");
  sort: { key: K; ascending: boolean } = $state() as { key: K; ascending: boolean };
  /** The query the shown rows answer, which lags `query` while typing. */
  shownQuery = $state("");

  constructor(sort: { key: K; ascending: boolean }, pageSize: number) {
    super(pageSize);
    this.sort = sort;
  }

  protected abstract fetchSearchPage(request: PageRequest<K>): Promise<FetchedPage<T>>;

  /** The direction a newly chosen sort key starts in. */
  protected abstract initialAscending(key: K): boolean;

  protected async fetchPage(pageToken: string | undefined, pageSize: number) {
    const query = this.query.trim();
    const page = await this.fetchSearchPage({ query, sort: this.sort, pageSize, pageToken });
    return { ...page, settle: () => (this.shownQuery = query) };
  }

  search(query: string): Promise<void> {
    this.query = query;
    return this.firstPage();
  }

  sortBy(key: K): Promise<void> {
    this.sort = this.sort.key === key ? { key, ascending: !this.sort.ascending } : { key, ascending: this.initialAscending(key) };
    return this.firstPage();
  }
}
