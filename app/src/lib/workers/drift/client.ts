/**
 * The one way the app talks to the drift Web Workers: a pool of navigator.hardwareConcurrency
 * workers behind comlink. Files are read inside workers and come back as transferred column
 * buffers; columns are then handed out one at a time to whichever worker is free (their buffers
 * transferred, not copied), with progress per column. Cancel terminates every worker and builds a
 * fresh pool. Components never construct a Worker; they use this class.
 */
import * as Comlink from "comlink";
import { columnBuffers, type Table } from "../../drift/table";
import type { ColumnOutcome, ColumnTask, TableSource } from "./api";
import type { DriftWorker } from "./worker";

export class DriftCancelledError extends Error {
  override readonly name = "DriftCancelledError";
  constructor() {
    super("The drift computation was cancelled.");
  }
}

export interface PoolProgress {
  phase: "reading" | "computing";
  /** Of the current phase, in [0, 1]. */
  fraction: number;
  done?: number;
  total?: number;
}

interface Slot {
  worker: Worker;
  remote: Comlink.Remote<DriftWorker>;
}

export type WorkerFactory = () => Worker;

const defaultFactory: WorkerFactory = () => new Worker(new URL("./worker.ts", import.meta.url), { type: "module", name: "tern-drift" });

export class DriftPool {
  readonly size: number;
  private slots: Slot[] = [];
  private cancelled: { promise: Promise<never>; reject: (err: Error) => void } = DriftPool.cancelSignal();

  constructor(size?: number, private readonly factory: WorkerFactory = defaultFactory) {
    const cores = typeof navigator !== "undefined" && navigator.hardwareConcurrency ? navigator.hardwareConcurrency : 2;
    this.size = Math.max(1, Math.floor(size ?? cores));
  }

  private static cancelSignal() {
    let reject!: (err: Error) => void;
    const promise = new Promise<never>((_, rej) => {
      reject = rej;
    });
    // Nobody may be waiting when cancel happens; the rejection is still handled.
    promise.catch(() => undefined);
    return { promise, reject };
  }

  private ensure(): Slot[] {
    while (this.slots.length < this.size) {
      const worker = this.factory();
      this.slots.push({ worker, remote: Comlink.wrap<DriftWorker>(worker) });
    }
    return this.slots;
  }

  /** Race a worker call against cancel: a terminated worker never answers on its own. */
  private guard<T>(call: Promise<T>): Promise<T> {
    return Promise.race([call, this.cancelled.promise]);
  }

  /**
   * Read the reference and current tables in two workers at once; progress is by bytes of both. A
   * remote source (a Tern dataset version) is fetched by the worker itself and parsed as it streams.
   */
  async readTables(reference: TableSource, current: TableSource, onProgress?: (p: PoolProgress) => void): Promise<[Table, Table]> {
    const slots = this.ensure();
    const sizeOf = (s: TableSource) => (s instanceof Blob ? s.size : (s.size ?? 0));
    const total = sizeOf(reference) + sizeOf(current) || 1;
    const seen = [0, 0];
    const report = (i: number, size: number) =>
      Comlink.proxy((fraction: number) => {
        seen[i] = fraction * size;
        onProgress?.({ phase: "reading", fraction: Math.min(1, (seen[0] + seen[1]) / total) });
      });
    const second = slots[1 % slots.length];
    return this.guard(
      Promise.all([slots[0].remote.readTable(reference, report(0, sizeOf(reference))), second.remote.readTable(current, report(1, sizeOf(current)))]),
    );
  }

  /**
   * Compute every column, each on the next free worker. Results come back in task order;
   * `onColumn` sees each one as it finishes.
   */
  async computeColumns(tasks: ColumnTask[], onProgress?: (p: PoolProgress) => void, onColumn?: (o: ColumnOutcome) => void): Promise<ColumnOutcome[]> {
    const slots = this.ensure();
    const results: ColumnOutcome[] = new Array(tasks.length);
    let next = 0;
    let done = 0;
    onProgress?.({ phase: "computing", fraction: 0, done: 0, total: tasks.length });
    const run = async (slot: Slot): Promise<void> => {
      while (next < tasks.length) {
        const i = next++;
        const task = tasks[i];
        const buffers = [...columnBuffers(task.reference), ...columnBuffers(task.current)];
        const out = await this.guard(slot.remote.computeColumn(Comlink.transfer(task, buffers)));
        results[i] = out;
        done++;
        onColumn?.(out);
        onProgress?.({ phase: "computing", fraction: done / tasks.length, done, total: tasks.length });
      }
    };
    await Promise.all(slots.slice(0, Math.max(1, Math.min(slots.length, tasks.length))).map(run));
    return results;
  }

  /** Stop everything now: terminate the workers, fail pending calls, and start afresh on next use. */
  cancel(): void {
    for (const slot of this.slots) {
      slot.remote[Comlink.releaseProxy]();
      slot.worker.terminate();
    }
    this.slots = [];
    this.cancelled.reject(new DriftCancelledError());
    this.cancelled = DriftPool.cancelSignal();
  }

  dispose(): void {
    this.cancel();
  }
}
