import { describe, expect, it } from "vitest";
import { parseCsvHead } from "../../app/src/lib/artifacts/csv-head";
import { datasetInputView, datasetVersionPage, schemaColumns, sourceLocation } from "../../app/src/lib/artifacts/dataset-input";
import { completeUtf8Prefix, contentRangeTotal, decodeHead, formatBytes, prettyJson, previewKind } from "../../app/src/lib/artifacts/preview";

describe("artifact preview kinds", () => {
  it("picks the preview from the file name", () => {
    expect(previewKind("plots/loss.PNG")).toBe("image");
    expect(previewKind("a/b/diagram.svg")).toBe("image");
    expect(previewKind("photo.jpeg")).toBe("image");
    expect(previewKind("metrics.json")).toBe("json");
    expect(previewKind("data/train.csv")).toBe("csv");
    expect(previewKind("data/train.tsv")).toBe("tsv");
    expect(previewKind("model/MLmodel")).toBe("text");
    expect(previewKind("model/conda.yaml")).toBe("text");
    expect(previewKind("notes.txt")).toBe("text");
    expect(previewKind("model/model.pkl")).toBe("none");
    expect(previewKind("weights")).toBe("none");
    // A dotfile's name is not an extension.
    expect(previewKind("dir/.json")).toBe("none");
  });
});

describe("reading the head of a file", () => {
  const utf8 = (s: string) => new TextEncoder().encode(s);

  it("drops a multi-byte character the range cut in half, and only then", () => {
    const bytes = utf8("ab€"); // € is three bytes
    expect(completeUtf8Prefix(bytes.subarray(0, 4))).toEqual(utf8("ab"));
    expect(completeUtf8Prefix(bytes.subarray(0, 3))).toEqual(utf8("ab"));
    expect(completeUtf8Prefix(bytes)).toEqual(bytes);
    const emoji = utf8("x😀"); // four bytes
    expect(completeUtf8Prefix(emoji.subarray(0, 4))).toEqual(utf8("x"));
    expect(completeUtf8Prefix(emoji)).toEqual(emoji);
    expect(decodeHead(bytes.subarray(0, 4), true)).toBe("ab");
    expect(decodeHead(bytes.subarray(0, 4), false)).toBe("ab\ufffd");
    expect(decodeHead(new Uint8Array(), false)).toBe("");
  });

  it("reads the complete size from a Content-Range", () => {
    expect(contentRangeTotal("bytes 0-65535/120000")).toBe(120000);
    expect(contentRangeTotal("bytes */42")).toBe(42);
    expect(contentRangeTotal("bytes 0-9/*")).toBeNull();
    expect(contentRangeTotal(null)).toBeNull();
  });

  it("pretty-prints JSON, and shows what it cannot format as it is", () => {
    expect(prettyJson('{"a":1,"b":[true,null]}', false)).toEqual({ ok: true, text: '{\n  "a": 1,\n  "b": [\n    true,\n    null\n  ]\n}' });
    const bad = prettyJson("{nope", false);
    expect(bad.ok).toBe(false);
    expect(bad.text).toBe("{nope");
    const cut = prettyJson('{"a": [1, 2', true);
    expect(cut).toMatchObject({ ok: false, text: '{"a": [1, 2' });
  });

  it("formats sizes", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(64 * 1024)).toBe("64 KiB");
    expect(formatBytes(5 * 1024 * 1024)).toBe("5.0 MiB");
    expect(formatBytes(undefined)).toBe("—");
  });
});

describe("CSV and TSV heads", () => {
  it("parses a header and rows, with quoted fields holding commas, quotes and line breaks", () => {
    const head = parseCsvHead('name,note\r\nalpha,"a, b"\r\nbeta,"say ""hi"""\r\ngamma,"two\nlines"\r\n', { delimiter: ",", truncated: false });
    expect(head).toEqual({
      columns: ["name", "note"],
      rows: [
        ["alpha", "a, b"],
        ["beta", 'say "hi"'],
        ["gamma", "two\nlines"],
      ],
      more: false,
    });
  });

  it("stops at the row limit and says there is more", () => {
    const text = ["i", ...Array.from({ length: 80 }, (_, i) => String(i))].join("\n");
    const head = parseCsvHead(text, { delimiter: ",", truncated: false });
    expect(head.rows).toHaveLength(50);
    expect(head.rows.at(-1)).toEqual(["49"]);
    expect(head.more).toBe(true);
    const exact = parseCsvHead(["i", ...Array.from({ length: 50 }, (_, i) => String(i))].join("\n"), { delimiter: ",", truncated: false });
    expect(exact.more).toBe(false);
    expect(parseCsvHead("i\n1\n2\n3", { delimiter: ",", truncated: false, maxRows: 2 }).rows).toEqual([["1"], ["2"]]);
  });

  it("leaves out the row a truncated head cut off, and pads ragged rows", () => {
    const head = parseCsvHead("a\tb\n1\t2\n3\n4\t5\t6\n7\t8", { delimiter: "\t", truncated: true });
    expect(head.columns).toEqual(["a", "b", ""]);
    expect(head.rows).toEqual([
      ["1", "2", ""],
      ["3", "", ""],
      ["4", "5", "6"],
    ]);
    expect(head.more).toBe(true);
  });

  it("strips a byte-order mark and skips blank lines", () => {
    expect(parseCsvHead("\ufeffx,y\n\n1,2\n\n", { delimiter: ",", truncated: false })).toEqual({ columns: ["x", "y"], rows: [["1", "2"]], more: false });
    expect(parseCsvHead("", { delimiter: ",", truncated: false })).toEqual({ columns: [], rows: [], more: false });
  });
});

describe("dataset inputs", () => {
  it("reads MLflow's column spec, with array and optional columns", () => {
    const schema = JSON.stringify({
      mlflow_colspec: [
        { type: "double", name: "sepal length (cm)", required: true },
        { type: "string", name: "species", required: false },
        { type: "array", items: { type: "long" }, name: "ids", required: true },
      ],
    });
    expect(schemaColumns(schema)).toEqual([
      { name: "sepal length (cm)", type: "double", required: true },
      { name: "species", type: "string", required: false },
      { name: "ids", type: "array<long>", required: true },
    ]);
  });

  it("reads a tensor spec whose features and targets are JSON strings themselves", () => {
    const features = JSON.stringify([{ type: "tensor", "tensor-spec": { dtype: "float64", shape: [-1, 4] } }]);
    const targets = JSON.stringify([{ type: "tensor", "tensor-spec": { dtype: "int64", shape: [-1] } }]);
    expect(schemaColumns(JSON.stringify({ mlflow_tensorspec: { features, targets } }))).toEqual([
      { name: "features 0", type: "tensor<float64>[-1, 4]", required: undefined },
      { name: "targets 0", type: "tensor<int64>[-1]", required: undefined },
    ]);
    expect(schemaColumns(JSON.stringify({ mlflow_tensorspec: { features, targets: null } }))).toHaveLength(1);
  });

  it("gives no columns for an absent, broken or unknown schema", () => {
    expect(schemaColumns(undefined)).toBeNull();
    expect(schemaColumns("{not json")).toBeNull();
    expect(schemaColumns('{"something_else": 1}')).toBeNull();
    expect(schemaColumns('{"mlflow_colspec": [{"name": "no type"}]}')).toBeNull();
  });

  it("shows the context tag, the source's location, the profile's figures and unreadable parts as text", () => {
    const view = datasetInputView({
      tags: [
        { key: "mlflow.data.context", value: "training" },
        { key: "split", value: "v2" },
      ],
      dataset: {
        name: "iris",
        digest: "abc123",
        source_type: "local",
        source: '{"uri": "/data/iris.csv"}',
        schema: '{"mlflow_colspec": [{"type": "double", "name": "x"}]}',
        profile: '{"num_rows": 150, "num_elements": 600}',
      },
    });
    expect(view).toEqual({
      name: "iris",
      digest: "abc123",
      sourceType: "local",
      source: "/data/iris.csv",
      context: "training",
      otherTags: [["split", "v2"]],
      columns: [{ name: "x", type: "double", required: undefined }],
      schemaText: null,
      profile: [
        ["num_rows", "150"],
        ["num_elements", "600"],
      ],
      profileText: null,
      versionPage: null,
    });
    const raw = datasetInputView({ dataset: { name: "d", digest: "1", source_type: "code", source: "notebook", schema: "opaque", profile: "[1,2]" } });
    expect(raw).toMatchObject({ source: "notebook", context: null, columns: null, schemaText: "opaque", profile: null, profileText: "[1,2]" });
    expect(sourceLocation('{"path": "s3://bucket/x"}')).toBe("s3://bucket/x");
    expect(sourceLocation('{"other": 1}')).toBe('{"other": 1}');
  });

  it("links a source that downloads a Tern dataset version to that version's page", () => {
    const view = datasetInputView({ dataset: { name: "spx", digest: "abc", source_type: "http", source: '{"url": "http://127.0.0.1:8787/api/v1/datasets/spx%20daily/versions/12/download"}' } });
    expect(view.versionPage).toBe("/datasets/spx%20daily/versions/12");
    expect(datasetVersionPage("https://example.com/api/v1/datasets/spx/versions/3/download?token=x")).toBe("/datasets/spx/versions/3");
    expect(datasetVersionPage("https://example.com/api/v1/datasets/spx/versions/latest/download")).toBeNull();
    expect(datasetVersionPage("https://example.com/api/v1/datasets/spx/versions/3")).toBeNull();
    expect(datasetVersionPage("s3://bucket/x.csv")).toBeNull();
  });
});
