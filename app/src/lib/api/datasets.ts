/**
 * The app's client of the data-versioning API: datasets, versions, files, diffs, the content store's
 * uploads and the lineage graph. Wire shapes mirror worker/datasets/routes.ts. Uploads of bytes go
 * through XMLHttpRequest, the one browser API that reports upload progress and can be aborted mid-body.
 */
import { ApiClientError, query, request, tokenStorage } from "./client";
import type { DatasetVersion, Dataset, ManifestEntry, VersionDiff, BlobUpload, LineageGraph } from "./datasets-types";
import type { Profile } from "../../../../worker/lib/profile/index";

export type * from "./datasets-types";

export interface CommitInput {
  sha256?: string;
  file_name?: string;
  manifest?: ManifestEntry[];
  message?: string;
  content_type?: string;
  profile?: Profile;
  parent_version?: number;
}

/** The server's limit on hashes per /blobs/missing call. */
export const MISSING_QUERY_LIMIT = 10_000;

const V1 = "/api/v1";
const ds = (name: string) => `${V1}/datasets/${encodeURIComponent(name)}`;
const ver = (name: string, version: number | "latest") => `${ds(name)}/versions/${version}`;

export const datasetsApi = {
  list: (input: { q?: string; max_results?: number; page_token?: string; tags?: Record<string, string> }) => {
    const params = new URLSearchParams(query({ q: input.q || undefined, max_results: input.max_results, page_token: input.page_token }));
    for (const [k, v] of Object.entries(input.tags ?? {})) params.append("tag", `${k}=${v}`);
    return request<{ datasets: Dataset[]; next_page_token: string | null }>("GET", `${V1}/datasets?${params}`);
  },
  get: (name: string) => request<{ dataset: Dataset }>("GET", ds(name)),
  create: (input: { name: string; description?: string; tags?: Record<string, string> }) => request<{ dataset: Dataset }>("POST", `${V1}/datasets`, input),
  update: (name: string, input: { description?: string; tags?: Record<string, string> }) => request<{ dataset: Dataset }>("PATCH", ds(name), input),
  remove: (name: string) => request<Record<string, never>>("DELETE", ds(name)),
  versions: (name: string, input: { max_results?: number; page_token?: string } = {}) =>
    request<{ versions: DatasetVersion[]; next_page_token: string | null }>("GET", `${ds(name)}/versions?${query(input)}`),
  version: (name: string, version: number | "latest") => request<{ version: DatasetVersion }>("GET", ver(name, version)),
  files: (name: string, version: number, input: { prefix?: string; max_results?: number; page_token?: string } = {}) =>
    request<{ files: ManifestEntry[]; next_page_token: string | null }>("GET", `${ver(name, version)}/files?${query(input)}`),
  commit: (name: string, input: CommitInput) => request<{ version: DatasetVersion; created: boolean }>("POST", `${ds(name)}/versions`, input),
  diff: (name: string, from: number, to: number) => request<{ diff: VersionDiff }>("GET", `${ds(name)}/diff?${query({ from, to })}`),
  /** The download URL of a version's file, or of one file of a directory version. */
  downloadUrl: (name: string, version: number, path?: string) => `${ver(name, version)}/download${path ? `?${query({ path })}` : ""}`,
  missing: (hashes: string[]) => request<{ missing: string[] }>("POST", `${V1}/blobs/missing`, { sha256: hashes }),
  createUpload: (input: { sha256: string; size: number; part_size?: number }) =>
    request<({ exists: true; sha256: string }) | ({ exists: false } & BlobUpload)>("POST", `${V1}/blobs/uploads`, input),
  completeUpload: (uploadId: string) => request<{ sha256: string; size: number }>("POST", `${V1}/blobs/uploads/${encodeURIComponent(uploadId)}/complete`),
  abortUpload: (uploadId: string) => request<Record<string, never>>("DELETE", `${V1}/blobs/uploads/${encodeURIComponent(uploadId)}`),
  declareInput: (runId: string, input: { dataset: string; version: number | "latest"; context?: string }) =>
    request<{ version: DatasetVersion }>("POST", `${V1}/runs/${encodeURIComponent(runId)}/dataset-inputs`, input),
  lineage: (object: string, depth?: number) => request<LineageGraph>("GET", `${V1}/lineage?${query({ object, depth })}`),
};

/** Authorization for requests made outside `request` (byte uploads, ranged downloads). */
export function authHeaders(): Record<string, string> {
  const token = tokenStorage.get();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

export class UploadAbortedError extends Error {
  override readonly name = "UploadAbortedError";
  constructor() {
    super("The upload was cancelled.");
  }
}

/**
 * PUTs raw bytes with progress (bytes of this body sent so far). Rejects with ApiClientError on an
 * error answer and UploadAbortedError when `signal` aborts.
 */
export function putBytes(url: string, body: Blob, headers: Record<string, string>, onProgress: (sent: number) => void, signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new UploadAbortedError());
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    for (const [k, v] of Object.entries({ ...authHeaders(), "Content-Type": "application/octet-stream", ...headers })) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    const onAbort = () => xhr.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    const done = () => signal.removeEventListener("abort", onAbort);
    xhr.onload = () => {
      done();
      let data: unknown = null;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(body.size);
        resolve(data);
      } else {
        const err = (data as { error?: { code?: string; message?: string; request_id?: string } } | null)?.error;
        reject(new ApiClientError(xhr.status, err?.code ?? `HTTP_${xhr.status}`, err?.message ?? xhr.statusText, err?.request_id ?? null));
      }
    };
    xhr.onerror = () => {
      done();
      reject(new ApiClientError(0, "NETWORK_ERROR", "The upload failed: the server could not be reached", null));
    };
    xhr.onabort = () => {
      done();
      reject(new UploadAbortedError());
    };
    xhr.send(body);
  });
}

export const blobUrl = (sha256: string) => `${V1}/blobs/${sha256}`;
export const partUrl = (uploadId: string, part: number) => `${V1}/blobs/uploads/${encodeURIComponent(uploadId)}/parts/${part}`;
