/**
 * What the dataset Web Worker does, as plain functions (testable without a Worker): the streaming
 * SHA-256 of a file (WebCrypto's digest needs the whole file in memory, so an incremental hasher reads
 * it chunk by chunk) and the column profile of a tabular file with the same pure module the server and
 * the CLI use, so a profile computed here equals the one the server would compute. Files over
 * PROFILE_LIMIT are profiled by streaming (text through the file's byte stream, Parquet a column chunk
 * at a time through Blob slices) in bounded memory, with sketched statistics marked approximate.
 */
import { createSHA256 } from "hash-wasm";
import { profileText, tabularFormat, type Profile } from "../../../../../worker/lib/profile/index";
import { profileParquet, profileParquetStream, type AsyncBuffer } from "../../../../../worker/lib/profile/parquet";
import { DEFAULT_STREAM_BYTES, TextProfiler } from "../../../../../worker/lib/profile/stream";

/** Bytes hashed so far of this file. */
export type HashProgress = (bytes: number) => void;

/** Beyond this a file is profiled by streaming rather than read whole (the whole table would sit in memory). */
export const PROFILE_LIMIT = DEFAULT_STREAM_BYTES;

/** Reports progress at most once per this many bytes, so the page is not flooded with messages. */
const REPORT_EVERY = 1024 * 1024;

export async function hashFile(file: Blob, onProgress?: HashProgress): Promise<string> {
  const hasher = await createSHA256();
  hasher.init();
  const reader = file.stream().getReader();
  let done = 0;
  let reported = 0;
  for (;;) {
    const chunk = await reader.read();
    if (chunk.done) break;
    hasher.update(chunk.value);
    done += chunk.value.byteLength;
    if (done - reported >= REPORT_EVERY) {
      reported = done;
      onProgress?.(done);
    }
  }
  onProgress?.(done);
  return hasher.digest("hex");
}

/** Byte ranges of a Blob, as hyparquet reads them: only the footer and the column chunks are read. */
export function blobBuffer(file: Blob): AsyncBuffer {
  return { byteLength: file.size, slice: (start, end) => file.slice(start, end).arrayBuffer() };
}

/** A text file's profile from its byte stream, never holding more than a chunk and the sketches. */
export async function profileTextStream(file: Blob, format: "csv" | "tsv" | "jsonl"): Promise<Profile> {
  const profiler = new TextProfiler(format);
  const reader = file.stream().getReader();
  for (;;) {
    const chunk = await reader.read();
    if (chunk.done) break;
    profiler.pushBytes(chunk.value);
  }
  return profiler.finish();
}

/** The file's profile, or null when it is not a tabular format or does not parse. */
export async function profileFile(file: Blob, fileName: string, limit = PROFILE_LIMIT): Promise<{ profile: Profile | null; error: string | null }> {
  const format = tabularFormat(fileName, file.type || null);
  if (!format) return { profile: null, error: null };
  try {
    let profile: Profile;
    if (file.size > limit) profile = format === "parquet" ? await profileParquetStream(blobBuffer(file)) : await profileTextStream(file, format);
    else profile = format === "parquet" ? await profileParquet(await file.arrayBuffer()) : profileText(await file.text(), format);
    return { profile, error: null };
  } catch (err) {
    return { profile: null, error: err instanceof Error ? err.message : String(err) };
  }
}
