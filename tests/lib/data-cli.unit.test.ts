/**
 * The pure pieces of `tern data` and `tern login`: the pointer file format, the server/token resolution
 * order and the config file's mode, .gitignore editing, the status comparison, the stat check behind the
 * hash cache, and dataset@version references.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cacheDir, configPath, DEFAULT_URL, readConfig, resolveServer, writeConfig } from "../../cli/config.mjs";
import {
  addIgnoreEntry,
  cacheHit,
  compareWithPointer,
  formatBytes,
  formatPointer,
  parsePointer,
  parseRef,
  pointerPathFor,
  PointerError,
  statKey,
  targetOfPointer,
  type Pointer,
} from "../../cli/data-files.mjs";

const SHA = "a".repeat(64);
const SHA2 = "b".repeat(64);
const MD5 = "0123456789abcdef0123456789abcdef";

describe("pointer files", () => {
  const file: Pointer = { dataset: "prices", version: 3, kind: "file", sha256: SHA, md5: MD5, size: 1234, files: 1 };
  const dir: Pointer = { dataset: "images.v2", version: 1, kind: "directory", sha256: SHA2, size: 99, files: 12 };

  it("round-trips files and directories, keys in a fixed order, md5 only for files", () => {
    const text = formatPointer(file);
    expect(text.split("\n").filter((l) => !l.startsWith("#") && l)).toEqual([
      "dataset: prices",
      "version: 3",
      "kind: file",
      `sha256: ${SHA}`,
      `md5: ${MD5}`,
      "size: 1234",
      "files: 1",
    ]);
    expect(parsePointer(text)).toEqual(file);
    const dirText = formatPointer(dir);
    expect(dirText).not.toContain("md5");
    expect(parsePointer(dirText)).toEqual(dir);
    expect(formatPointer({ ...file })).toBe(text);
  });

  it("names the pointer next to its data path and back", () => {
    expect(pointerPathFor("data/train/")).toBe("data/train.tern");
    expect(pointerPathFor("prices.csv")).toBe("prices.csv.tern");
    expect(targetOfPointer("data/train.tern")).toBe("data/train");
    expect(() => pointerPathFor(".")).toThrow(PointerError);
    expect(() => targetOfPointer("data/train.yaml")).toThrow(/not a pointer file/);
  });

  it("refuses pointers that are not well formed, naming the file and the field", () => {
    const bad = (patch: Record<string, unknown>) => formatPointerUnchecked({ ...file, ...patch });
    expect(() => parsePointer("dataset: [", "x.tern")).toThrow(/x.tern: not valid YAML/);
    expect(() => parsePointer("just text", "x.tern")).toThrow(/x.tern: not a Tern pointer/);
    expect(() => parsePointer(bad({ version: 0 }), "p.tern")).toThrow(/'version'/);
    expect(() => parsePointer(bad({ sha256: "ABC" }), "p.tern")).toThrow(/'sha256'/);
    expect(() => parsePointer(bad({ md5: undefined }), "p.tern")).toThrow(/'md5'/);
    expect(() => parsePointer(bad({ kind: "link" }), "p.tern")).toThrow(/'kind'/);
    expect(() => parsePointer(bad({ files: 2 }), "p.tern")).toThrow(/'files'/);
    expect(() => parsePointer(bad({ dataset: "../x" }), "p.tern")).toThrow(/'dataset'/);
    expect(() => formatPointer({ ...file, size: -1 })).toThrow(/'size'/);
  });
});

function formatPointerUnchecked(doc: Record<string, unknown>): string {
  return Object.entries(doc)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n");
}

describe("server and token resolution", () => {
  it("takes a flag over the environment over the config over the default", () => {
    const config = { url: "https://saved.example", token: "tern_saved" };
    const env = { TERN_URL: "https://env.example/", TERN_TOKEN: "tern_env" };
    expect(resolveServer({ url: "https://flag.example", token: "tern_flag" }, env, config)).toEqual({ url: "https://flag.example", token: "tern_flag", urlSource: "flag", tokenSource: "flag" });
    expect(resolveServer({}, env, config)).toEqual({ url: "https://env.example", token: "tern_env", urlSource: "TERN_URL", tokenSource: "TERN_TOKEN" });
    expect(resolveServer({}, {}, config)).toEqual({ url: "https://saved.example", token: "tern_saved", urlSource: "config", tokenSource: "config" });
    expect(resolveServer({}, {}, {})).toEqual({ url: DEFAULT_URL, token: undefined, urlSource: "default", tokenSource: "default" });
  });

  it("treats an empty flag or variable as not given, and mixes sources per field", () => {
    const r = resolveServer({ url: "" }, { TERN_URL: "  ", TERN_TOKEN: "" }, { token: "tern_saved" });
    expect(r).toEqual({ url: DEFAULT_URL, token: "tern_saved", urlSource: "default", tokenSource: "config" });
  });

  describe("the config file", () => {
    let dir: string;
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it("lives under XDG_CONFIG_HOME with mode 0600 and reads back", () => {
      dir = mkdtempSync(join(tmpdir(), "tern-config-"));
      const env = { XDG_CONFIG_HOME: join(dir, "cfg"), XDG_CACHE_HOME: join(dir, "cache") };
      expect(readConfig(env)).toEqual({});
      const path = writeConfig({ url: "https://t.example", token: "tern_secret" }, env);
      expect(path).toBe(join(dir, "cfg", "tern", "config.json"));
      expect(configPath(env)).toBe(path);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(readConfig(env)).toEqual({ url: "https://t.example", token: "tern_secret" });
      expect(cacheDir(env)).toBe(join(dir, "cache", "tern"));
      writeFileSync(path, "{not json");
      expect(() => readConfig(env)).toThrow(/not valid JSON/);
    });
  });
});

describe(".gitignore editing", () => {
  it("adds an anchored entry once, keeping what is there", () => {
    expect(addIgnoreEntry("", "data.csv")).toEqual({ text: "/data.csv\n", changed: true });
    expect(addIgnoreEntry("node_modules", "data.csv")).toEqual({ text: "node_modules\n/data.csv\n", changed: true });
    const once = addIgnoreEntry("*.log\n", "train").text;
    expect(once).toBe("*.log\n/train\n");
    expect(addIgnoreEntry(once, "train")).toEqual({ text: once, changed: false });
  });

  it("recognises the usual ways of writing the same entry, and not lookalikes", () => {
    for (const line of ["train", "/train", "train/", "/train/", "  /train  "]) expect(addIgnoreEntry(`${line}\r\n`, "train").changed).toBe(false);
    expect(addIgnoreEntry("training\n#/train\n", "train").changed).toBe(true);
  });
});

describe("status comparison", () => {
  const e = (path: string, sha256: string, size = 1) => ({ path, sha256, size });
  const expected = [e("a.csv", SHA), e("dir/b.csv", SHA2), e("dir/c.csv", SHA)];

  it("is up to date when every file matches, whatever the order", () => {
    expect(compareWithPointer(expected, [...expected].reverse())).toEqual({ state: "up to date", modified: [], missing: [], added: [], unchanged: 3 });
  });

  it("lists modified, missing and new files", () => {
    const local = [e("a.csv", SHA2), e("dir/c.csv", SHA), e("new.txt", SHA), e("dir/c2.csv", SHA)];
    expect(compareWithPointer(expected, local)).toEqual({ state: "changed", modified: ["a.csv"], missing: ["dir/b.csv"], added: ["dir/c2.csv", "new.txt"], unchanged: 1 });
  });

  it("counts a same-hash file of another size as modified", () => {
    expect(compareWithPointer([e("a", SHA, 5)], [e("a", SHA, 6)]).modified).toEqual(["a"]);
  });

  it("says not pulled when the data path is absent or holds none of the files", () => {
    expect(compareWithPointer(expected, null)).toMatchObject({ state: "not pulled", missing: ["a.csv", "dir/b.csv", "dir/c.csv"] });
    expect(compareWithPointer(expected, []).state).toBe("not pulled");
    expect(compareWithPointer([], []).state).toBe("up to date");
  });
});

describe("hash cache validity", () => {
  const st = { size: 10n, mtimeNs: 1_700_000_000_123_456_789n, ino: 42n };

  it("keeps a hash only while size, mtime and inode are unchanged", () => {
    const key = statKey(st);
    expect(key).toEqual({ size: 10, mtime: "1700000000123456789", ino: "42" });
    expect(cacheHit(key, st)).toBe(true);
    expect(cacheHit(key, { ...st, size: 11n })).toBe(false);
    expect(cacheHit(key, { ...st, mtimeNs: st.mtimeNs + 1n })).toBe(false);
    expect(cacheHit(key, { ...st, ino: 43n })).toBe(false);
    expect(cacheHit(undefined, st)).toBe(false);
  });
});

describe("dataset@version references", () => {
  it("reads names, numbers and latest", () => {
    expect(parseRef("prices@3")).toEqual({ dataset: "prices", version: 3 });
    expect(parseRef("prices@latest")).toEqual({ dataset: "prices", version: "latest" });
    expect(parseRef("prices")).toEqual({ dataset: "prices", version: "latest" });
    expect(parseRef("@2", "prices")).toEqual({ dataset: "prices", version: 2 });
    expect(parseRef("2", "prices")).toEqual({ dataset: "prices", version: 2 });
    expect(parseRef("other@5", "prices")).toEqual({ dataset: "other", version: 5 });
  });

  it("refuses what is not a reference", () => {
    expect(() => parseRef("@3")).toThrow(/names no dataset/);
    expect(() => parseRef("prices@0")).toThrow(/positive number/);
    expect(() => parseRef("prices@x")).toThrow(/positive number/);
  });

  it("formats sizes", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(1024 ** 3)).toBe("1.0 GiB");
  });
});
