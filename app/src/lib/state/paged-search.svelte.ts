/**
 * A list that is searched by name, sorted, and paged with the opaque page tokens MLflow's search
 * endpoints return (tokens[i] fetches page i). Subclasses say how to fetch one page; this class keeps
 * the paging, the loading and error state, and ignores answers that arrive after a newer request.
 */
import { errorMessage } from "./run-fields";

export interface PageRequest<K> {
  query: string;
  sort: { key: K; ascending: boolean };
  pageSize: number;
  pageToken: string | undefined;
}

export abstract class PagedSearch<T, K extends string> {
  items = $state.raw<T[]>([]);
  loading = $state(true);
  error = $state<string | null>(null);
  query = $state("");
  sort: { key: K; ascending: boolean } = $state() as { key: K; ascending: boolean };
  pageSize = $state(25);
  pageIndex = $state(0);
  nextToken = $state<string | null>(null);
  /** The query the shown rows answer, which lags `query` while typing. */
  shownQuery = $state("");
  #tokens: (string | undefined)[] = [undefined];
  #seq = 0;

  constructor(sort: { key: K; ascending: boolean }, pageSize: number) {
    this.sort = sort;
    this.pageSize = pageSize;
  }

  protected abstract fetchPage(request: PageRequest<K>): Promise<{ items: T[]; nextToken?: string | null }>;

  /** The direction a newly chosen sort key starts in. */
  protected abstract initialAscending(key: K): boolean;

  get hasPrevious(): boolean {
    return this.pageIndex > 0;
  }

  async load(): Promise<void> {
    const seq = ++this.#seq;
    const query = this.query.trim();
    this.loading = true;
    try {
      const page = await this.fetchPage({ query, sort: this.sort, pageSize: this.pageSize, pageToken: this.#tokens[this.pageIndex] });
      if (seq !== this.#seq) return;
      this.items = page.items;
      this.nextToken = page.nextToken ?? null;
      this.shownQuery = query;
      this.error = null;
    } catch (err) {
      if (seq !== this.#seq) return;
      this.items = [];
      this.nextToken = null;
      this.error = errorMessage(err);
    } finally {
      if (seq === this.#seq) this.loading = false;
    }
  }

  search(query: string): Promise<void> {
    this.query = query;
    return this.firstPage();
  }

  sortBy(key: K): Promise<void> {
    this.sort = this.sort.key === key ? { key, ascending: !this.sort.ascending } : { key, ascending: this.initialAscending(key) };
    return this.firstPage();
  }

  setPageSize(size: number): Promise<void> {
    this.pageSize = size;
    return this.firstPage();
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

  protected firstPage(): Promise<void> {
    this.#tokens = [undefined];
    this.pageIndex = 0;
    return this.load();
  }
}
