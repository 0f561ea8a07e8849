/**
 * The monitoring pillar's DatasetReader over dataset versions: which version of a dataset is newest,
 * and a single-file tabular version's rows as typed columns, parsed by the same readers that profile
 * it. Files are read whole, so they are bounded by the size the Worker already profiles; larger files,
 * directories and non-tabular files are refused with a message the scheduled check reports as a skip.
 */
import type { RawValue } from "../lib/drift";
import { parseText, ProfileError, tableColumns, tabularFormat } from "../lib/profile/index";
import { readParquet } from "../lib/profile/parquet";
import { DatasetUnreadable, type DatasetReader } from "../monitoring/model";
import { SERVER_PROFILE_LIMIT } from "./service";
import type { ContentStore, DatasetRow, DatasetStore, VersionRow } from "./store";

/** The largest file a scheduled check reads; the same bound as a profile computed in the Worker. */
export const MAX_CHECK_FILE_BYTES = SERVER_PROFILE_LIMIT;

/** "name@3" or "name@latest": a version named by its dataset, as monitors may store it. */
const NAMED_VERSION = /^(.+)@(\d+|latest)$/;

export class DatasetVersionReader implements DatasetReader {
  constructor(
    private readonly store: DatasetStore,
    private readonly content: ContentStore,
    private readonly maxBytes: number = MAX_CHECK_FILE_BYTES,
  ) {}

  /** A dataset by name (what monitors are created with) or by its id. */
  private async dataset(ref: string): Promise<DatasetRow | null> {
    return (await this.store.getDataset(ref)) ?? (await this.store.getDatasetById(ref));
  }

  async latestVersion(datasetRef: string): Promise<string | null> {
    const ds = await this.dataset(datasetRef);
    if (!ds) throw new DatasetUnreadable(`dataset '${datasetRef}' not found`);
    if (ds.latestVersion <= 0) return null;
    return (await this.store.getVersion(ds.datasetId, ds.latestVersion))?.versionId ?? null;
  }

  /** A version by its id, or as "dataset@N" / "dataset@latest". */
  private async version(ref: string): Promise<VersionRow | null> {
    const [byId] = await this.store.getVersionsById([ref]);
    if (byId) return byId;
    const named = NAMED_VERSION.exec(ref);
    if (!named) return null;
    const ds = await this.dataset(named[1]);
    if (!ds) return null;
    const n = named[2] === "latest" ? ds.latestVersion : Number(named[2]);
    return n > 0 ? this.store.getVersion(ds.datasetId, n) : null;
  }

  async readColumns(versionRef: string): Promise<Record<string, RawValue[]>> {
    const v = await this.version(versionRef);
    if (!v) throw new DatasetUnreadable(`dataset version '${versionRef}' not found`);
    const label = `dataset version ${v.versionId}`;
    if (v.kind === "directory") throw new DatasetUnreadable(`${label} is a directory; scheduled checks read single-file versions`);
    const format = tabularFormat(v.fileName, v.contentType);
    if (!format) throw new DatasetUnreadable(`${label} (${v.fileName ?? "unnamed"}) is not a CSV, TSV, JSON lines or Parquet file`);
    if (v.size > this.maxBytes) {
      throw new DatasetUnreadable(`${label} is ${v.size} bytes; scheduled checks read files of at most ${this.maxBytes} bytes (commit a sample of it as its own version)`);
    }
    const object = await this.content.get(v.rootSha256);
    if (!object) throw new Error(`the content of ${label} is missing from the blob store`);
    try {
      const table = format === "parquet" ? await readParquet(await object.arrayBuffer()) : parseText(await object.text(), format);
      return tableColumns(table);
    } catch (err) {
      if (err instanceof ProfileError) throw new DatasetUnreadable(`${label}: ${err.message}`);
      throw err;
    }
  }
}
