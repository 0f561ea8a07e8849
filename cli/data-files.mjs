// The pure pieces of `tern data`, with no I/O so unit tests pin them down: the pointer file format
// (PATH.tern, the small YAML file committed to git in place of the data), .gitignore editing, the
// comparison behind `tern data status`, the stat check that lets a cached hash stand, dataset@version
// references, and byte formatting.
import { parse, stringify } from "yaml";

export const POINTER_SUFFIX = ".tern";
const SHA256 = /^[0-9a-f]{64}$/;
const MD5 = /^[0-9a-f]{32}$/;
const HEADER = "# Tern data pointer: commit this file to git; `tern data pull` fetches the content it names.\n";

export class PointerError extends Error {
  constructor(message) {
    super(message);
    this.name = "PointerError";
  }
}

/** The pointer file for a data path: `data/train/` -> `data/train.tern`. */
export function pointerPathFor(target) {
  const trimmed = target.replace(/[\\/]+$/, "");
  if (trimmed === "" || trimmed === "." || trimmed === "..") throw new PointerError(`Cannot version '${target}' itself: name a file or a directory inside the project`);
  return `${trimmed}${POINTER_SUFFIX}`;
}

/** The data path a pointer file stands for: `data/train.tern` -> `data/train`. */
export function targetOfPointer(pointerPath) {
  if (!pointerPath.endsWith(POINTER_SUFFIX) || pointerPath.length === POINTER_SUFFIX.length) throw new PointerError(`${pointerPath} is not a pointer file (pointers end in ${POINTER_SUFFIX})`);
  return pointerPath.slice(0, -POINTER_SUFFIX.length);
}

/** The pointer's YAML, keys in a fixed order so re-adding unchanged data rewrites identical bytes. */
export function formatPointer(p) {
  const doc = { dataset: p.dataset, version: p.version, kind: p.kind, sha256: p.sha256 };
  if (p.kind === "file") doc.md5 = p.md5;
  doc.size = p.size;
  doc.files = p.files;
  checkPointer(doc, "pointer");
  return HEADER + stringify(doc);
}

function checkPointer(doc, source) {
  const bad = (why) => new PointerError(`${source}: ${why}`);
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw bad("not a Tern pointer (expected YAML keys dataset, version, kind, sha256, size, files)");
  if (typeof doc.dataset !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(doc.dataset)) throw bad(`'dataset' must be a dataset name, got ${JSON.stringify(doc.dataset)}`);
  if (!Number.isSafeInteger(doc.version) || doc.version < 1) throw bad(`'version' must be a positive integer, got ${JSON.stringify(doc.version)}`);
  if (doc.kind !== "file" && doc.kind !== "directory") throw bad(`'kind' must be file or directory, got ${JSON.stringify(doc.kind)}`);
  if (typeof doc.sha256 !== "string" || !SHA256.test(doc.sha256)) throw bad("'sha256' must be 64 lowercase hex digits");
  if (doc.kind === "file" && (typeof doc.md5 !== "string" || !MD5.test(doc.md5))) throw bad("'md5' must be 32 lowercase hex digits");
  if (!Number.isSafeInteger(doc.size) || doc.size < 0) throw bad("'size' must be a non-negative integer");
  if (!Number.isSafeInteger(doc.files) || doc.files < 0 || (doc.kind === "file" && doc.files !== 1)) throw bad("'files' must be the number of files (1 for a file)");
}

/** Reads a pointer file's text; `source` names it in errors. */
export function parsePointer(text, source = "pointer") {
  let doc;
  try {
    doc = parse(text);
  } catch (err) {
    throw new PointerError(`${source}: not valid YAML (${err.message.split("\n")[0]})`);
  }
  checkPointer(doc, source);
  const p = { dataset: doc.dataset, version: doc.version, kind: doc.kind, sha256: doc.sha256, size: doc.size, files: doc.files };
  if (doc.kind === "file") p.md5 = doc.md5;
  return p;
}

/**
 * .gitignore text with `/name` added (anchored to the file's directory), unless a line already ignores
 * exactly that name. Returns { text, changed }.
 */
export function addIgnoreEntry(text, name) {
  const entry = `/${name}`;
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  const same = new Set([name, `/${name}`, `${name}/`, `/${name}/`]);
  if (lines.some((l) => same.has(l))) return { text, changed: false };
  const base = text === "" || text.endsWith("\n") ? text : `${text}\n`;
  return { text: `${base}${entry}\n`, changed: true };
}

/**
 * How local files compare with the version a pointer names. `expected` and `local` are lists of
 * { path, sha256, size }; `local` is null when the data path does not exist at all (never pulled).
 * Returns { state, modified, missing, added, unchanged } with state "up to date", "not pulled" or "changed".
 */
export function compareWithPointer(expected, local) {
  if (local === null) return { state: "not pulled", modified: [], missing: expected.map((e) => e.path), added: [], unchanged: 0 };
  const have = new Map(local.map((e) => [e.path, e]));
  const out = { state: "up to date", modified: [], missing: [], added: [], unchanged: 0 };
  for (const e of expected) {
    const l = have.get(e.path);
    if (!l) out.missing.push(e.path);
    else if (l.sha256 !== e.sha256 || l.size !== e.size) out.modified.push(e.path);
    else out.unchanged++;
    have.delete(e.path);
  }
  out.added = [...have.keys()].sort();
  if (out.modified.length || out.missing.length || out.added.length) out.state = "changed";
  if (expected.length > 0 && out.unchanged === 0 && out.modified.length === 0 && out.added.length === 0) out.state = "not pulled";
  return out;
}

/** What the hash cache keeps of a file's stat: a hash stands only while size, mtime and inode stay. */
export function statKey(stat) {
  return { size: Number(stat.size), mtime: String(stat.mtimeNs ?? stat.mtimeMs), ino: String(stat.ino) };
}

export function cacheHit(entry, stat) {
  if (!entry) return false;
  const k = statKey(stat);
  return entry.size === k.size && entry.mtime === k.mtime && entry.ino === k.ino;
}

/** `name@3`, `name@latest`, `name` (latest), or `@3` / `3` for a version of `defaultDataset`. */
export function parseRef(ref, defaultDataset) {
  const m = /^([^@]*)(?:@(.+))?$/.exec(ref.trim());
  let dataset = m?.[1] ?? "";
  let version = m?.[2];
  if (dataset !== "" && version === undefined && /^\d+$/.test(dataset) && defaultDataset) {
    version = dataset;
    dataset = "";
  }
  if (dataset === "") dataset = defaultDataset ?? "";
  if (dataset === "") throw new PointerError(`'${ref}' names no dataset: write DATASET@VERSION`);
  if (version === undefined || version === "latest") return { dataset, version: "latest" };
  if (!/^\d+$/.test(version) || Number(version) < 1) throw new PointerError(`'${ref}': the version must be a positive number or 'latest'`);
  return { dataset, version: Number(version) };
}

export function formatBytes(n) {
  if (n === null || n === undefined) return "";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let x = n;
  while (Math.abs(x) >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${x.toFixed(x >= 100 ? 0 : 1)} ${units[i]}`;
}
