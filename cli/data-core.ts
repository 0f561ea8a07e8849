/**
 * The column profile `tern data add` sends with a single CSV, TSV, JSON-lines or Parquet file, computed
 * by the same pure profile module the Worker runs at commit, so a profile from the CLI matches one the
 * server would have made. cli/data.mjs bundles this file with esbuild when it needs it.
 */
import { profileText, tabularFormat, ProfileError, type Profile } from "../worker/lib/profile/index";
import { profileParquet } from "../worker/lib/profile/parquet";

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
