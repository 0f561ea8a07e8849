import { describe, expect, it } from "vitest";
import {
  ancestorsOf,
  anyValue,
  base64ToHex,
  buildSpanTree,
  formatNanos,
  parseNanos,
  prettyJson,
  spanDurationNs,
  visibleSpans,
  waterfallBar,
  type WireSpan,
} from "../../app/src/lib/traces/span-tree";
import { executionMs, orderByClause, parseDurationMs, previewText, requestTimeMs, systemTags, traceName, userTags } from "../../app/src/lib/traces/trace-fields";

const b64 = (hex: string) => btoa(String.fromCharCode(...(hex.match(/../g) ?? []).map((x) => parseInt(x, 16))));
const id = (n: number) => n.toString(16).padStart(16, "0");
const T0 = 1_700_000_000_000_000_000n;

function span(n: number, parent: number | null, startOffsetNs: bigint, endOffsetNs: bigint | null, extra: Partial<WireSpan> = {}): WireSpan & { trace_id: string } {
  return {
    trace_id: b64("0123456789abcdef0123456789abcdef"),
    span_id: b64(id(n)),
    parent_span_id: parent === null ? undefined : b64(id(parent)),
    name: `s${n}`,
    start_time_unix_nano: (T0 + startOffsetNs).toString(),
    end_time_unix_nano: endOffsetNs === null ? undefined : (T0 + endOffsetNs).toString(),
    ...extra,
  };
}

const names = (nodes: { name: string }[]) => nodes.map((n) => n.name);

describe("reading OpenTelemetry spans", () => {
  it("decodes base64 ids to hex and nanosecond strings to exact BigInts", () => {
    expect(base64ToHex(b64("00f1e2d3c4b5a697"))).toBe("00f1e2d3c4b5a697");
    expect(base64ToHex("AP_i08S1ppc")).toBe("00ffe2d3c4b5a697");
    expect(base64ToHex("")).toBe("");
    expect(parseNanos("1700000000000123456")).toBe(1_700_000_000_000_123_456n);
    expect(parseNanos("1.5")).toBeNull();
    expect(parseNanos(undefined)).toBeNull();
  });

  it("decodes AnyValues, keeping int64 beyond 2^53 as text", () => {
    expect(anyValue({ int_value: "12" })).toBe(12);
    expect(anyValue({ int_value: "9007199254740993" })).toBe("9007199254740993");
    expect(anyValue({ double_value: "NaN" })).toBeNaN();
    expect(anyValue({ array_value: { values: [{ string_value: "a" }, { bool_value: false }] } })).toEqual(["a", false]);
    expect(anyValue({ kvlist_value: { values: [{ key: "retries", value: { int_value: "3" } }] } })).toEqual({ retries: 3 });
    expect(anyValue({})).toBeNull();
  });

  it("takes MLflow's inputs, outputs and span type out of the attributes, reading their JSON text", () => {
    const tree = buildSpanTree([
      span(1, null, 0n, 10n, {
        kind: "SPAN_KIND_INTERNAL",
        attributes: [
          { key: "mlflow.spanInputs", value: { string_value: '{"question":"why?"}' } },
          { key: "mlflow.spanOutputs", value: { string_value: '"because"' } },
          { key: "mlflow.spanType", value: { string_value: '"LLM"' } },
          { key: "plain", value: { string_value: "not json" } },
          { key: "tokens", value: { int_value: "12" } },
        ],
        status: { code: "STATUS_CODE_ERROR", message: "boom" },
        events: [{ name: "exception", time_unix_nano: (T0 + 5n).toString(), attributes: [{ key: "exception.message", value: { string_value: "boom" } }] }],
      }),
    ]);
    const [root] = tree.roots;
    expect(root).toMatchObject({
      spanId: id(1),
      parentId: null,
      spanType: "LLM",
      kind: "INTERNAL",
      status: "ERROR",
      statusMessage: "boom",
      inputs: { question: "why?" },
      outputs: "because",
      attributes: { plain: "not json", tokens: 12 },
    });
    expect(Object.keys(root.attributes)).toEqual(["plain", "tokens"]);
    expect(root.events).toEqual([{ name: "exception", timeNs: T0 + 5n, attributes: { "exception.message": "boom" } }]);
    // A span without recorded inputs says so, rather than showing null.
    expect(buildSpanTree([span(2, null, 0n, 1n)]).roots[0].inputs).toBeUndefined();
  });
});

describe("the span tree", () => {
  it("nests children under parents, sorted by start time, with depths", () => {
    const tree = buildSpanTree([span(3, 1, 50n, 60n), span(1, null, 0n, 100n), span(4, 2, 20n, 30n), span(2, 1, 10n, 40n)]);
    expect(names(tree.roots)).toEqual(["s1"]);
    expect(names(tree.roots[0].children)).toEqual(["s2", "s3"]);
    expect(names(tree.roots[0].children[0].children)).toEqual(["s4"]);
    expect(visibleSpans(tree.roots, new Set()).map((n) => [n.name, n.depth])).toEqual([
      ["s1", 0],
      ["s2", 1],
      ["s4", 2],
      ["s3", 1],
    ]);
    expect(tree.startNs).toBe(T0);
    expect(tree.endNs).toBe(T0 + 100n);
  });

  it("compares start times exactly: nanoseconds a float would merge still order the siblings", () => {
    // T0 + 1 and T0 + 2 are the same double; only BigInt keeps them apart.
    expect(Number(T0 + 1n)).toBe(Number(T0 + 2n));
    const tree = buildSpanTree([span(1, null, 0n, 10n), span(3, 1, 2n, 3n), span(2, 1, 1n, 3n)]);
    expect(names(tree.roots[0].children)).toEqual(["s2", "s3"]);
  });

  it("makes spans whose parent is missing roots, ordered with the others by start time", () => {
    const tree = buildSpanTree([span(5, 99, 30n, 40n), span(1, null, 10n, 100n), span(6, 5, 35n, 36n), span(7, 98, 5n, 8n)]);
    expect(names(tree.roots)).toEqual(["s7", "s1", "s5"]);
    expect(names(tree.roots[2].children)).toEqual(["s6"]);
    expect(tree.roots[2].depth).toBe(0);
    expect(tree.roots[2].children[0].depth).toBe(1);
    expect(tree.startNs).toBe(T0 + 5n);
  });

  it("shows every span once when parents form a cycle or a span names itself", () => {
    const tree = buildSpanTree([span(1, 2, 10n, 20n), span(2, 1, 0n, 30n), span(3, 3, 5n, 6n), span(4, 1, 12n, 13n)]);
    const rows = visibleSpans(tree.roots, new Set());
    expect(names(rows).sort()).toEqual(["s1", "s2", "s3", "s4"]);
    expect(names(tree.roots)).toEqual(["s2", "s3"]);
    expect(names(tree.roots[0].children)).toEqual(["s1"]);
    expect(names(tree.roots[0].children[0].children)).toEqual(["s4"]);
  });

  it("keeps the first of two spans with the same id", () => {
    const tree = buildSpanTree([span(1, null, 0n, 10n, { name: "first" }), span(1, null, 0n, 10n, { name: "second" })]);
    expect(names(tree.roots)).toEqual(["first"]);
  });

  it("hides the descendants of collapsed spans and finds a span's ancestors", () => {
    const tree = buildSpanTree([span(1, null, 0n, 100n), span(2, 1, 10n, 40n), span(4, 2, 20n, 30n), span(3, 1, 50n, 60n)]);
    expect(names(visibleSpans(tree.roots, new Set([id(2)])))).toEqual(["s1", "s2", "s3"]);
    expect(names(visibleSpans(tree.roots, new Set([id(1)])))).toEqual(["s1"]);
    expect(names(ancestorsOf(tree, id(4)))).toEqual(["s1", "s2"]);
    expect(ancestorsOf(tree, id(1))).toEqual([]);
  });

  it("is empty for no spans", () => {
    const tree = buildSpanTree([]);
    expect(tree.roots).toEqual([]);
    expect(tree.startNs).toBe(0n);
  });
});

describe("the waterfall", () => {
  it("places each bar by its offset and duration relative to the trace", () => {
    const tree = buildSpanTree([span(1, null, 0n, 200n), span(2, 1, 50n, 150n), span(3, 1, 100n, null)]);
    const [root, a, open] = visibleSpans(tree.roots, new Set());
    expect(waterfallBar(root, tree)).toEqual({ offset: 0, width: 1, open: false });
    expect(waterfallBar(a, tree)).toEqual({ offset: 0.25, width: 0.5, open: false });
    // An open span runs to the trace's end.
    expect(waterfallBar(open, tree)).toEqual({ offset: 0.5, width: 0.5, open: true });
    expect(spanDurationNs(a)).toBe(100n);
    expect(spanDurationNs(open)).toBeNull();
  });

  it("keeps nanosecond offsets at epoch magnitudes, and copes with instants and inverted times", () => {
    const tree = buildSpanTree([span(1, null, 0n, 4n), span(2, 1, 1n, 2n), span(3, 1, 3n, 1n)]);
    const [, a, inverted] = visibleSpans(tree.roots, new Set());
    expect(waterfallBar(a, tree)).toEqual({ offset: 0.25, width: 0.25, open: false });
    expect(waterfallBar(inverted, tree)).toEqual({ offset: 0.75, width: 0, open: false });
    const instant = buildSpanTree([span(1, null, 7n, 7n)]);
    expect(waterfallBar(instant.roots[0], instant)).toEqual({ offset: 0, width: 1, open: false });
  });
});

describe("formatting", () => {
  it("writes nanosecond durations in the largest fitting unit", () => {
    expect(formatNanos(420n)).toBe("420ns");
    expect(formatNanos(12_500n)).toBe("12.5µs");
    expect(formatNanos(3_250_000n)).toBe("3.25ms");
    expect(formatNanos(250_000_000n)).toBe("250ms");
    expect(formatNanos(1_500_000_000n)).toBe("1.50s");
    expect(formatNanos(125_000_000_000n)).toBe("2m 05s");
    expect(formatNanos(null)).toBe("—");
  });

  it("pretty-prints values as JSON", () => {
    expect(prettyJson({ a: [1, "<b>"] })).toBe('{\n  "a": [\n    1,\n    "<b>"\n  ]\n}');
    expect(prettyJson("because")).toBe('"because"');
    expect(prettyJson(undefined)).toBe("");
  });

  it("reads trace infos: time, duration, name, tags, previews, order_by", () => {
    const info = {
      request_time: "2023-11-14T22:13:20.000Z",
      execution_duration: "1.250s",
      tags: { "mlflow.traceName": "agent", team: "search", "mlflow.user": "ana", a: "1" },
    };
    expect(requestTimeMs(info)).toBe(1_700_000_000_000);
    expect(requestTimeMs({ request_time: "nope" })).toBeNull();
    expect(executionMs(info)).toBe(1250);
    expect(parseDurationMs("0.000500s")).toBe(0);
    expect(parseDurationMs("-0.5s")).toBe(-500);
    expect(parseDurationMs(undefined)).toBeNull();
    expect(parseDurationMs("5 minutes")).toBeNull();
    expect(traceName(info)).toBe("agent");
    expect(traceName({})).toBeNull();
    expect(userTags(info)).toEqual([
      ["a", "1"],
      ["team", "search"],
    ]);
    expect(systemTags(info).map(([k]) => k)).toEqual(["mlflow.traceName", "mlflow.user"]);
    expect(previewText('{"question": "why?"}')).toBe('{"question":"why?"}');
    expect(previewText("plain\n text")).toBe("plain text");
    expect(previewText("x".repeat(10), 5)).toBe("xxxx…");
    expect(orderByClause({ key: "execution_time_ms", ascending: true })).toBe("execution_time_ms ASC");
  });
});
