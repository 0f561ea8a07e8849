/**
 * The pure parts of the datasets UI: the streaming hash and profile the upload Web Worker runs, the
 * upload plan (parts, paths), the lineage graph's depth cut, links and dagre layout, and the diff
 * page's category and statistic moves.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { hashFile, profileFile } from "../../app/src/lib/workers/datasets/api";
import { chunks, manifestPaths, MIN_PART_SIZE, partRange, partSizeFor, runLimited, usesMultipart, MAX_PARTS, MiB } from "../../app/src/lib/datasets/upload-plan";
import { layoutLineage, limitDepth, nodeHref, NODE_HEIGHT, NODE_WIDTH } from "../../app/src/lib/datasets/lineage-layout";
import { categoryChanges, statMoves } from "../../app/src/lib/datasets/diff-view";
import { parquetWriteBuffer } from "hyparquet-writer";
import { diffProfiles, profileText } from "../../worker/lib/profile/index";
import { profileParquet } from "../../worker/lib/profile/parquet";
import type { LineageGraph } from "../../app/src/lib/api/datasets-types";

describe("the upload worker's hash and profile", () => {
  it("hashes a multi-chunk file incrementally to the same SHA-256 as a one-shot digest, reporting progress", async () => {
    const bytes = new Uint8Array(3 * MiB + 12345).map((_, i) => (i * 31 + (i >> 7)) & 0xff);
    const seen: number[] = [];
    const hex = await hashFile(new Blob([bytes]), (b) => seen.push(b));
    expect(hex).toBe(createHash("sha256").update(bytes).digest("hex"));
    expect(seen.at(-1)).toBe(bytes.length);
    expect(seen.length).toBeGreaterThan(1);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
  });

  it("hashes an empty file", async () => {
    expect(await hashFile(new Blob([]))).toBe(createHash("sha256").digest("hex"));
  });

  it("streams files over the limit through Blob streams and slices, to the same profile while the exact limits hold", async () => {
    const csv = "id,city,price\n1,Oslo,10.5\n2,Bergen,\n3,Oslo,7\n";
    expect(await profileFile(new Blob([csv]), "prices.csv", 0)).toEqual({ profile: profileText(csv, "csv"), error: null });
    const jsonl = '{"a": 1, "b": "x"}\n{"a": 2.5}\n';
    expect((await profileFile(new Blob([jsonl]), "rows.jsonl", 0)).profile).toEqual(profileText(jsonl, "jsonl"));
    const parquet = parquetWriteBuffer({ columnData: [{ name: "x", data: Array.from({ length: 3000 }, (_, i) => i / 7), type: "DOUBLE" }], rowGroupSize: 1000 });
    expect((await profileFile(new Blob([parquet]), "t.parquet", 0)).profile).toEqual(await profileParquet(parquet));
    // Beyond the exact buffer the quantiles are sketched, and the profile says so.
    const many = `v\n${Array.from({ length: 40_000 }, (_, i) => i).join("\n")}\n`;
    const streamed = (await profileFile(new Blob([many]), "many.csv", 0)).profile!;
    expect(streamed).toMatchObject({ approximate: true, row_count: 40_000 });
    expect(streamed.columns[0].quantile_rank_error).toBe(0.01);
    expect(streamed.columns[0].numeric).toMatchObject({ min: 0, max: 39_999, mean: 19_999.5 });
    const bad = await profileFile(new Blob(['{"a": 1}\nnot json\n']), "rows.jsonl", 0);
    expect(bad.profile).toBeNull();
    expect(bad.error).toContain("line 2");
  });

  it("profiles CSV exactly as the server's module does, and says why it cannot profile a broken file", async () => {
    const csv = "id,city,price\n1,Oslo,10.5\n2,Bergen,\n3,Oslo,7\n";
    const r = await profileFile(new Blob([csv]), "prices.csv");
    expect(r.error).toBeNull();
    expect(r.profile).toEqual(profileText(csv, "csv"));
    expect(r.profile!.columns.map((c) => c.type)).toEqual(["integer", "string", "number"]);
    expect(await profileFile(new Blob(["a,b\n"]), "notes.txt")).toEqual({ profile: null, error: null });
    const bad = await profileFile(new Blob(['{"a": 1}\nnot json\n']), "rows.jsonl");
    expect(bad.profile).toBeNull();
    expect(bad.error).toContain("line 2");
  });
});

describe("the upload plan", () => {
  it("sends files above one minimum part in parts of 5 to 95 MiB and at most 10,000 parts", () => {
    expect(usesMultipart(MIN_PART_SIZE)).toBe(false);
    expect(usesMultipart(MIN_PART_SIZE + 1)).toBe(true);
    expect(partSizeFor(12 * MiB)).toBe(5 * MiB);
    expect(partSizeFor(1024 * MiB)).toBe(16 * MiB);
    const huge = 5 * 1024 * MiB - 5 * MiB; // the largest blob the store takes
    expect(Math.ceil(huge / partSizeFor(huge))).toBeLessThanOrEqual(MAX_PARTS);
    expect(partSizeFor(huge)).toBeLessThanOrEqual(95 * MiB);
  });

  it("cuts a file into contiguous part ranges whose last part holds the rest", () => {
    const size = 12 * MiB + 7;
    const ps = partSizeFor(size);
    const n = Math.ceil(size / ps);
    const ranges = Array.from({ length: n }, (_, i) => partRange(size, ps, i + 1));
    expect(ranges[0]).toEqual([0, ps]);
    for (let i = 1; i < n; i++) expect(ranges[i][0]).toBe(ranges[i - 1][1]);
    expect(ranges.at(-1)![1]).toBe(size);
  });

  it("drops the picked folder's own name from manifest paths", () => {
    expect(manifestPaths(["images/train/a.png", "images/test/b.png"])).toEqual(["train/a.png", "test/b.png"]);
    expect(manifestPaths(["a.csv", "b.csv"])).toEqual(["a.csv", "b.csv"]);
    expect(manifestPaths(["x/a.csv", "y/b.csv"])).toEqual(["x/a.csv", "y/b.csv"]);
    expect(chunks([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
  });

  it("runs jobs with bounded concurrency and stops taking new ones after a failure", async () => {
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    await expect(
      runLimited([1, 2, 3, 4, 5, 6, 7, 8], 3, async (i) => {
        started.push(i);
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        if (i === 2) throw new Error("part 2 failed");
      }),
    ).rejects.toThrow("part 2 failed");
    expect(peak).toBe(3);
    expect(started.length).toBeLessThan(8);
  });
});

const node = (kind: string, key: string, data: Record<string, unknown> = {}) => ({ id: `${kind}:${key}`, kind, key, label: `${kind} ${key}`, data });

describe("the lineage graph", () => {
  // parent v1 -> v2 -> run r1 -> model m/1 <- monitor; v2 -> run r2; an unrelated upstream of r2 (v9).
  const g: LineageGraph = {
    root: "dataset_version:v2",
    nodes: [
      node("dataset_version", "v1", { dataset: "prices", version: 1 }),
      node("dataset_version", "v2", { dataset: "prices", version: 2 }),
      node("run", "r1", { experiment_id: "7" }),
      node("run", "r2", { experiment_id: "7" }),
      node("model_version", "spy/1", { name: "spy", version: 1 }),
      node("monitor", "mon1"),
    ],
    edges: [
      { from: "dataset_version:v1", to: "dataset_version:v2", kind: "parent_version" },
      { from: "dataset_version:v2", to: "run:r1", kind: "input" },
      { from: "dataset_version:v2", to: "run:r2", kind: "input" },
      { from: "run:r1", to: "model_version:spy/1", kind: "produced" },
      { from: "model_version:spy/1", to: "monitor:mon1", kind: "monitored_by" },
    ],
    truncated: false,
  };

  it("keeps the nodes within the upstream and downstream depths, and the edges among them", () => {
    const ids = (up: number, down: number) => limitDepth(g, up, down).nodes.map((n) => n.id).sort();
    expect(ids(0, 0)).toEqual(["dataset_version:v2"]);
    expect(ids(1, 0)).toEqual(["dataset_version:v1", "dataset_version:v2"]);
    expect(ids(0, 1)).toEqual(["dataset_version:v2", "run:r1", "run:r2"]);
    expect(ids(0, 3)).toHaveLength(5);
    expect(ids(1, 3)).toHaveLength(6);
    expect(limitDepth(g, 0, 1).edges.map((e) => e.to).sort()).toEqual(["run:r1", "run:r2"]);
  });

  it("links each kind of node to its page", () => {
    expect(nodeHref(g.nodes[0])).toBe("/datasets/prices/versions/1");
    expect(nodeHref(g.nodes[2])).toBe("/experiments/7/runs/r1");
    expect(nodeHref(g.nodes[4])).toBe("/models/spy/versions/1");
    expect(nodeHref(g.nodes[5])).toBe("/monitoring/mon1");
    expect(nodeHref(node("run", "gone", { missing: true }))).toBeNull();
  });

  it("lays the graph out left to right with no two nodes overlapping and every edge routed", () => {
    const placed = layoutLineage(g.root, g.nodes, g.edges);
    expect(placed.nodes).toHaveLength(6);
    for (const [i, a] of placed.nodes.entries()) {
      expect(a.width).toBe(NODE_WIDTH);
      expect(a.height).toBe(NODE_HEIGHT);
      expect(a.x).toBeGreaterThanOrEqual(0);
      expect(a.x + a.width).toBeLessThanOrEqual(placed.width);
      expect(a.y + a.height).toBeLessThanOrEqual(placed.height);
      for (const b of placed.nodes.slice(i + 1)) {
        const apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
        expect(apart, `${a.node.id} overlaps ${b.node.id}`).toBe(true);
      }
    }
    const at = (id: string) => placed.nodes.find((n) => n.node.id === id)!;
    for (const e of g.edges) expect(at(e.from).x).toBeLessThan(at(e.to).x);
    for (const e of placed.edges) {
      expect(e.points.length).toBeGreaterThanOrEqual(2);
      // The label sits in the gap between the two boxes, not on either.
      expect(e.labelAt.x).toBeGreaterThan(at(e.edge.from).x + NODE_WIDTH);
      expect(e.labelAt.x).toBeLessThan(at(e.edge.to).x);
    }
    expect(placed.edges.map((e) => e.label)).toContain("parent version");
    expect(placed.nodes.filter((n) => n.root).map((n) => n.node.id)).toEqual(["dataset_version:v2"]);
  });
});

describe("the diff page's column view", () => {
  const before = profileText("amount,country\n10,NO\n20,SE\n30,NO\n40,\n", "csv");
  const after = profileText("amount,country\n10,NO\n25,DK\n30,NO\n400,DK\n", "csv");
  const changes = diffProfiles(before, after);

  it("finds categories that appeared and disappeared among the top values", () => {
    const c = categoryChanges(before.columns[1], after.columns[1]);
    expect(c).toEqual({ added: ["DK"], removed: ["SE"] });
    expect(categoryChanges(before.columns[0], after.columns[0])).toEqual({ added: [], removed: [] });
  });

  it("marks large statistic moves as notable and small ones not", () => {
    const moves = statMoves(changes.find((c) => c.name === "amount")!, before.columns[0]);
    const mean = moves.find((m) => m.key === "mean")!;
    expect(mean.before).toBe(25);
    expect(mean.after).toBeCloseTo(116.25);
    expect(mean.notable).toBe(true);
    expect(moves.find((m) => m.key === "min")).toBeUndefined();
    const missing = statMoves(changes.find((c) => c.name === "country")!, before.columns[1]).find((m) => m.key === "missing_share")!;
    expect([missing.before, missing.after, missing.notable]).toEqual([0.25, 0, true]);
    const tiny = statMoves({ name: "x", change: "stats_changed", type_before: "number", type_after: "number", stats: { mean: [100, 101] } }, undefined);
    expect(tiny[0].notable).toBe(false);
  });
});
