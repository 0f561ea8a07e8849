/**
 * A run's artifact browser: directory listings fetched as a directory is first opened, which
 * directories are open, the selected file, and its preview (the head of a text file through one
 * Range request, an image as an object URL, since requests carry this browser's token and an <img>
 * cannot). Each selection supersedes the last, so a slow preview never replaces a newer one.
 */
import { SvelteMap, SvelteSet } from "svelte/reactivity";
import { api, tokenStorage, type MlflowFileInfo } from "$lib/api/client";
import { parseCsvHead, type CsvHead } from "$lib/artifacts/csv-head";
import {
  contentRangeTotal,
  decodeHead,
  IMAGE_PREVIEW_MAX_BYTES,
  prettyJson,
  previewKind,
  TEXT_PREVIEW_BYTES,
  type JsonPreview,
  type PreviewKind,
} from "$lib/artifacts/preview";
import { errorMessage } from "./run-fields";

export type Listing = { status: "loading" } | { status: "error"; message: string } | { status: "ready"; files: MlflowFileInfo[] };

export type Preview =
  | { status: "loading"; kind: PreviewKind }
  | { status: "error"; kind: PreviewKind; message: string }
  | { status: "none"; kind: "none" }
  | { status: "too-large"; kind: PreviewKind }
  | { status: "text"; kind: "text"; text: string; truncated: boolean; total: number }
  | { status: "json"; kind: "json"; json: JsonPreview; truncated: boolean; total: number }
  | { status: "table"; kind: "csv" | "tsv"; table: CsvHead; total: number }
  | { status: "image"; kind: "image"; url: string };

/** Directories before files, then by name, as file browsers list them. */
const byDirThenName = (a: MlflowFileInfo, b: MlflowFileInfo) => Number(b.is_dir) - Number(a.is_dir) || a.path.localeCompare(b.path);

export class RunArtifactsState {
  readonly runId: string;
  /** Listings by directory path; "" is the run's root. */
  readonly listings = new SvelteMap<string, Listing>();
  readonly open = new SvelteSet<string>();
  selected = $state.raw<MlflowFileInfo | null>(null);
  preview = $state.raw<Preview | null>(null);
  downloadError = $state<string | null>(null);
  #generation = 0;
  #objectUrl: string | null = null;

  constructor(runId: string) {
    this.runId = runId;
  }

  get root(): Listing | undefined {
    return this.listings.get("");
  }

  downloadUrl(path: string): string {
    return api.artifacts.downloadUrl(this.runId, path);
  }

  async list(dir: string, refresh = false): Promise<void> {
    const current = this.listings.get(dir);
    if (current && !refresh && current.status !== "error") return;
    if (!current || current.status !== "ready") this.listings.set(dir, { status: "loading" });
    try {
      const { files = [] } = await api.artifacts.list(this.runId, dir);
      this.listings.set(dir, { status: "ready", files: [...files].sort(byDirThenName) });
    } catch (err) {
      this.listings.set(dir, { status: "error", message: errorMessage(err) });
    }
  }

  /** Reloads every listing seen so far and the selected file's preview. */
  async refresh(): Promise<void> {
    await Promise.all([...this.listings.keys()].map((dir) => this.list(dir, true)));
    if (this.selected) await this.select(this.selected);
  }

  toggle(dir: string): void {
    if (this.open.has(dir)) {
      this.open.delete(dir);
      return;
    }
    this.open.add(dir);
    void this.list(dir);
  }

  async select(file: MlflowFileInfo): Promise<void> {
    const generation = ++this.#generation;
    this.selected = file;
    this.#releaseImage();
    const kind = previewKind(file.path);
    if (kind === "none") {
      this.preview = { status: "none", kind };
      return;
    }
    this.preview = { status: "loading", kind };
    let next: Preview;
    try {
      next = await this.#load(file, kind);
    } catch (err) {
      next = { status: "error", kind, message: errorMessage(err) };
    }
    if (generation !== this.#generation) {
      if (next.status === "image") URL.revokeObjectURL(next.url);
      return;
    }
    if (next.status === "image") this.#objectUrl = next.url;
    this.preview = next;
  }

  async #load(file: MlflowFileInfo, kind: Exclude<PreviewKind, "none">): Promise<Preview> {
    const size = file.file_size ?? null;
    if (kind === "image") {
      if (size !== null && size > IMAGE_PREVIEW_MAX_BYTES) return { status: "too-large", kind };
      const blob = await (await api.artifacts.fetch(this.runId, file.path)).blob();
      return { status: "image", kind, url: URL.createObjectURL(blob) };
    }
    const { bytes, total } = await this.#head(file);
    const truncated = total > bytes.length;
    const text = decodeHead(bytes, truncated);
    if (kind === "json") return { status: "json", kind, json: prettyJson(text, truncated), truncated, total };
    if (kind === "csv" || kind === "tsv") {
      return { status: "table", kind, table: parseCsvHead(text, { delimiter: kind === "csv" ? "," : "\t", truncated }), total };
    }
    return { status: "text", kind, text, truncated, total };
  }

  /** The first TEXT_PREVIEW_BYTES of a file, and its whole size. */
  async #head(file: MlflowFileInfo): Promise<{ bytes: Uint8Array; total: number }> {
    // An empty file has no byte to ask for: a range request on it is unsatisfiable.
    if (file.file_size === 0) return { bytes: new Uint8Array(), total: 0 };
    const res = await api.artifacts.fetch(this.runId, file.path, { start: 0, end: TEXT_PREVIEW_BYTES - 1 });
    let bytes = new Uint8Array(await res.arrayBuffer());
    const total = res.status === 206 ? (contentRangeTotal(res.headers.get("content-range")) ?? file.file_size ?? bytes.length) : bytes.length;
    // A server that ignores Range sends the whole file; only its head is shown.
    if (bytes.length > TEXT_PREVIEW_BYTES) bytes = bytes.subarray(0, TEXT_PREVIEW_BYTES);
    return { bytes, total };
  }

  /**
   * Without a token the link downloads by itself. With one, a plain link would go unauthenticated,
   * so the file is fetched with the token and saved from an object URL instead.
   */
  interceptDownload(event: MouseEvent, path: string): void {
    if (!tokenStorage.get()) return;
    event.preventDefault();
    void this.#save(path);
  }

  async #save(path: string): Promise<void> {
    try {
      const blob = await (await api.artifacts.fetch(this.runId, path)).blob();
      const url = URL.createObjectURL(blob);
      const link = document.createElement("a");
      link.href = url;
      link.download = path.slice(path.lastIndexOf("/") + 1);
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      this.downloadError = null;
    } catch (err) {
      this.downloadError = `Could not download ${path}: ${errorMessage(err)}`;
    }
  }

  #releaseImage(): void {
    if (this.#objectUrl) URL.revokeObjectURL(this.#objectUrl);
    this.#objectUrl = null;
  }

  /** Frees the image preview's object URL when the page goes. */
  dispose(): void {
    this.#generation++;
    this.#releaseImage();
  }
}
