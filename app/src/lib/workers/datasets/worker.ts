/** The dataset Web Worker: exposes the hashing and profiling API over comlink. */
import * as Comlink from "comlink";
import { hashFile, profileFile, type HashProgress } from "./api";

const exposed = {
  hashFile(file: Blob, onProgress?: HashProgress): Promise<string> {
    return hashFile(file, onProgress);
  },
  profileFile(file: Blob, fileName: string) {
    return profileFile(file, fileName);
  },
};

export type DatasetWorker = typeof exposed;

Comlink.expose(exposed);
