/**
 * How the run page previews an artifact, runtime-free: the preview kind a file name calls for, how
 * much of it is fetched, reading the head of a file as text (a Range request may cut a UTF-8
 * sequence in half), the total size a 206's Content-Range reports, and file sizes for people.
 */

export type PreviewKind = "text" | "json" | "csv" | "tsv" | "image" | "none";

/** Text kinds are previewed from this many leading bytes, fetched with one Range request. */
export const TEXT_PREVIEW_BYTES = 64 * 1024;
/** Images are fetched whole (an <img> cannot render half a file); bigger ones are only downloaded. */
export const IMAGE_PREVIEW_MAX_BYTES = 16 * 1024 * 1024;

const IMAGE_EXTENSIONS = new Set(["png", "jpg", "jpeg", "gif", "svg", "webp", "bmp"]);
const TEXT_EXTENSIONS = new Set([
  "txt", "log", "err", "out", "md", "rst", "yaml", "yml", "toml", "ini", "cfg", "conf", "properties",
  "py", "r", "sql", "sh", "js", "ts", "xml", "html", "htm", "css", "tex", "jsonl", "ndjson", "lock", "env",
]);
// MLflow writes these without an extension; they are YAML or plain text.
const TEXT_FILE_NAMES = new Set(["MLmodel", "MLproject", "Dockerfile", "LICENSE", "README", "Makefile"]);

export const fileName = (path: string): string => path.slice(path.lastIndexOf("/") + 1);

function extensionOf(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot <= 0 ? "" : name.slice(dot + 1).toLowerCase();
}

/** The preview a file gets, from its name alone (artifacts carry no reliable type of their own). */
export function previewKind(path: string): PreviewKind {
  const name = fileName(path);
  const ext = extensionOf(name);
  if (IMAGE_EXTENSIONS.has(ext)) return "image";
  if (ext === "json") return "json";
  if (ext === "csv") return "csv";
  if (ext === "tsv") return "tsv";
  if (TEXT_FILE_NAMES.has(name) || TEXT_EXTENSIONS.has(ext)) return "text";
  return "none";
}

/**
 * The bytes cut off a head's end when they start a UTF-8 sequence that the cut left incomplete, so
 * a truncated preview does not end in a replacement character.
 */
export function completeUtf8Prefix(bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  for (let back = 1; back <= Math.min(3, n); back++) {
    const b = bytes[n - back]!;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: keep looking for the lead byte
    const needed = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return needed > back ? bytes.subarray(0, n - back) : bytes;
  }
  return bytes;
}

/** The head of a file as text; a head cut short loses only the incomplete character at its end. */
export function decodeHead(bytes: Uint8Array, truncated: boolean): string {
  return new TextDecoder("utf-8").decode(truncated ? completeUtf8Prefix(bytes) : bytes);
}

/** The complete size from a Content-Range such as `bytes 0-65535/120000`; null when unknown (`*`). */
export function contentRangeTotal(header: string | null): number | null {
  const m = header ? /^bytes\s+(?:\d+-\d+|\*)\/(\d+)$/i.exec(header.trim()) : null;
  return m ? Number(m[1]) : null;
}

export type JsonPreview = { ok: true; text: string } | { ok: false; text: string; reason: string };

/** Pretty-printed JSON; a head cut short, or text that is not JSON, is shown as it is, with why. */
export function prettyJson(text: string, truncated: boolean): JsonPreview {
  if (truncated) return { ok: false, text, reason: "The file is too large to format; its beginning is shown as text." };
  try {
    return { ok: true, text: JSON.stringify(JSON.parse(text), null, 2) };
  } catch (err) {
    return { ok: false, text, reason: `Not valid JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

export function formatBytes(size: number | null | undefined): string {
  if (size == null || !Number.isFinite(size) || size < 0) return "—";
  let value = size;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value < 10 ? value.toFixed(1) : Math.round(value)} ${UNITS[unit]}`;
}
