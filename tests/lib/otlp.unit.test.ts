import { describe, expect, it } from "vitest";
import { decodeExportTraceRequest, decodeExportTraceRequestJson, encodeExportTraceRequest, OtlpDecodeError } from "../../worker/lib/otlp";

const TRACE = "0af7651916cd43dd8448eb211c80319c";
const ROOT = "b7ad6b7169203331";
const CHILD = "00f067aa0ba902b7";
const bytesOfHex = (h: string) => Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
const base64OfHex = (h: string) => btoa(String.fromCharCode(...bytesOfHex(h)));

describe("OTLP protobuf decoding", () => {
  it("decodes hand-built bytes: ids, name, fixed64 nanoseconds beyond 2^53, a string attribute", () => {
    // ExportTraceServiceRequest{resource_spans{scope_spans{spans{trace_id, span_id, name "s", start, end, attr k="v"}}}}
    const traceId = bytesOfHex(TRACE);
    const spanId = bytesOfHex(ROOT);
    const fixed = (n: bigint) => [...Array(8)].map((_, i) => Number((n >> BigInt(8 * i)) & 0xffn));
    const attr = [0x0a, 0x01, 0x6b, 0x12, 0x03, 0x0a, 0x01, 0x76]; // key "k", value {string_value "v"}
    const span = [
      0x0a, 16, ...traceId,
      0x12, 8, ...spanId,
      0x2a, 1, 0x73,
      0x39, ...fixed(1_700_000_000_123_456_789n),
      0x41, ...fixed(1_700_000_000_987_654_321n),
      0x4a, attr.length, ...attr,
    ];
    const scope = [0x12, span.length, ...span];
    const resource = [0x12, scope.length, ...scope];
    const body = Uint8Array.from([0x0a, resource.length, ...resource]);
    const [s] = decodeExportTraceRequest(body);
    expect(s).toMatchObject({
      traceId: TRACE,
      spanId: ROOT,
      parentSpanId: null,
      name: "s",
      startTimeUnixNano: "1700000000123456789",
      endTimeUnixNano: "1700000000987654321",
      attributes: { k: "v" },
    });
  });

  it("round-trips every AnyValue kind, events, status and resource attributes through the encoder", () => {
    const body = encodeExportTraceRequest(
      [
        {
          traceId: TRACE,
          spanId: ROOT,
          name: "root",
          startTimeUnixNano: "18446744073709551615",
          endTimeUnixNano: "1",
          attributes: { s: "text", b: true, i: -42, big: "9007199254740993", d: 1.5, arr: [1, "x", false], kv: { nested: { deep: [2.25] } }, nil: null },
          status: { code: 2, message: "boom" },
          events: [{ name: "exception", timeUnixNano: "1700000000000000001", attributes: { "exception.message": "bad" } }],
          kind: 1,
        },
        { traceId: TRACE, spanId: CHILD, parentSpanId: ROOT, name: "child", startTimeUnixNano: "5", endTimeUnixNano: "6", attributes: {} },
      ],
      { "service.name": "svc" },
    );
    const [root, child] = decodeExportTraceRequest(body);
    expect(root.attributes).toEqual({ s: "text", b: true, i: -42, big: "9007199254740993", d: 1.5, arr: [1, "x", false], kv: { nested: { deep: [2.25] } }, nil: null });
    expect(root.startTimeUnixNano).toBe("18446744073709551615");
    expect(root.status).toEqual({ code: 2, message: "boom" });
    expect(root.kind).toBe(1);
    expect(root.events).toEqual([{ name: "exception", timeUnixNano: "1700000000000000001", attributes: { "exception.message": "bad" } }]);
    expect(root.resourceAttributes).toEqual({ "service.name": "svc" });
    expect(child).toMatchObject({ parentSpanId: ROOT, name: "child", startTimeUnixNano: "5" });
  });

  it("keeps int64 exact: numbers when safe, decimal strings beyond 2^53", () => {
    const [s] = decodeExportTraceRequest(
      encodeExportTraceRequest([{ traceId: TRACE, spanId: ROOT, name: "n", startTimeUnixNano: "1", endTimeUnixNano: "2", attributes: { max: 9007199254740991, neg: -1 } }]),
    );
    expect(s.attributes).toEqual({ max: 9007199254740991, neg: -1 });
  });

  it("skips unknown fields of every wire type", () => {
    const known = encodeExportTraceRequest([{ traceId: TRACE, spanId: ROOT, name: "n", startTimeUnixNano: "1", endTimeUnixNano: "2", attributes: {} }]);
    // field 99 varint, field 98 fixed32, field 97 fixed64 appended at the top level
    const extra = Uint8Array.from([0x98, 0x06, 0x05, 0x95, 0x06, 1, 2, 3, 4, 0x89, 0x06, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(decodeExportTraceRequest(Uint8Array.from([...known, ...extra]))).toHaveLength(1);
  });

  it("rejects truncated, malformed and wrongly sized input with OtlpDecodeError", () => {
    const good = encodeExportTraceRequest([{ traceId: TRACE, spanId: ROOT, name: "n", startTimeUnixNano: "1", endTimeUnixNano: "2", attributes: { a: "b" } }]);
    expect(() => decodeExportTraceRequest(good.subarray(0, good.length - 3))).toThrow(OtlpDecodeError);
    expect(() => decodeExportTraceRequest(Uint8Array.from([0x0f, 0x00]))).toThrow(OtlpDecodeError); // wire type 7
    expect(() => decodeExportTraceRequest(Uint8Array.from([0x0a, 0x80]))).toThrow(OtlpDecodeError); // truncated varint
    expect(() => decodeExportTraceRequest(new TextEncoder().encode("this is not protobuf at all"))).toThrow(OtlpDecodeError);
    const shortId = encodeExportTraceRequest([{ traceId: "abcd", spanId: ROOT, name: "n", startTimeUnixNano: "1", endTimeUnixNano: "2", attributes: {} }]);
    expect(() => decodeExportTraceRequest(shortId)).toThrow(/trace_id must be 16 bytes/);
    expect(decodeExportTraceRequest(new Uint8Array(0))).toEqual([]);
  });
});

describe("OTLP/JSON decoding", () => {
  it("reads the spec's camelCase form with hex ids, string nanoseconds and integer enums", () => {
    const spans = decodeExportTraceRequestJson({
      resourceSpans: [
        {
          resource: { attributes: [{ key: "service.name", value: { stringValue: "svc" } }] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId: TRACE.toUpperCase(),
                  spanId: CHILD,
                  parentSpanId: ROOT,
                  name: "c",
                  kind: 3,
                  startTimeUnixNano: "1700000000000000001",
                  endTimeUnixNano: 1700000000,
                  attributes: [
                    { key: "n", value: { intValue: "-9223372036854775808" } },
                    { key: "d", value: { doubleValue: 0.5 } },
                    { key: "l", value: { arrayValue: { values: [{ boolValue: true }] } } },
                    { key: "m", value: { kvlistValue: { values: [{ key: "x", value: { stringValue: "y" } }] } } },
                  ],
                  events: [{ name: "e", timeUnixNano: "7", attributes: [] }],
                  status: { code: 2, message: "failed" },
                },
              ],
            },
          ],
        },
      ],
    });
    expect(spans).toHaveLength(1);
    expect(spans[0]).toMatchObject({
      traceId: TRACE,
      spanId: CHILD,
      parentSpanId: ROOT,
      kind: 3,
      startTimeUnixNano: "1700000000000000001",
      endTimeUnixNano: "1700000000",
      status: { code: 2, message: "failed" },
      resourceAttributes: { "service.name": "svc" },
    });
    expect(spans[0].attributes).toEqual({ n: "-9223372036854775808", d: 0.5, l: [true], m: { x: "y" } });
  });

  it("accepts snake_case names, base64 ids and enum names", () => {
    const [s] = decodeExportTraceRequestJson({
      resource_spans: [
        { scope_spans: [{ spans: [{ trace_id: base64OfHex(TRACE), span_id: base64OfHex(ROOT), name: "r", status: { code: "STATUS_CODE_OK" } }] }] },
      ],
    });
    expect(s).toMatchObject({ traceId: TRACE, spanId: ROOT, status: { code: 1 }, startTimeUnixNano: "0" });
  });

  it("rejects bad shapes with OtlpDecodeError", () => {
    expect(() => decodeExportTraceRequestJson([])).toThrow(OtlpDecodeError);
    const intAttr = (intValue: string) => ({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: TRACE, spanId: ROOT, attributes: [{ key: "n", value: { intValue } }] }] }] }] });
    expect(() => decodeExportTraceRequestJson(intAttr("9223372036854775808"))).toThrow(/intValue/);
    expect(() => decodeExportTraceRequestJson({ resourceSpans: {} })).toThrow(OtlpDecodeError);
    expect(() => decodeExportTraceRequestJson({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: "xyz", spanId: ROOT }] }] }] })).toThrow(/traceId/);
    expect(() => decodeExportTraceRequestJson({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: TRACE, spanId: ROOT, startTimeUnixNano: "-1" }] }] }] })).toThrow(
      /startTimeUnixNano/,
    );
  });
});
