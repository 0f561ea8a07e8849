/**
 * HTTP byte ranges (RFC 9110 §14), runtime-free: which bytes of a representation of a known size a
 * `Range` header asks for, and the `Content-Range` that answers it.
 */

/** Inclusive byte positions, as Content-Range writes them. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * The single range a `Range` header asks for: a ByteRange (clamped to the size), "unsatisfiable" (answer
 * 416), or null when the header is absent, malformed, not in bytes, or asks for several ranges — then
 * the server may ignore it and send the whole representation, which is what we do.
 */
export function parseRange(header: string | null | undefined, size: number): ByteRange | "unsatisfiable" | null {
  if (!header) return null;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return null;
  const [, first, last] = m;
  if (first === "" && last === "") return null;
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === "" ? Infinity : Number(last);
  if (end < start) return null;
  if (start >= size) return "unsatisfiable";
  return { start, end: Math.min(end, size - 1) };
}

export const rangeLength = (r: ByteRange) => r.end - r.start + 1;

export const contentRange = (r: ByteRange, size: number) => `bytes ${r.start}-${r.end}/${size}`;

/** The Content-Range of a 416 answer. */
export const unsatisfiedRange = (size: number) => `bytes */${size}`;
