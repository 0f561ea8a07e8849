/**
 * A list paged with the opaque page tokens MLflow's search endpoints return (tokens[i] fetches page
 * i). Subclasses say how to fetch one page; this class keeps the paging, the loading and error state,
 * and ignores answers that arrive after a newer request.
 */
import { errorMessage } from "./run-fields";

export interface FetchedPage<T> {
  items: T[];
  nextToken?: string | null;
}

export abstract class TokenPagedList<T> {
  items = $state.raw<T[]>([]);
  loading = $state(true);
  error = $state<string | null>(null);
  pageSize = $state(25);
  pageIndex = $state(0);
  nextToken = $state<string | null>(null);
  /** False until the first page has arrived (or failed): views wait for it before judging "empty". */
  loadedOnce = $state(false);
  #tokens: (string | undefined)[] = [undefined];
  #seq = 0;

  constructor(pageSize: number) {
    this.pageSize = pageSize;
  }

  /** Fetches one page; `settle` runs only if this answer is still the current one. */
  protected abstract fetchPage(pageToken: string | undefined, pageSize: number): Promise<FetchedPage<T> & { settle?: () => void }>;

  /** A failed page's error; return true when the subclass has shown it itself. */
  protected failed(_err: unknown): boolean {
    return false;
  }

  /** Runs before the first page of a new query is fetched (e.g. to put the query into the URL). */
  protected beforeFirstPage(): void {}

  get hasPrevious(): boolean {
    return this.pageIndex > 0;
  }

  async load(): Promise<void> {
    const seq = ++this.#seq;
    this.loading = true;
    try {
      const page = await this.fetchPage(this.#tokens[this.pageIndex], this.pageSize);
      if (seq !== this.#seq) return;
      this.items = page.items;
      this.nextToken = page.nextToken ?? null;
      this.error = null;
      page.settle?.();
    } catch (err) {
      if (seq !== this.#seq) return;
      this.items = [];
      this.nextToken = null;
      this.error = this.failed(err) ? null : errorMessage(err);
    } finally {
      if (seq === this.#seq) {
        this.loading = false;
        this.loadedOnce = true;
      }
    }
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
    this.beforeFirstPage();
    return this.load();
  }
}
