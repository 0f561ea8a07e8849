/**
 * The artifact proxy's R2 storage: artifact paths map to keys under one fixed prefix; directories are
 * key prefixes ending in "/". Bodies stream in and out (never buffered whole); R2's own failures that a
 * caller caused come back as StoreRejection so the service can answer them as 4xx.
 */
import type { ByteRange } from "../lib/byte-range";

export const ARTIFACT_KEY_PREFIX = "mlflow-artifacts/";

/** R2 deletes at most 1000 keys per call and lists at most 1000 per page. */
const MAX_PAGE = 1000;

/** Part size when a body of unknown length is turned into a multipart upload (R2's minimum is 5 MiB). */
export const STREAM_PART_SIZE = 8 * 1024 * 1024;

export interface ArtifactEntry {
  /** The name inside the listed directory (one segment). */
  name: string;
  isDir: boolean;
  size?: number;
}

export type StoreRejectionReason = "no-such-upload" | "invalid-part" | "part-too-small" | "uneven-parts" | "too-large" | "length-mismatch";

/** A write R2 refused because of what the caller sent. */
export class StoreRejection extends Error {
  constructor(
    readonly reason: StoreRejectionReason,
    message: string,
  ) {
    super(message);
    this.name = "StoreRejection";
  }
}

// R2's error codes (the binding puts them in `code` and at the end of the message).
const R2_REJECTIONS: Record<number, StoreRejectionReason> = {
  10011: "part-too-small",
  10024: "no-such-upload",
  10025: "invalid-part",
  10048: "uneven-parts",
  100100: "too-large",
};

function r2Code(err: unknown): number | null {
  if (typeof err !== "object" || err === null) return null;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "number") return code;
  const m = /\((\d{5,6})\)\s*$/.exec(String((err as { message?: unknown }).message ?? ""));
  return m ? Number(m[1]) : null;
}

function asRejection(err: unknown): never {
  const code = r2Code(err);
  const reason = code === null ? undefined : R2_REJECTIONS[code];
  if (reason) throw new StoreRejection(reason, String((err as Error).message ?? err));
  // A FixedLengthStream that saw more or fewer bytes than announced fails the write.
  if (err instanceof Error && /FixedLengthStream|expected length|did not see all expected bytes|exceeds? (the )?expected/i.test(err.message)) {
    throw new StoreRejection("length-mismatch", err.message);
  }
  throw err;
}

/** A body whose length R2 can see: the stream piped through a FixedLengthStream of the announced size. */
function fixedLength(body: ReadableStream<Uint8Array>, length: number): { stream: ReadableStream; piped: Promise<void> } {
  const fixed = new FixedLengthStream(length);
  const piped = body.pipeTo(fixed.writable);
  // The put sees the failure too; keep this promise from being reported as unhandled.
  piped.catch(() => undefined);
  return { stream: fixed.readable, piped };
}

/** Reads a stream into fixed-size buffers, yielding each full one and finally the remainder. */
async function* chunksOf(body: ReadableStream<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  let buffer = new Uint8Array(size);
  let filled = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    let offset = 0;
    while (offset < value.length) {
      const n = Math.min(size - filled, value.length - offset);
      buffer.set(value.subarray(offset, offset + n), filled);
      filled += n;
      offset += n;
      if (filled === size) {
        yield buffer;
        buffer = new Uint8Array(size);
        filled = 0;
      }
    }
  }
  yield buffer.subarray(0, filled);
}

export interface ArtifactStoreOptions {
  /** The key prefix every artifact lives under. */
  prefix?: string;
  /** Keys per list page and per delete call (at most R2's 1000; smaller in tests to cross pages). */
  pageSize?: number;
}

export class ArtifactStore {
  private readonly prefix: string;
  private readonly pageSize: number;

  constructor(
    private readonly bucket: R2Bucket,
    options: ArtifactStoreOptions = {},
  ) {
    this.prefix = options.prefix ?? ARTIFACT_KEY_PREFIX;
    this.pageSize = Math.min(options.pageSize ?? MAX_PAGE, MAX_PAGE);
  }

  private key(path: string): string {
    return this.prefix + path;
  }

  private dirPrefix(dir: string): string {
    return dir === "" ? this.prefix : `${this.prefix}${dir}/`;
  }

  /**
   * Stores a body at `path`. With a known length it streams straight into R2; without one it is cut
   * into STREAM_PART_SIZE parts (one part in memory at a time) and written as a multipart upload.
   */
  async put(path: string, body: ReadableStream<Uint8Array> | null, length: number | null): Promise<void> {
    const key = this.key(path);
    if (body === null || length === 0) {
      if (body) await body.cancel();
      await this.bucket.put(key, new Uint8Array(0));
      return;
    }
    if (length !== null) {
      const { stream, piped } = fixedLength(body, length);
      try {
        await this.bucket.put(key, stream);
        await piped;
      } catch (err) {
        asRejection(err);
      }
      return;
    }
    await this.putUnknownLength(key, body);
  }

  private async putUnknownLength(key: string, body: ReadableStream<Uint8Array>): Promise<void> {
    const chunks = chunksOf(body, STREAM_PART_SIZE);
    const first = await chunks.next();
    const firstChunk = first.done ? new Uint8Array(0) : first.value;
    if (firstChunk.length < STREAM_PART_SIZE) {
      await this.bucket.put(key, firstChunk);
      return;
    }
    const upload = await this.bucket.createMultipartUpload(key);
    try {
      const parts: R2UploadedPart[] = [await upload.uploadPart(1, firstChunk)];
      for await (const chunk of chunks) {
        if (chunk.length === 0) break;
        parts.push(await upload.uploadPart(parts.length + 1, chunk));
      }
      await upload.complete(parts);
    } catch (err) {
      await upload.abort().catch(() => undefined);
      asRejection(err);
    }
  }

  head(path: string): Promise<R2Object | null> {
    return this.bucket.head(this.key(path));
  }

  get(path: string): Promise<R2ObjectBody | null> {
    return this.bucket.get(this.key(path));
  }

  /** A range of the object, provided it is still the version with `etag`; null when gone or replaced. */
  async getRange(path: string, range: ByteRange, etag: string): Promise<R2ObjectBody | null> {
    const object = await this.bucket.get(this.key(path), {
      range: { offset: range.start, length: range.end - range.start + 1 },
      onlyIf: { etagMatches: etag },
    });
    return object && "body" in object ? object : null;
  }

  /** The files and subdirectories directly inside `dir`, following R2's pages to the end. */
  async list(dir: string): Promise<ArtifactEntry[]> {
    const prefix = this.dirPrefix(dir);
    const entries: ArtifactEntry[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await this.bucket.list({ prefix, delimiter: "/", cursor, limit: this.pageSize });
      for (const sub of page.delimitedPrefixes) {
        const name = sub.slice(prefix.length, -1);
        if (name) entries.push({ name, isDir: true });
      }
      for (const object of page.objects) {
        const name = object.key.slice(prefix.length);
        if (name) entries.push({ name, isDir: false, size: object.size });
      }
      if (!page.truncated) break;
      cursor = page.cursor;
    }
    return entries;
  }

  /** Every file under `dir` (recursively) with its size and ETag, at most `limit` of them, in key order. */
  async listTree(dir: string, limit: number): Promise<{ files: { path: string; size: number; etag: string }[]; truncated: boolean }> {
    const prefix = this.dirPrefix(dir);
    const files: { path: string; size: number; etag: string }[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await this.bucket.list({ prefix, cursor, limit: this.pageSize });
      for (const object of page.objects) {
        if (files.length >= limit) return { files, truncated: true };
        files.push({ path: object.key.slice(prefix.length), size: object.size, etag: object.etag });
      }
      if (!page.truncated) break;
      cursor = page.cursor;
    }
    return { files, truncated: false };
  }

  /** Deletes the file at `path` and everything under `path/`; the empty path is refused by the service. */
  async deleteTree(path: string): Promise<void> {
    await this.bucket.delete(this.key(path));
    const prefix = this.dirPrefix(path);
    // Each round lists from the start: the keys of the round before are gone, so no cursor is needed.
    for (;;) {
      const page = await this.bucket.list({ prefix, limit: this.pageSize });
      if (page.objects.length === 0) break;
      await this.bucket.delete(page.objects.map((o) => o.key));
      if (!page.truncated) break;
    }
  }

  // --- multipart uploads ---------------------------------------------------------------------

  async createMultipartUpload(path: string): Promise<string> {
    const upload = await this.bucket.createMultipartUpload(this.key(path));
    return upload.uploadId;
  }

  async uploadPart(path: string, uploadId: string, partNumber: number, body: ReadableStream<Uint8Array> | null, length: number): Promise<R2UploadedPart> {
    const upload = this.bucket.resumeMultipartUpload(this.key(path), uploadId);
    try {
      if (body === null || length === 0) {
        if (body) await body.cancel();
        return await upload.uploadPart(partNumber, new Uint8Array(0));
      }
      const { stream, piped } = fixedLength(body, length);
      const part = await upload.uploadPart(partNumber, stream);
      await piped;
      return part;
    } catch (err) {
      asRejection(err);
    }
  }

  async completeMultipartUpload(path: string, uploadId: string, parts: R2UploadedPart[]): Promise<void> {
    try {
      await this.bucket.resumeMultipartUpload(this.key(path), uploadId).complete(parts);
    } catch (err) {
      asRejection(err);
    }
  }

  async abortMultipartUpload(path: string, uploadId: string): Promise<void> {
    try {
      await this.bucket.resumeMultipartUpload(this.key(path), uploadId).abort();
    } catch (err) {
      asRejection(err);
    }
  }
}
