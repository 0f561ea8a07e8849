/**
 * The datasets list: text search (name or description) and tag filters, page-token paging, and each
 * shown dataset's latest version (size, rows) fetched alongside the page.
 */
import { datasetsApi, type Dataset, type DatasetVersion } from "$lib/api/datasets";
import { TokenPagedList } from "./token-paged-list.svelte";

const PAGE_SIZE = 50;

/** "key=value key2=value2" into a tag filter; words without "=" are ignored. */
export function parseTagFilter(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const word of text.split(/\s+/)) {
    const eq = word.indexOf("=");
    if (eq > 0) out[word.slice(0, eq)] = word.slice(eq + 1);
  }
  return out;
}

export class DatasetsState extends TokenPagedList<Dataset> {
  query = $state("");
  tagText = $state("");
  shownQuery = $state("");
  latest = $state.raw<Map<string, DatasetVersion>>(new Map());

  constructor() {
    super(PAGE_SIZE);
  }

  get empty(): boolean {
    return this.loadedOnce && !this.loading && !this.error && this.shownQuery === "" && this.pageIndex === 0 && this.items.length === 0;
  }

  protected async fetchPage(pageToken: string | undefined, pageSize: number) {
    const query = this.query.trim();
    const tags = parseTagFilter(this.tagText);
    const page = await datasetsApi.list({ q: query || undefined, tags, max_results: pageSize, page_token: pageToken });
    const latest = await Promise.all(
      page.datasets.filter((d) => d.latest_version > 0).map((d) => datasetsApi.version(d.name, d.latest_version).then((r) => r.version).catch(() => null)),
    );
    return {
      items: page.datasets,
      nextToken: page.next_page_token,
      settle: () => {
        this.shownQuery = query + JSON.stringify(tags).replace("{}", "");
        this.latest = new Map(latest.filter((v): v is DatasetVersion => v !== null).map((v) => [v.dataset, v]));
      },
    };
  }

  search(query: string, tagText: string): Promise<void> {
    this.query = query;
    this.tagText = tagText;
    return this.firstPage();
  }
}
