/**
 * The studies list: a name search (the list endpoint's `name LIKE` filter) and page-token paging.
 */
import { nameFilter, tuningApi, type Study } from "$lib/api/tuning";
import { TokenPagedList } from "./token-paged-list.svelte";

const PAGE_SIZE = 50;

export class StudiesState extends TokenPagedList<Study> {
  query = $state("");
  /** The query the shown rows answer, which lags `query` while typing. */
  shownQuery = $state("");

  constructor() {
    super(PAGE_SIZE);
  }

  get studies(): Study[] {
    return this.items;
  }

  /** No study at all (not merely none matching a search). */
  get empty(): boolean {
    return this.loadedOnce && !this.loading && !this.error && this.shownQuery === "" && this.pageIndex === 0 && this.items.length === 0;
  }

  protected async fetchPage(pageToken: string | undefined, pageSize: number) {
    const query = this.query.trim();
    const page = await tuningApi.studies.list({ filter: query ? nameFilter(query) : undefined, max_results: pageSize, page_token: pageToken });
    return { items: page.studies, nextToken: page.next_page_token, settle: () => (this.shownQuery = query) };
  }

  search(query: string): Promise<void> {
    this.query = query;
    return this.firstPage();
  }
}
