// Types of cli/data-files.mjs, for the TypeScript tests that import it.
export declare const POINTER_SUFFIX: ".tern";
export declare class PointerError extends Error {}
export interface Pointer {
  dataset: string;
  version: number;
  kind: "file" | "directory";
  sha256: string;
  md5?: string;
  size: number;
  files: number;
}
export interface Entry {
  path: string;
  sha256: string;
  size: number;
}
export interface Comparison {
  state: "up to date" | "not pulled" | "changed";
  modified: string[];
  missing: string[];
  added: string[];
  unchanged: number;
}
export interface StatLike {
  size: number | bigint;
  mtimeMs?: number;
  mtimeNs?: bigint;
  ino: number | bigint;
}
export interface StatKey {
  size: number;
  mtime: string;
  ino: string;
}
export declare function pointerPathFor(target: string): string;
export declare function targetOfPointer(pointerPath: string): string;
export declare function formatPointer(p: Pointer): string;
export declare function parsePointer(text: string, source?: string): Pointer;
export declare function addIgnoreEntry(text: string, name: string): { text: string; changed: boolean };
export declare function compareWithPointer(expected: Entry[], local: Entry[] | null): Comparison;
export declare function statKey(stat: StatLike): StatKey;
export declare function cacheHit(entry: StatKey | undefined | null, stat: StatLike): boolean;
export declare function parseRef(ref: string, defaultDataset?: string): { dataset: string; version: number | "latest" };
export declare function formatBytes(n: number | null | undefined): string;
