/**
 * Artifact paths, runtime-free: normalising and confining the relative paths MLflow clients send to the
 * artifact proxy, resolving a run's artifact URI to the path it proxies, and the Content-Type and
 * Content-Disposition an artifact is served with.
 */

/** Thrown for a path that must be refused; the service turns it into INVALID_PARAMETER_VALUE. */
export class ArtifactPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ArtifactPathError";
  }
}

/** R2 keys are at most 1024 bytes; this leaves room for the key prefix a store puts in front. */
export const MAX_ARTIFACT_PATH_BYTES = 1000;

// Clients percent-encode paths in URLs; a path that only escapes once decoded again is still refused,
// as MLflow's server refuses it (double-encoded "..", for instance).
const MAX_DECODE_ROUNDS = 4;

const utf8 = new TextEncoder();

function describe(path: string): string {
  const shown = path.length > 80 ? `${path.slice(0, 80)}...` : path;
  return JSON.stringify(shown);
}

/** The reason a path is unsafe, checking the raw form only; null when it is safe. */
function unsafeReason(path: string): string | null {
  if (/[\u0000-\u001f\u007f]/.test(path)) return "it contains control characters";
  // A lone surrogate has no UTF-8 form: such a name could be neither stored as a key nor put in a URL.
  if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(path)) return "it is not valid Unicode (a lone surrogate)";
  if (path.includes("\\")) return "it contains a backslash";
  if (path.includes("#")) return "it contains '#'";
  if (path.startsWith("/") || /^[A-Za-z]:\//.test(path)) return "it is absolute";
  if (path.split("/").includes("..")) return "it refers to a parent directory";
  return null;
}

function decodedForms(path: string): string[] {
  const forms: string[] = [];
  let current = path;
  for (let i = 0; i < MAX_DECODE_ROUNDS && current.includes("%"); i++) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      break;
    }
    if (next === current) break;
    forms.push(next);
    current = next;
  }
  return forms;
}

export interface NormalizeOptions {
  /**
   * A directory path (listing, deleting a tree): the empty path means the root, and one trailing
   * slash is allowed. A file path must name something.
   */
  directory?: boolean;
}

/**
 * A clean relative path: segments joined by single slashes, no `.` segments. Refuses control
 * characters (NUL among them), backslashes, absolute paths, `..` segments (also when hidden behind
 * percent-encoding), empty segments and paths longer than MAX_ARTIFACT_PATH_BYTES.
 */
export function normalizeArtifactPath(raw: string, options: NormalizeOptions = {}): string {
  const refuse = (why: string) => new ArtifactPathError(`Invalid path ${describe(raw)}: ${why}`);
  let path = raw;
  if (options.directory && path.endsWith("/") && path.length > 1) path = path.slice(0, -1);
  const reason = unsafeReason(path) ?? decodedForms(path).map(unsafeReason).find((r) => r !== null) ?? null;
  if (reason) throw refuse(reason);
  if (path === "") {
    if (options.directory) return "";
    throw refuse("it is empty");
  }
  const segments = path.split("/");
  if (segments.some((s) => s === "")) throw refuse("it has an empty segment");
  const kept = segments.filter((s) => s !== ".");
  const normalized = kept.join("/");
  if (normalized === "" && !options.directory) throw refuse("it is empty");
  if (utf8.encode(normalized).length > MAX_ARTIFACT_PATH_BYTES) throw refuse(`it is longer than ${MAX_ARTIFACT_PATH_BYTES} bytes`);
  return normalized;
}

/** Joins normalised relative paths; the empty path is the root. */
export function joinArtifactPath(...parts: string[]): string {
  return parts.filter((p) => p !== "").join("/");
}

/** The last segment of a path. */
export function baseName(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? path : path.slice(i + 1);
}

/**
 * The file name of a client-side path (MLflow's multipart rpcs send the client's local file path):
 * its last segment, whether the client's separator was a slash or a backslash.
 */
export function clientFileName(localPath: string): string {
  const parts = localPath.split(/[\\/]/);
  return parts[parts.length - 1] ?? "";
}

const HTTP_ANCHOR = "/api/2.0/mlflow-artifacts/artifacts/";

/**
 * The artifact path a proxied artifact URI points at: `mlflow-artifacts:/X`,
 * `mlflow-artifacts://host:port/X` and `http(s)://host/.../api/2.0/mlflow-artifacts/artifacts/X` all
 * give `X` (not yet normalised). Any other URI is stored elsewhere and gives null.
 */
export function proxiedArtifactPath(uri: string): string | null {
  const scheme = /^mlflow-artifacts:/i.exec(uri);
  if (scheme) {
    let rest = uri.slice(scheme[0].length);
    if (rest.startsWith("//")) {
      const slash = rest.indexOf("/", 2);
      rest = slash < 0 ? "" : rest.slice(slash);
    }
    return stripQuery(rest).replace(/^\/+/, "");
  }
  if (/^https?:\/\//i.test(uri)) {
    const at = uri.indexOf(HTTP_ANCHOR);
    if (at < 0) return null;
    const rest = stripQuery(uri.slice(at + HTTP_ANCHOR.length));
    try {
      return decodeURIComponent(rest).replace(/^\/+/, "");
    } catch {
      throw new ArtifactPathError(`Invalid artifact URI ${describe(uri)}: malformed percent-encoding`);
    }
  }
  return null;
}

function stripQuery(s: string): string {
  const cut = s.search(/[?#]/);
  return cut < 0 ? s : s.slice(0, cut);
}

// MLflow serves these as text/plain (whatever their usual type), which also keeps scripts and
// markup from running when an artifact is opened.
const TEXT_EXTENSIONS = new Set([
  "txt", "log", "err", "cfg", "conf", "cnf", "cf", "ini", "properties", "prop", "hocon", "toml",
  "yaml", "yml", "xml", "json", "js", "py", "py3", "csv", "tsv", "md", "rst",
]);
const TEXT_FILE_NAMES = new Set(["MLmodel", "MLproject"]);

const MIME_TYPES: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  bmp: "image/bmp",
  webp: "image/webp",
  svg: "image/svg+xml",
  ico: "image/vnd.microsoft.icon",
  tif: "image/tiff",
  tiff: "image/tiff",
  html: "text/html",
  htm: "text/html",
  css: "text/css",
  pdf: "application/pdf",
  zip: "application/zip",
  tar: "application/x-tar",
  gz: "application/gzip",
  wasm: "application/wasm",
  mp3: "audio/mpeg",
  wav: "audio/x-wav",
  ogg: "audio/ogg",
  mp4: "video/mp4",
  webm: "video/webm",
};

/** The Content-Type an artifact is served with, guessed from its name as MLflow does. */
export function guessContentType(path: string): string {
  const name = baseName(path);
  const dot = name.lastIndexOf(".");
  const extension = dot <= 0 ? "" : name.slice(dot + 1);
  if (TEXT_FILE_NAMES.has(name) || TEXT_EXTENSIONS.has(extension.toLowerCase())) return "text/plain; charset=utf-8";
  return MIME_TYPES[extension.toLowerCase()] ?? "application/octet-stream";
}

/**
 * `attachment` with the file name, so a browser that opens an artifact URL downloads it rather than
 * rendering it on Tern's origin. Non-ASCII names go in filename* (RFC 6266).
 */
export function attachmentDisposition(path: string): string {
  const name = baseName(path);
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, "_");
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
  return ascii === name ? `attachment; filename="${name}"` : `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
