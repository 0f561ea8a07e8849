import { describe, expect, it } from "vitest";
import { canonicalManifest, checkPath, diffManifests, manifestHash, ManifestError, normalizeManifest, pathProblem } from "../../worker/lib/manifest";
import { parseNodeRef, parseVersionSource, sourceText, walk, type Link, type NodeRef } from "../../worker/lib/lineage";

const H = (c: string) => c.repeat(64);

describe("manifest paths", () => {
  it("accepts ordinary relative paths", () => {
    for (const p of ["a.csv", "train/img 1.png", "ünïcödé/ファイル.txt", ".hidden/x", "a..b/c"]) expect(pathProblem(p), p).toBeNull();
  });

  it("refuses escapes, absolute paths, NUL, empty segments and overlong paths, naming the path", () => {
    const cases: [string, RegExp][] = [
      ["../x", /parent/],
      ["a/../../x", /parent/],
      ["/etc/passwd", /absolute/],
      ["C:/Windows", /absolute/],
      ["a\\b", /backslash/],
      ["a\u0000b", /NUL/],
      ["a\nb", /control/],
      ["a//b", /empty segment/],
      ["a/", /empty segment/],
      ["", /empty/],
      ["./a", /'\.'/],
      ["a".repeat(1025), /longer than 1024/],
      [`${"b".repeat(256)}/x`, /segment is longer/],
      [Array.from({ length: 65 }, () => "d").join("/"), /deeper/],
      ["cafe\u0301", /NFC/],
    ];
    for (const [p, reason] of cases) {
      expect(pathProblem(p), JSON.stringify(p)).toMatch(reason);
      expect(() => checkPath(p)).toThrow(ManifestError);
    }
    expect(() => checkPath("../secret")).toThrow('Invalid path "../secret"');
  });
});

describe("manifests", () => {
  it("hashes the same files to the same address whatever their order", async () => {
    const a = { path: "b/2.txt", sha256: H("2"), size: 2 };
    const b = { path: "a.txt", sha256: H("1"), size: 1 };
    const one = await manifestHash([a, b]);
    const two = await manifestHash([b, a]);
    expect(one.sha256).toBe(two.sha256);
    expect(one.entries.map((e) => e.path)).toEqual(["a.txt", "b/2.txt"]);
    expect(one.size).toBe(3);
    expect(canonicalManifest(one.entries)).toBe(`[["a.txt","${H("1")}",1],["b/2.txt","${H("2")}",2]]`);
    expect((await manifestHash([{ ...a, size: 3 }, b])).sha256).not.toBe(one.sha256);
  });

  it("refuses duplicates, a file that is also a directory, and bad hashes or sizes", () => {
    expect(() => normalizeManifest([{ path: "x", sha256: H("1"), size: 1 }, { path: "x", sha256: H("2"), size: 1 }])).toThrow(/Duplicate path "x"/);
    expect(() => normalizeManifest([{ path: "x", sha256: H("1"), size: 1 }, { path: "x/y", sha256: H("2"), size: 1 }])).toThrow(/inside "x"/);
    expect(() => normalizeManifest([{ path: "x", sha256: "ABC", size: 1 }])).toThrow(/sha256 for path "x"/);
    expect(() => normalizeManifest([{ path: "x", sha256: H("1"), size: -1 }])).toThrow(/size for path "x"/);
  });

  it("diffs two manifests into added, removed and changed files", () => {
    const before = [
      { path: "keep", sha256: H("1"), size: 1 },
      { path: "change", sha256: H("2"), size: 1 },
      { path: "drop", sha256: H("3"), size: 1 },
    ];
    const after = [
      { path: "new", sha256: H("4"), size: 1 },
      { path: "keep", sha256: H("1"), size: 1 },
      { path: "change", sha256: H("5"), size: 2 },
    ];
    const d = diffManifests(before, after);
    expect(d.added.map((e) => e.path)).toEqual(["new"]);
    expect(d.removed.map((e) => e.path)).toEqual(["drop"]);
    expect(d.changed).toEqual([{ path: "change", before: before[1], after: after[2] }]);
    expect(d.unchanged).toBe(1);
  });
});

describe("lineage references and walks", () => {
  it("parses object references and the sources that name dataset versions", () => {
    expect(parseNodeRef("model_version:prices/3")).toEqual({ kind: "model_version", key: "prices/3" });
    expect(() => parseNodeRef("nokind")).toThrow();
    expect(() => parseNodeRef("run:")).toThrow();
    expect(parseVersionSource("tern://datasets/prices/versions/4")).toEqual({ dataset: "prices", version: 4 });
    expect(parseVersionSource("https://x.example/api/v1/datasets/my%2Ddata/versions/12/download?path=a")).toEqual({ dataset: "my-data", version: 12 });
    expect(parseVersionSource("https://x.example/datasets/prices/versions/4")).toBeNull();
    expect(parseVersionSource("tern://datasets/prices/versions/latest")).toBeNull();
    expect(sourceText('{"url": "https://a/b"}')).toBe("https://a/b");
    expect(sourceText("s3://bucket/key")).toBe("s3://bucket/key");
  });

  it("walks upstream and downstream separately, within the depth, and stops at the node cap", async () => {
    // a -> b -> c -> d (data flows right); start at b.
    const chain = ["a", "b", "c", "d"];
    const node = (k: string): NodeRef => ({ kind: "x", key: k });
    const up = async (n: NodeRef): Promise<Link[]> => {
      const i = chain.indexOf(n.key);
      return i > 0 ? [{ node: node(chain[i - 1]), edge: "flow" }] : [];
    };
    const down = async (n: NodeRef): Promise<Link[]> => {
      const i = chain.indexOf(n.key);
      return i < chain.length - 1 ? [{ node: node(chain[i + 1]), edge: "flow" }] : [];
    };
    const all = await walk(node("b"), { depth: 5, maxNodes: 100, upstream: up, downstream: down });
    expect(all.nodes.map((n) => n.key).sort()).toEqual(["a", "b", "c", "d"]);
    expect(all.edges.map((e) => `${e.from}>${e.to}`).sort()).toEqual(["x:a>x:b", "x:b>x:c", "x:c>x:d"]);
    const near = await walk(node("b"), { depth: 1, maxNodes: 100, upstream: up, downstream: down });
    expect(near.nodes.map((n) => n.key).sort()).toEqual(["a", "b", "c"]);
    const capped = await walk(node("b"), { depth: 5, maxNodes: 2, upstream: up, downstream: down });
    expect(capped.nodes).toHaveLength(2);
    expect(capped.truncated).toBe(true);
  });
});
