/**
 * One browser upload of a new dataset version: hash every picked file in the dataset Web Worker (and
 * profile a single tabular file there), ask the store which hashes it lacks, upload only those (one PUT
 * for a small file, parallel parts for a large one), then commit the version in one request. Cancel at
 * any point before the commit aborts the requests in flight, aborts open multipart uploads and, for a
 * dataset this upload created, deletes it again, so a cancelled upload leaves no version behind.
 */
import { blobUrl, datasetsApi, MISSING_QUERY_LIMIT, partUrl, putBytes, UploadAbortedError, type DatasetVersion, type ManifestEntry, type Profile } from "$lib/api/datasets";
import { chunks, manifestPaths, partRange, partSizeFor, runLimited, UPLOAD_CONCURRENCY, usesMultipart } from "$lib/datasets/upload-plan";
import { DatasetHasher, HashCancelledError } from "$lib/workers/datasets/client";
import { errorMessage } from "./run-fields";

export type UploadPhase = "idle" | "hashing" | "profiling" | "checking" | "uploading" | "committing" | "done" | "cancelled" | "failed";

export interface PickedFile {
  file: File;
  /** Its path inside the version: the file name, or the path under the picked folder. */
  path: string;
}

/** Files from an <input type=file>: a single file keeps its name; a folder's files keep their paths under it. */
export function pickedFiles(list: FileList | File[], asFolder: boolean): PickedFile[] {
  const files = [...list];
  if (!asFolder) return files.map((file) => ({ file, path: file.name }));
  const paths = manifestPaths(files.map((f) => f.webkitRelativePath || f.name));
  return files.map((file, i) => ({ file, path: paths[i] })).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export interface UploadRequest {
  dataset: string;
  files: PickedFile[];
  /** A folder upload commits a manifest even when it holds a single file. */
  asFolder: boolean;
  message: string;
  /** Create the dataset first (and delete it again if the upload is cancelled or fails). */
  create?: { description?: string };
}

export class DatasetUpload {
  phase = $state<UploadPhase>("idle");
  totalBytes = $state(0);
  hashedBytes = $state(0);
  /** Bytes that need uploading (content the store lacks). */
  uploadBytes = $state(0);
  sentBytes = $state(0);
  filesToUpload = $state(0);
  filesSkipped = $state(0);
  profileNote = $state<string | null>(null);
  error = $state<string | null>(null);
  version = $state.raw<DatasetVersion | null>(null);

  private hasher = new DatasetHasher();
  private controller = new AbortController();
  private openUploads = new Set<string>();

  get busy(): boolean {
    return ["hashing", "profiling", "checking", "uploading", "committing"].includes(this.phase);
  }

  /** Cancel is possible until the commit is on its way. */
  get cancellable(): boolean {
    return ["hashing", "profiling", "checking", "uploading"].includes(this.phase);
  }

  get hashFraction(): number {
    return this.totalBytes ? Math.min(1, this.hashedBytes / this.totalBytes) : this.phase === "idle" ? 0 : 1;
  }

  get uploadFraction(): number {
    if (["committing", "done"].includes(this.phase)) return 1;
    if (this.phase !== "uploading") return 0;
    return this.uploadBytes ? Math.min(1, this.sentBytes / this.uploadBytes) : 1;
  }

  reset(): void {
    this.phase = "idle";
    this.totalBytes = this.hashedBytes = this.uploadBytes = this.sentBytes = this.filesToUpload = this.filesSkipped = 0;
    this.profileNote = this.error = null;
    this.version = null;
  }

  /** Resolves with the committed version, or null when cancelled; failures leave `error` set. */
  async run(req: UploadRequest): Promise<DatasetVersion | null> {
    this.reset();
    this.controller = new AbortController();
    const signal = this.controller.signal;
    let created = false;
    try {
      if (req.files.length === 0) throw new Error("Pick a file or a folder to upload");
      this.totalBytes = req.files.reduce((s, f) => s + f.file.size, 0);
      this.phase = "hashing";
      const hashes: string[] = [];
      let before = 0;
      for (const f of req.files) {
        const base = before;
        hashes.push(await this.hasher.hash(f.file, (bytes) => (this.hashedBytes = base + bytes)));
        before += f.file.size;
        this.hashedBytes = before;
      }

      const single = !req.asFolder && req.files.length === 1;
      let profile: Profile | null = null;
      if (single) {
        this.phase = "profiling";
        const p = await this.hasher.profile(req.files[0].file, req.files[0].path);
        profile = p.profile;
        this.profileNote = p.error;
      }
      this.checkAborted(signal);

      if (req.create) {
        this.phase = "checking";
        await datasetsApi.create({ name: req.dataset, description: req.create.description || undefined });
        created = true;
      }
      this.phase = "checking";
      const unique = [...new Set(hashes)];
      const missing = new Set<string>();
      for (const part of chunks(unique, MISSING_QUERY_LIMIT)) for (const h of (await datasetsApi.missing(part)).missing) missing.add(h);
      this.checkAborted(signal);

      // One upload per missing hash, even when several picked files share the content.
      const todo = new Map<string, File>();
      req.files.forEach((f, i) => {
        if (missing.has(hashes[i]) && !todo.has(hashes[i])) todo.set(hashes[i], f.file);
      });
      this.filesToUpload = todo.size;
      this.filesSkipped = req.files.length - req.files.filter((_, i) => todo.has(hashes[i])).length;
      this.uploadBytes = [...todo.values()].reduce((s, f) => s + f.size, 0);
      this.phase = "uploading";
      await this.uploadAll(todo, signal);
      this.checkAborted(signal);

      this.phase = "committing";
      const message = req.message.trim() || undefined;
      const input = single
        ? { sha256: hashes[0], file_name: req.files[0].path, message, profile: profile ?? undefined }
        : { manifest: req.files.map<ManifestEntry>((f, i) => ({ path: f.path, sha256: hashes[i], size: f.file.size })), message };
      const { version } = await datasetsApi.commit(req.dataset, input);
      this.version = version;
      this.phase = "done";
      return version;
    } catch (err) {
      const cancelled = err instanceof UploadAbortedError || err instanceof HashCancelledError || signal.aborted;
      await this.cleanUp(created ? req.dataset : null);
      if (cancelled) {
        this.phase = "cancelled";
        return null;
      }
      this.error = errorMessage(err);
      this.phase = "failed";
      return null;
    }
  }

  cancel(): void {
    if (!this.cancellable) return;
    this.controller.abort();
    this.hasher.cancel();
  }

  dispose(): void {
    this.controller.abort();
    this.hasher.cancel();
  }

  private checkAborted(signal: AbortSignal): void {
    if (signal.aborted) throw new UploadAbortedError();
  }

  private async cleanUp(createdDataset: string | null): Promise<void> {
    const open = [...this.openUploads];
    this.openUploads.clear();
    await Promise.all(open.map((id) => datasetsApi.abortUpload(id).catch(() => undefined)));
    if (createdDataset) await datasetsApi.remove(createdDataset).catch(() => undefined);
  }

  /** Small files and the parts of large ones share one pool of parallel requests. */
  private async uploadAll(todo: Map<string, File>, signal: AbortSignal): Promise<void> {
    const sent = new Map<string, number>();
    const progress = (key: string) => (bytes: number) => {
      sent.set(key, bytes);
      let total = 0;
      for (const v of sent.values()) total += v;
      this.sentBytes = total;
    };
    type Job = () => Promise<void>;
    const small: Job[] = [];
    const large: { sha256: string; file: File }[] = [];
    for (const [sha256, file] of todo) {
      if (usesMultipart(file.size)) large.push({ sha256, file });
      else small.push(() => putBytes(blobUrl(sha256), file, {}, progress(sha256), signal).then(() => undefined));
    }
    const parts: Job[] = [];
    const completions: (() => Promise<void>)[] = [];
    for (const { sha256, file } of large) {
      this.checkAborted(signal);
      const upload = await datasetsApi.createUpload({ sha256, size: file.size, part_size: partSizeFor(file.size) });
      if (upload.exists) {
        progress(sha256)(file.size);
        continue;
      }
      this.openUploads.add(upload.upload_id);
      for (let n = 1; n <= upload.part_count; n++) {
        const [start, end] = partRange(file.size, upload.part_size, n);
        parts.push(() => putBytes(partUrl(upload.upload_id, n), file.slice(start, end), {}, progress(`${sha256}:${n}`), signal).then(() => undefined));
      }
      completions.push(async () => {
        await datasetsApi.completeUpload(upload.upload_id);
        this.openUploads.delete(upload.upload_id);
      });
    }
    await runLimited([...parts, ...small], UPLOAD_CONCURRENCY, (job) => job());
    this.checkAborted(signal);
    for (const complete of completions) await complete();
  }
}
