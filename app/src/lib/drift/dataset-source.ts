/**
 * Where a reference that is a Tern dataset version comes from. A dataset version is served by the
 * datasets API as a file at a URL; the report reads it exactly like a file the user picked. Until
 * that API provides the download, no source is registered and the page offers only local files.
 */

/** Fetch a dataset version's file (CSV or Parquet) given its download URL. */
export type DatasetVersionSource = (url: string) => Promise<File>;

let source: DatasetVersionSource | null = null;

/** Called by the datasets pillar once it can serve version downloads. */
export function registerDatasetVersionSource(fn: DatasetVersionSource): void {
  source = fn;
}

export function datasetVersionSource(): DatasetVersionSource | null {
  return source;
}
