/**
 * The one way the app hashes and profiles files for an upload: a Web Worker behind comlink, so a
 * multi-gigabyte file never blocks the page. Cancel terminates the worker (a running hash stops at
 * once) and fails the pending call; the next call starts a fresh worker.
 */
import * as Comlink from "comlink";
import type { Profile } from "../../../../../worker/lib/profile/index";
import type { DatasetWorker } from "./worker";

export class HashCancelledError extends Error {
  override readonly name = "HashCancelledError";
  constructor() {
    super("Hashing was cancelled.");
  }
}

export type WorkerFactory = () => Worker;

const defaultFactory: WorkerFactory = () => new Worker(new URL("./worker.ts", import.meta.url), { type: "module", name: "tern-datasets" });

export class DatasetHasher {
  private worker: Worker | null = null;
  private remote: Comlink.Remote<DatasetWorker> | null = null;
  private rejectPending = new Set<(err: Error) => void>();

  constructor(private readonly factory: WorkerFactory = defaultFactory) {}

  private ensure(): Comlink.Remote<DatasetWorker> {
    if (!this.remote) {
      this.worker = this.factory();
      this.remote = Comlink.wrap<DatasetWorker>(this.worker);
    }
    return this.remote;
  }

  /** Race a call against cancel: a terminated worker never answers. */
  private guard<T>(call: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.rejectPending.add(reject);
      call.then(resolve, reject).finally(() => this.rejectPending.delete(reject));
    });
  }

  hash(file: Blob, onProgress: (bytes: number) => void): Promise<string> {
    return this.guard(this.ensure().hashFile(file, Comlink.proxy(onProgress)));
  }

  profile(file: Blob, fileName: string): Promise<{ profile: Profile | null; error: string | null }> {
    return this.guard(this.ensure().profileFile(file, fileName));
  }

  cancel(): void {
    if (this.remote) this.remote[Comlink.releaseProxy]();
    this.worker?.terminate();
    this.worker = null;
    this.remote = null;
    for (const reject of this.rejectPending) reject(new HashCancelledError());
    this.rejectPending.clear();
  }
}
