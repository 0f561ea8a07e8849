/**
 * The monitoring pillar's DatasetReader over dataset versions: which version of a dataset is newest,
 * and a single-file tabular version's rows as typed columns, parsed by the same readers that profile
 * it. Files up to the size the Worker profiles are read whole; larger ones are sampled through R2 range
 * reads (worker/lib/profile/range-sample.ts), and the sample's size and method travel with the columns
 * so reports record them. Directories and non-tabular files are refused with a message the scheduled
 * check reports as a skip.
 */
import { parseText, ProfileError, tableColumns, tabularFormat, type Table } from "../lib/profile/index";
import { readParquet } from "../lib/profile/parquet";
import { versionSeed } from "../lib/monitoring/sample";
import { sampleParquetRanges, sampleTextRanges, type RangeSample, type RangeSource } from "../lib/profile/range-sample";
import { DatasetUnreadable, type DatasetReader, type VersionColumns } from "../monitoring/model";
import { SERVER_PROFILE_LIMIT } from "./service";
import type { ContentStore, DatasetRow, DatasetStore, VersionRow } from "./store";

/** The largest file a check reads whole; the same bound as a profile computed in the Worker. */
export const MAX_CHECK_FILE_BYTES = SERVER_PROFILE_LIMIT;
/** About how many bytes of a larger file a check reads as its sample. */
export const CHECK_SAMPLE_BYTES = 4 * 1024 * 1024;

export interface ReaderLimits {
  /** Files up to this size are read whole. */
  maxBytes?: number;
  /** The byte budget of a sample of a larger file. */
  sampleBytes?: number;
  /** Windows a sampled text file is read in. */
  chunks?: number;
}

/** "name@3" or "name@latest": a version named by its dataset, as monitors may store it. */
const NAMED_VERSION = /^(.+)@(\d+|latest)$/;

export class DatasetVersionReader implements DatasetReader {
  constructor(
    private readonly store: DatasetStore,
    private readonly content: ContentStore,
    private readonly limits: ReaderLimits = {},
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

  async readColumns(versionRef: string): Promise<VersionColumns> {
    const v = await this.version(versionRef);
    if (!v) throw new DatasetUnreadable(`dataset version '${versionRef}' not found`);
    const label = `dataset version ${v.versionId}`;
    if (v.kind === "directory") throw new DatasetUnreadable(`${label} is a directory; scheduled checks read single-file versions`);
    const format = tabularFormat(v.fileName, v.contentType);
    if (!format) throw new DatasetUnreadable(`${label} (${v.fileName ?? "unnamed"}) is not a CSV, TSV, JSON lines or Parquet file`);
    const named = { versionId: v.versionId, dataset: (await this.store.getDatasetById(v.datasetId))?.name ?? v.datasetId, version: v.version };
    try {
      if (v.size <= (this.limits.maxBytes ?? MAX_CHECK_FILE_BYTES)) {
        const object = await this.content.get(v.rootSha256);
        if (!object) throw new Error(`the content of ${label} is missing from the blob store`);
        const table: Table = format === "parquet" ? await readParquet(await object.arrayBuffer()) : parseText(await object.text(), format);
        return { ...named, columns: tableColumns(table), rows: table.rows.length, rowsEstimated: false, sample: null };
      }
      const source: RangeSource = {
        size: v.size,
        read: async (offset, length) => {
          const bytes = await this.content.readRange(v.rootSha256, offset, length);
          if (!bytes) throw new Error(`the content of ${label} is missing from the blob store`);
          return bytes;
        },
      };
      const opts = { budgetBytes: this.limits.sampleBytes ?? CHECK_SAMPLE_BYTES, chunks: this.limits.chunks, seed: versionSeed(v.versionId) };
      const sample: RangeSample = format === "parquet" ? await sampleParquetRanges(source, opts) : await sampleTextRanges(source, format, opts);
      // A row count recorded with the version (its profile) is exact; Parquet's footer is too.
      const exact = v.rowCount ?? sample.totalRows;
      return {
        ...named,
        columns: tableColumns(sample.table),
        rows: exact ?? sample.estimatedRows ?? sample.table.rows.length,
        rowsEstimated: exact === null,
        sample: { method: sample.method, rows: sample.table.rows.length, bytesRead: sample.bytesRead, droppedRows: sample.droppedLines, droppedWindows: sample.droppedChunks },
      };
    } catch (err) {
      if (err instanceof ProfileError) throw new DatasetUnreadable(`${label}: ${err.message}`);
      throw err;
    }
  }
}
