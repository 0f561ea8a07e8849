/**
 * The drift Web Worker: exposes the pure drift API over comlink. Tables go back to the page by
 * transferring their column buffers, never by copying them.
 */
import * as Comlink from "comlink";
import { columnBuffers, type Table } from "../../drift/table";
import type { ReadProgress } from "../../drift/read-table";
import { computeColumn, readTable, type ColumnOutcome, type ColumnTask, type TableSource } from "./api";

const exposed = {
  computeColumn(task: ColumnTask): ColumnOutcome {
    return computeColumn(task);
  },
  async readTable(source: TableSource, onProgress?: ReadProgress): Promise<Table> {
    const table = await readTable(source, onProgress);
    return Comlink.transfer(table, table.columns.flatMap((c) => columnBuffers(c.data)));
  },
};

export type DriftWorker = typeof exposed;

Comlink.expose(exposed);
