/**
 * Pure decisions of a browser upload: the paths a picked folder's files get in the manifest, which
 * files go up in one PUT and which in parts (and how large the parts are), and the byte ranges of the
 * parts. The server takes parts of 5 to 95 MiB, at most 10,000 of them.
 */

export const MiB = 1024 * 1024;
export const MIN_PART_SIZE = 5 * MiB;
export const MAX_PART_SIZE = 95 * MiB;
export const MAX_PARTS = 10_000;
/** Files larger than one minimum part go up in parts, several at once. */
export const MULTIPART_THRESHOLD = MIN_PART_SIZE;
/** Parts or small files in flight at once. */
export const UPLOAD_CONCURRENCY = 4;

/**
 * A part size: small enough that even a modest file is spread over several parallel parts, large
 * enough that a big file needs few requests, and within the server's bounds.
 */
export function partSizeFor(size: number): number {
  const byCount = Math.ceil(size / MAX_PARTS);
  const preferred = size <= 256 * MiB ? MIN_PART_SIZE : 16 * MiB;
  return Math.min(MAX_PART_SIZE, Math.max(MIN_PART_SIZE, preferred, byCount));
}

export function usesMultipart(size: number): boolean {
  return size > MULTIPART_THRESHOLD;
}

/** The byte range [start, end) of part `n` (1-based). */
export function partRange(size: number, partSize: number, n: number): [number, number] {
  const start = (n - 1) * partSize;
  return [start, Math.min(size, start + partSize)];
}

/**
 * Paths inside the version of files picked as a folder: the folder's own name (the first segment of
 * webkitRelativePath) is dropped, so picking `images/` gives `train/0001.png`, not `images/train/0001.png`.
 */
export function manifestPaths(relativePaths: readonly string[]): string[] {
  const split = relativePaths.map((p) => p.split("/").filter((s) => s !== ""));
  const first = split[0]?.[0];
  const common = first !== undefined && split.every((s) => s.length > 1 && s[0] === first);
  return split.map((s) => (common ? s.slice(1) : s).join("/"));
}

/** Splits a list into chunks of at most `size`. */
export function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/** Runs `work` over `items` with at most `limit` running at once; the first failure rejects. */
export async function runLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < items.length) {
      const item = items[next++];
      try {
        await work(item);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
}
