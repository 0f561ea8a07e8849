/**
 * One dataset's page: the dataset (description and tags, editable), its versions newest first with
 * page-token paging, the two versions picked for a diff, and delete.
 */
import { datasetsApi, type Dataset, type DatasetVersion } from "$lib/api/datasets";
import { errorMessage } from "./run-fields";
import { TokenPagedList } from "./token-paged-list.svelte";

/** "k=v" lines (or k=v separated by spaces) into tags; a word without "=" is refused. */
export function parseTags(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\n|\s+(?=[^\s=]+=)/)) {
    const t = line.trim();
    if (!t) continue;
    const eq = t.indexOf("=");
    if (eq <= 0) throw new Error(`Tag '${t}' is not key=value`);
    out[t.slice(0, eq).trim()] = t.slice(eq + 1).trim();
  }
  return out;
}

export const tagsText = (tags: Record<string, string>) =>
  Object.entries(tags)
    .map(([k, v]) => `${k}=${v}`)
    .join("\n");

export class DatasetState extends TokenPagedList<DatasetVersion> {
  dataset = $state.raw<Dataset | null>(null);
  notFound = $state(false);
  loadError = $state<string | null>(null);
  /** Version numbers picked for a diff, at most two, in the order picked. */
  picked = $state<number[]>([]);

  constructor(readonly name: string) {
    super(25);
  }

  protected async fetchPage(pageToken: string | undefined, pageSize: number) {
    const page = await datasetsApi.versions(this.name, { max_results: pageSize, page_token: pageToken });
    return { items: page.versions, nextToken: page.next_page_token };
  }

  async loadAll(): Promise<void> {
    try {
      this.dataset = (await datasetsApi.get(this.name)).dataset;
    } catch (err) {
      if ((err as { status?: number }).status === 404) this.notFound = true;
      else this.loadError = errorMessage(err);
      return;
    }
    await this.load();
  }

  async refresh(): Promise<void> {
    this.dataset = (await datasetsApi.get(this.name)).dataset;
    await this.load();
  }

  async update(description: string, tags: Record<string, string>): Promise<void> {
    this.dataset = (await datasetsApi.update(this.name, { description, tags })).dataset;
  }

  async delete(): Promise<void> {
    await datasetsApi.remove(this.name);
  }

  toggle(version: number): void {
    if (this.picked.includes(version)) this.picked = this.picked.filter((v) => v !== version);
    else this.picked = [...this.picked, version].slice(-2);
  }

  /** The diff link for the picked pair, older first. */
  get diffHref(): string | null {
    if (this.picked.length !== 2) return null;
    const [a, b] = [...this.picked].sort((x, y) => x - y);
    return `/datasets/${encodeURIComponent(this.name)}/diff?a=${a}&b=${b}`;
  }
}
