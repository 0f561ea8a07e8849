/**
 * Row sampling for scheduled drift checks: a uniform sample without replacement of at most k row
 * indices out of n, reproducible from a seed, returned in ascending order so columns keep row order.
 */
import { mulberry32 } from "../random";

/** Indices 0..n-1 when n <= k; otherwise k distinct indices chosen by Floyd's algorithm, sorted. */
export function sampleIndices(n: number, k: number, seed: number): number[] {
  if (!Number.isSafeInteger(n) || n < 0 || !Number.isSafeInteger(k) || k < 0) throw new RangeError("n and k must be non-negative integers");
  if (n <= k) return Array.from({ length: n }, (_, i) => i);
  const rand = mulberry32(seed);
  const chosen = new Set<number>();
  for (let j = n - k; j < n; j++) {
    const t = Math.floor(rand() * (j + 1));
    chosen.add(chosen.has(t) ? j : t);
  }
  return [...chosen].sort((a, b) => a - b);
}

export function takeRows<T>(values: readonly T[], indices: readonly number[]): T[] {
  return indices.map((i) => values[i]);
}

/** A 32-bit seed from a text such as a dataset version id (FNV-1a), so a version is always sampled alike. */
export function versionSeed(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
