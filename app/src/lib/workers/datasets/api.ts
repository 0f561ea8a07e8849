/**
 * What the dataset Web Worker does, as plain functions (testable without a Worker): the streaming
 * SHA-256 of a file (WebCrypto's digest needs the whole file in memory, so an incremental hasher reads
 * it chunk by chunk) and the column profile of a tabular file with the same pure module the server and
 * the CLI use, so a profile computed here equals the one the server would compute.
 */
import { createSHA256 } from "hash-wasm";
import { profileText, tabularFormat, type Profile } from "../../../../../worker/lib/profile/index";
import { profileParquet } from "../../../../../worker/lib/profile/parquet";

/** Bytes hashed so far of this file. */
export type HashProgress = (bytes: number) => void;

/** Beyond this a file is not profiled in the browser (the whole table would sit in memory). */
export const PROFILE_LIMIT = 256 * 1024 * 1024;

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

/** The file's profile, or null when it is not a tabular format, too large, or does not parse. */
export async function profileFile(file: Blob, fileName: string): Promise<{ profile: Profile | null; error: string | null }> {
  const format = tabularFormat(fileName, file.type || null);
  if (!format) return { profile: null, error: null };
  if (file.size > PROFILE_LIMIT) return { profile: null, error: `Files over ${PROFILE_LIMIT / 1024 / 1024} MiB are not profiled in the browser` };
  try {
    const profile = format === "parquet" ? await profileParquet(await file.arrayBuffer()) : profileText(await file.text(), format);
    return { profile, error: null };
  } catch (err) {
    return { profile: null, error: err instanceof Error ? err.message : String(err) };
  }
}
