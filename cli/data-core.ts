/**
 * The column profile `tern data add` sends with a single CSV, TSV, JSON-lines or Parquet file, computed
 * by the same pure profile module the Worker runs at commit, so a profile from the CLI matches one the
 * server would have made. Files up to the streaming threshold are read whole (exact quantiles); larger
 * ones are streamed in bounded memory: text from a read stream (or fed by the hashing pass, so the file
 * is read once), Parquet a column chunk at a time through byte-range reads of a file handle.
 * cli/data.mjs bundles this file with esbuild when it needs it.
 */
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { profileText, tabularFormat, ProfileError, type Profile, type TabularFormat, type TextFormat } from "../worker/lib/profile/index";
import { profileParquet, profileParquetStream, type AsyncBuffer } from "../worker/lib/profile/parquet";
import { DEFAULT_STREAM_BYTES, TextProfiler } from "../worker/lib/profile/stream";

export { tabularFormat };
export type { Profile, TabularFormat };

const READ_CHUNK = 4 * 1024 * 1024;

export { DEFAULT_STREAM_BYTES };

/** Larger files are profiled by streaming: DEFAULT_STREAM_BYTES, or TERN_PROFILE_STREAM_BYTES (tests lower it). */
export function streamThreshold(env: Record<string, string | undefined> = process.env): number {
  const raw = env.TERN_PROFILE_STREAM_BYTES;
  if (raw === undefined || raw === "") return DEFAULT_STREAM_BYTES;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError("TERN_PROFILE_STREAM_BYTES must be a whole number of bytes");
  return n;
}

/** The profile of a file's bytes, or null when the name is not a tabular format or the bytes do not parse. */
export async function profileBytes(fileName: string, bytes: Uint8Array): Promise<Profile | null> {
  const format = tabularFormat(fileName);
  if (!format) return null;
  try {
    if (format === "parquet") return await profileParquet(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    return profileText(new TextDecoder("utf-8").decode(bytes), format);
  } catch (err) {
    if (err instanceof ProfileError) return null;
    throw err;
  }
}

/**
 * A text profiler that rides along another read of the file (the hash pass): feed it every chunk in
 * order; `result()` is the profile when it saw exactly `size` bytes and the text parsed, else null.
 */
export class SharedTextProfile {
  private readonly profiler: TextProfiler;
  private failed = false;
  private seen = 0;

  constructor(format: TextFormat) {
    this.profiler = new TextProfiler(format);
  }

  push(chunk: Uint8Array): void {
    if (this.failed) return;
    this.seen += chunk.byteLength;
    try {
      this.profiler.pushBytes(chunk);
    } catch (err) {
      if (!(err instanceof ProfileError)) throw err;
      this.failed = true;
    }
  }

  /** The profile; `parsed` false when the text did not parse (then no profile is worth a second read). */
  result(size: number): { profile: Profile | null; complete: boolean } {
    if (this.failed) return { profile: null, complete: true };
    if (this.seen !== size) return { profile: null, complete: false };
    try {
      return { profile: this.profiler.finish(), complete: true };
    } catch (err) {
      if (err instanceof ProfileError) return { profile: null, complete: true };
      throw err;
    }
  }
}

/** A profiler to feed from the hash pass, when the file is a text format large enough to be streamed. */
export function sharedProfileFor(fileName: string, size: number, env: Record<string, string | undefined> = process.env): SharedTextProfile | null {
  const format = tabularFormat(fileName);
  if (!format || format === "parquet" || size <= streamThreshold(env)) return null;
  return new SharedTextProfile(format);
}

/** Byte ranges of an open file, as hyparquet reads them. */
function fileBuffer(handle: Awaited<ReturnType<typeof open>>, size: number): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start: number, end?: number) {
      const stop = Math.min(end ?? size, size);
      const buf = new Uint8Array(Math.max(0, stop - start));
      let at = 0;
      while (at < buf.length) {
        const { bytesRead } = await handle.read(buf, at, buf.length - at, start + at);
        if (bytesRead === 0) throw new ProfileError("the file is shorter than when it was opened");
        at += bytesRead;
      }
      return buf.buffer;
    },
  };
}

/**
 * The profile of a file on disk, streamed (any size, bounded memory), or null when it is not tabular or
 * does not parse. `onBytes(n)` as text is read; `onRows(done, total)` per Parquet row group.
 */
export async function profileFileStreaming(path: string, fileName: string, size: number, progress: { onBytes?: (n: number) => void } = {}): Promise<Profile | null> {
  const format = tabularFormat(fileName);
  if (!format) return null;
  try {
    if (format === "parquet") {
      const handle = await open(path, "r");
      try {
        let last = 0;
        return await profileParquetStream(fileBuffer(handle, size), {}, (done, total) => {
          const bytes = total ? Math.round((done / total) * size) : size;
          progress.onBytes?.(bytes - last);
          last = bytes;
        });
      } finally {
        await handle.close();
      }
    }
    const profiler = new TextProfiler(format);
    for await (const chunk of createReadStream(path, { highWaterMark: READ_CHUNK })) {
      profiler.pushBytes(chunk as Buffer);
      progress.onBytes?.((chunk as Buffer).length);
    }
    return profiler.finish();
  } catch (err) {
    if (err instanceof ProfileError) return null;
    throw err;
  }
}
