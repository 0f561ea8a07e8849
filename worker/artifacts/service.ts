/**
 * The artifact proxy (MLflow's mlflow-artifacts service) over R2: upload, download with byte ranges,
 * listing, deleting trees, multipart uploads, and reading a run's artifacts through its artifact URI.
 * Every path is normalised and confined here before it reaches the store.
 */
import { invalid, notFound } from "../http/errors";
import {
  ArtifactPathError,
  clientFileName,
  joinArtifactPath,
  normalizeArtifactPath,
  proxiedArtifactPath,
  type NormalizeOptions,
} from "../lib/artifact-paths";
import { parseRange, type ByteRange } from "../lib/byte-range";
import { StoreRejection, type ArtifactStore } from "./store";

/** R2 numbers parts 1..10000. */
export const MAX_PARTS = 10_000;

/** MLflow's FileInfo: `path` relative to the listed directory (or to the run root for a run listing). */
export interface FileInfo {
  path: string;
  isDir: boolean;
  fileSize?: number;
}

export type Download =
  | { kind: "full"; path: string; object: R2ObjectBody }
  | { kind: "partial"; path: string; object: R2ObjectBody; range: ByteRange; size: number }
  | { kind: "unsatisfiable"; path: string; size: number };

export interface UploadedPart {
  partNumber: number;
  etag: string;
}

function normalize(raw: string, options?: NormalizeOptions): string {
  try {
    return normalizeArtifactPath(raw, options);
  } catch (err) {
    if (err instanceof ArtifactPathError) throw invalid(err.message);
    throw err;
  }
}

function rejected(err: unknown, uploadId?: string): never {
  if (!(err instanceof StoreRejection)) throw err;
  switch (err.reason) {
    case "no-such-upload":
      throw notFound(`Multipart upload ${uploadId ?? ""} does not exist (it was completed, aborted or never created)`);
    case "invalid-part":
      throw invalid("One or more of the listed parts were not uploaded, or their etag does not match");
    case "part-too-small":
      throw invalid("Every part except the last must be at least 5 MiB");
    case "uneven-parts":
      throw invalid("Every part except the last must have the same size, and the last may not be larger");
    case "too-large":
      throw invalid("The artifact exceeds the largest object size the store accepts");
    case "length-mismatch":
      throw invalid("The request body does not have the length its Content-Length announced");
  }
}

/** Strips the quotes of an HTTP entity tag, which clients echo back as they received it. */
const bareEtag = (etag: string) => etag.replace(/^W\//, "").replace(/^"(.*)"$/, "$1");

export class ArtifactService {
  constructor(private readonly store: ArtifactStore) {}

  async upload(rawPath: string, body: ReadableStream<Uint8Array> | null, length: number | null): Promise<void> {
    const path = normalize(rawPath);
    try {
      await this.store.put(path, body, length);
    } catch (err) {
      rejected(err);
    }
  }

  async download(rawPath: string, rangeHeader?: string | null): Promise<Download> {
    return this.read(normalize(rawPath), rangeHeader);
  }

  /** The object's metadata, for HEAD. */
  async stat(rawPath: string): Promise<{ path: string; object: R2Object }> {
    const path = normalize(rawPath);
    const object = await this.store.head(path);
    if (!object) throw notFound(`No artifact at path '${path}'`);
    return { path, object };
  }

  private async read(path: string, rangeHeader?: string | null): Promise<Download> {
    const missing = () => notFound(`No artifact at path '${path}'`);
    if (rangeHeader) {
      const head = await this.store.head(path);
      if (!head) throw missing();
      const range = parseRange(rangeHeader, head.size);
      if (range === "unsatisfiable") return { kind: "unsatisfiable", path, size: head.size };
      if (range) {
        const object = await this.store.getRange(path, range, head.etag);
        if (object) return { kind: "partial", path, object, range, size: head.size };
        // Replaced or deleted since the head: answer with whatever is there now.
      }
    }
    const object = await this.store.get(path);
    if (!object) throw missing();
    return { kind: "full", path, object };
  }

  /** The entries directly inside `dir`, paths relative to it; a missing directory lists as empty. */
  async list(rawDir: string | undefined): Promise<FileInfo[]> {
    const dir = normalize(rawDir ?? "", { directory: true });
    return this.listDir(dir, "");
  }

  private async listDir(dir: string, pathPrefix: string): Promise<FileInfo[]> {
    const entries = await this.store.list(dir);
    return entries
      .map((e) => ({ path: joinArtifactPath(pathPrefix, e.name), isDir: e.isDir, fileSize: e.isDir ? undefined : e.size }))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** Deletes the file at the path, or everything under it when it is a directory. */
  async delete(rawPath: string): Promise<void> {
    const path = normalize(rawPath, { directory: true });
    if (path === "") throw invalid("Refusing to delete the root of the artifact store; name a path");
    await this.store.deleteTree(path);
  }

  // --- multipart uploads ---------------------------------------------------------------------

  /**
   * The artifact a multipart rpc is about: the directory in the URL plus the file name of the client's
   * local path (MLflow's client sends its local file path in `path`).
   */
  multipartTarget(rawDir: string, localPath: string): string {
    const dir = normalize(rawDir, { directory: true });
    const name = clientFileName(localPath);
    if (!name) throw invalid(`Invalid value for parameter 'path': '${localPath}' does not name a file`);
    const file = normalize(name);
    if (file.includes("/")) throw invalid(`Invalid value for parameter 'path': '${localPath}' does not name a file`);
    return normalize(joinArtifactPath(dir, file));
  }

  async createMultipartUpload(rawDir: string, localPath: string, numParts: number): Promise<{ path: string; uploadId: string }> {
    const path = this.multipartTarget(rawDir, localPath);
    if (!Number.isInteger(numParts) || numParts < 1 || numParts > MAX_PARTS) {
      throw invalid(`Invalid value ${numParts} for parameter 'num_parts' supplied: it must be between 1 and ${MAX_PARTS}`);
    }
    return { path, uploadId: await this.store.createMultipartUpload(path) };
  }

  async uploadPart(rawPath: string, uploadId: string, partNumber: number, body: ReadableStream<Uint8Array> | null, length: number): Promise<UploadedPart> {
    const path = normalize(rawPath);
    checkUploadId(uploadId);
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) {
      throw invalid(`Invalid value ${partNumber} for parameter 'part_number' supplied: it must be between 1 and ${MAX_PARTS}`);
    }
    try {
      const part = await this.store.uploadPart(path, uploadId, partNumber, body, length);
      return { partNumber: part.partNumber, etag: part.etag };
    } catch (err) {
      rejected(err, uploadId);
    }
  }

  async completeMultipartUpload(rawDir: string, localPath: string, uploadId: string, parts: UploadedPart[]): Promise<void> {
    const path = this.multipartTarget(rawDir, localPath);
    checkUploadId(uploadId);
    if (parts.length === 0) throw invalid("Missing value for required parameter 'parts'. See the API docs for more information about request parameters.");
    const seen = new Set<number>();
    for (const p of parts) {
      if (!Number.isInteger(p.partNumber) || p.partNumber < 1 || p.partNumber > MAX_PARTS) {
        throw invalid(`Invalid part_number ${p.partNumber}: it must be between 1 and ${MAX_PARTS}`);
      }
      if (seen.has(p.partNumber)) throw invalid(`Part ${p.partNumber} is listed more than once`);
      seen.add(p.partNumber);
      if (!p.etag) throw invalid(`Part ${p.partNumber} has no etag`);
    }
    const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber).map((p) => ({ partNumber: p.partNumber, etag: bareEtag(p.etag) }));
    try {
      await this.store.completeMultipartUpload(path, uploadId, sorted);
    } catch (err) {
      rejected(err, uploadId);
    }
  }

  async abortMultipartUpload(rawDir: string, localPath: string, uploadId: string): Promise<void> {
    const path = this.multipartTarget(rawDir, localPath);
    checkUploadId(uploadId);
    try {
      await this.store.abortMultipartUpload(path, uploadId);
    } catch (err) {
      rejected(err, uploadId);
    }
  }

  // --- a run's artifacts -----------------------------------------------------------------------

  /** The store path a run's artifact URI proxies; a URI Tern does not serve is refused. */
  runRoot(artifactUri: string): string {
    let raw: string | null;
    try {
      raw = proxiedArtifactPath(artifactUri);
    } catch (err) {
      if (err instanceof ArtifactPathError) throw invalid(err.message);
      throw err;
    }
    if (raw === null) {
      throw invalid(`The run's artifacts are stored at '${artifactUri}', which this server does not serve (only mlflow-artifacts URIs are proxied)`);
    }
    return normalize(raw, { directory: true });
  }

  /** Every artifact file of a run with its size and content hash, paths relative to the run root. */
  async runTree(artifactUri: string, limit: number): Promise<{ files: { path: string; size: number; hash: string }[]; truncated: boolean }> {
    const { files, truncated } = await this.store.listTree(this.runRoot(artifactUri), limit);
    return { files: files.map((f) => ({ path: f.path, size: f.size, hash: f.etag })), truncated };
  }

  /** The sha256 of one artifact of a run, streamed through a digest (never held whole); null when missing. */
  async runFileSha256(artifactUri: string, rawPath: string): Promise<string | null> {
    const object = await this.store.get(normalize(joinArtifactPath(this.runRoot(artifactUri), normalize(rawPath))));
    if (!object) return null;
    const digest = new crypto.DigestStream("SHA-256");
    await object.body.pipeTo(digest);
    return [...new Uint8Array(await digest.digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  }

  /** Copies one artifact of a run to the same path of another run. */
  async copyRunArtifact(fromUri: string, toUri: string, rawPath: string): Promise<void> {
    const path = normalize(rawPath);
    const source = await this.store.get(normalize(joinArtifactPath(this.runRoot(fromUri), path)));
    if (!source) throw notFound(`Artifact '${path}' of the run does not exist`);
    await this.store.put(normalize(joinArtifactPath(this.runRoot(toUri), path)), source.body, source.size);
  }

  /** MLflow's tracking listArtifacts: entries under `path` of the run, paths relative to the run root. */
  async listRun(artifactUri: string, rawPath: string | undefined): Promise<FileInfo[]> {
    const root = this.runRoot(artifactUri);
    const path = normalize(rawPath ?? "", { directory: true });
    return this.listDir(joinArtifactPath(root, path), path);
  }

  async downloadRun(artifactUri: string, rawPath: string, rangeHeader?: string | null): Promise<Download> {
    const root = this.runRoot(artifactUri);
    const path = normalize(rawPath);
    const download = await this.read(normalize(joinArtifactPath(root, path)), rangeHeader);
    return { ...download, path };
  }
}

function checkUploadId(uploadId: string): void {
  if (!uploadId) throw invalid("Missing value for required parameter 'upload_id'. See the API docs for more information about request parameters.");
}
