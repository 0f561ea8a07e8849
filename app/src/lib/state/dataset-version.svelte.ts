/**
 * A dataset version's page: the version, its files (directory versions, paged), and a preview of the
 * first rows of its file (or of the chosen file of a directory) read in the browser with range requests.
 */
import { datasetsApi, type DatasetVersion, type ManifestEntry } from "$lib/api/datasets";
import { previewable, readPreview, type Preview } from "$lib/datasets/preview";
import { errorMessage } from "./run-fields";
import { TokenPagedList } from "./token-paged-list.svelte";

class FilesList extends TokenPagedList<ManifestEntry> {
  constructor(
    private readonly name: string,
    private readonly version: number,
  ) {
    super(100);
  }
  protected async fetchPage(pageToken: string | undefined, pageSize: number) {
    const r = await datasetsApi.files(this.name, this.version, { max_results: pageSize, page_token: pageToken });
    return { items: r.files, nextToken: r.next_page_token };
  }
}

export class DatasetVersionState {
  version = $state.raw<DatasetVersion | null>(null);
  notFound = $state(false);
  error = $state<string | null>(null);
  files = $state.raw<FilesList | null>(null);
  preview = $state.raw<Preview | null>(null);
  previewPath = $state<string | null>(null);
  previewLoading = $state(false);
  previewError = $state<string | null>(null);
  #previewSeq = 0;

  constructor(
    readonly name: string,
    readonly ref: number | "latest",
  ) {}

  async load(): Promise<void> {
    try {
      this.version = (await datasetsApi.version(this.name, this.ref)).version;
    } catch (err) {
      if ((err as { status?: number }).status === 404) this.notFound = true;
      else this.error = errorMessage(err);
      return;
    }
    const v = this.version;
    if (v.kind === "directory") {
      const files = new FilesList(this.name, v.version);
      this.files = files;
      await files.load();
      const first = files.items.find((f) => previewable(f.path, null));
      if (first) await this.showPreview(first.path);
    } else if (previewable(v.file_name, v.content_type)) {
      await this.showPreview(null);
    }
  }

  downloadUrl(path?: string): string {
    return datasetsApi.downloadUrl(this.name, this.version!.version, path);
  }

  /** Reads the first rows of the version's file, or of `path` in a directory version. */
  async showPreview(path: string | null): Promise<void> {
    const v = this.version;
    if (!v) return;
    const seq = ++this.#previewSeq;
    this.previewPath = path;
    this.previewLoading = true;
    this.previewError = null;
    try {
      const entry = path ? this.files?.items.find((f) => f.path === path) : null;
      const size = path ? (entry?.size ?? 0) : v.size;
      const p = await readPreview(this.downloadUrl(path ?? undefined), path ?? v.file_name, path ? null : v.content_type, size);
      if (seq === this.#previewSeq) this.preview = p;
    } catch (err) {
      if (seq === this.#previewSeq) {
        this.preview = null;
        this.previewError = errorMessage(err);
      }
    } finally {
      if (seq === this.#previewSeq) this.previewLoading = false;
    }
  }
}
