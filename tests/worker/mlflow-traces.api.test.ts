import { describe, expect, it } from "vitest";
import { encodeExportTraceRequest, type OtlpSpanInput } from "../../worker/lib/otlp";
import { call, createToken } from "./helpers";

const mode = "open" as const;
const v2 = (method: string, rpc: string, body?: unknown, extra: Parameters<typeof call>[2] = {}) =>
  call(method, `/api/2.0/mlflow/${rpc}`, { mode, ...(body === undefined ? {} : { body }), ...extra });
const v3 = (method: string, rpc: string, body?: unknown, extra: Parameters<typeof call>[2] = {}) =>
  call(method, `/api/3.0/mlflow/${rpc}`, { mode, ...(body === undefined ? {} : { body }), ...extra });

function mlflowError(res: { status: number; json: any }): string {
  expect(Object.keys(res.json).sort()).toEqual(["error_code", "message"]);
  return res.json.error_code;
}

async function newExperiment(): Promise<string> {
  const res = await v2("POST", "experiments/create", { name: `traces-${crypto.randomUUID()}` });
  expect(res.status).toBe(200);
  return res.json.experiment_id;
}

const hex = (bytes: number) => Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
const b64 = (h: string) => btoa(String.fromCharCode(...(h.match(/../g) ?? []).map((x) => parseInt(x, 16))));

/** A trace as MLflow's client sends it: attribute values JSON-encoded, the trace id in mlflow.traceRequestId. */
function mlflowTrace(startMs: number, opts: { error?: boolean; inputs?: unknown; outputs?: unknown } = {}) {
  const otelTraceId = hex(16);
  const traceId = `tr-${otelTraceId}`;
  const root = hex(8);
  const child = hex(8);
  const grandchild = hex(8);
  const ns = (ms: number, extra = 0n) => (BigInt(ms) * 1_000_000n + extra).toString();
  const common = { "mlflow.traceRequestId": JSON.stringify(traceId) };
  const spans: OtlpSpanInput[] = [
    {
      traceId: otelTraceId,
      spanId: root,
      name: "agent",
      startTimeUnixNano: ns(startMs, 123_456n),
      endTimeUnixNano: ns(startMs + 250, 789n),
      attributes: {
        ...common,
        "mlflow.spanType": JSON.stringify("AGENT"),
        "mlflow.spanInputs": JSON.stringify(opts.inputs ?? { question: "why?" }),
        "mlflow.spanOutputs": JSON.stringify(opts.outputs ?? "because"),
      },
      status: opts.error ? { code: 2, message: "ValueError: boom" } : { code: 1, message: "" },
      events: opts.error ? [{ name: "exception", timeUnixNano: ns(startMs + 200), attributes: { "exception.message": "boom" } }] : [],
    },
    {
      traceId: otelTraceId,
      spanId: child,
      parentSpanId: root,
      name: "llm",
      startTimeUnixNano: ns(startMs + 10),
      endTimeUnixNano: ns(startMs + 200),
      attributes: { ...common, "mlflow.spanType": JSON.stringify("LLM"), "gen_ai.usage.input_tokens": 12 },
    },
    {
      traceId: otelTraceId,
      spanId: grandchild,
      parentSpanId: child,
      name: "tool",
      startTimeUnixNano: ns(startMs + 20),
      endTimeUnixNano: ns(startMs + 30),
      attributes: { ...common, "mlflow.spanType": "TOOL", temperature: 0.5, tags: ["a", "b"], config: { retries: 3 } },
    },
  ];
  return { otelTraceId, traceId, root, child, grandchild, spans };
}

async function ingest(experimentId: string, spans: OtlpSpanInput[], extra: Parameters<typeof call>[2] = {}) {
  return call("POST", "/v1/traces", {
    mode,
    raw: encodeExportTraceRequest(spans),
    headers: { "Content-Type": "application/x-protobuf", "x-mlflow-experiment-id": experimentId },
    ...extra,
  });
}

/** The trace info a 3.x client sends to POST /api/3.0/mlflow/traces once the trace has ended. */
function traceInfoV3(experimentId: string, traceId: string, requestTime: number, extra: Record<string, unknown> = {}) {
  return {
    trace: {
      trace_info: {
        trace_id: traceId,
        client_request_id: "req-1",
        trace_location: { type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id: experimentId } },
        request_preview: '{"question": "why?"}',
        response_preview: '"because"',
        request_time: new Date(requestTime).toISOString(),
        execution_duration: "0.250s",
        state: "OK",
        trace_metadata: { "mlflow.sourceRun": "run-1", "mlflow.trace_schema.version": "3" },
        tags: { "mlflow.traceName": "agent", team: "search" },
        ...extra,
      },
      data: { spans: [] },
    },
  };
}

describe("OTLP span ingest and the 3.0 trace flow of MLflow's client", () => {
  it("answers /version at or above 3.4, below which MLflow's client does not send spans over OTLP", async () => {
    const res = await call("GET", "/version", { mode });
    expect(res.status).toBe(200);
    const [major, minor] = res.text.split(".").map(Number);
    expect(major > 3 || (major === 3 && minor >= 4)).toBe(true);
  });

  it("ingests protobuf spans, then the trace info, and serves the span tree back", async () => {
    const exp = await newExperiment();
    const t = mlflowTrace(1_700_000_000_000);
    const res = await ingest(exp, t.spans);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/x-protobuf");
    expect(res.text).toBe("");

    // Spans arrived first: the trace exists, settled by its root span.
    const early = await v3("GET", `traces/${t.traceId}`);
    expect(early.status).toBe(200);
    expect(early.json.trace.trace_info).toMatchObject({
      trace_id: t.traceId,
      trace_location: { type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id: exp } },
      state: "OK",
      request_time: new Date(1_700_000_000_000).toISOString(),
      // (end - start) in whole milliseconds: 250 ms + 789 ns - 123456 ns.
      execution_duration: "0.249s",
      request_preview: '{"question":"why?"}',
      response_preview: '"because"',
      tags: { "mlflow.trace.spansLocation": "TRACKING_STORE", "mlflow.traceName": "agent" },
    });

    const start = await v3("POST", "traces", traceInfoV3(exp, t.traceId, 1_700_000_000_000));
    expect(start.status).toBe(200);
    const info = start.json.trace.trace_info;
    expect(info).toMatchObject({
      trace_id: t.traceId,
      client_request_id: "req-1",
      state: "OK",
      request_preview: '{"question": "why?"}',
      trace_metadata: { "mlflow.sourceRun": "run-1", "mlflow.trace_schema.version": "3" },
    });
    // The client skips the artifact upload of the spans only when told they are in the tracking store.
    expect(info.tags["mlflow.trace.spansLocation"]).toBe("TRACKING_STORE");
    expect(info.tags["mlflow.artifactLocation"]).toBe(`mlflow-artifacts:/${exp}/traces/${t.traceId}/artifacts`);
    expect(info.tags.team).toBe("search");

    const got = await v3("GET", `traces/get?trace_id=${t.traceId}&allow_partial=True`);
    expect(got.status).toBe(200);
    const { trace } = got.json;
    expect(trace.trace_info.trace_id).toBe(t.traceId);
    expect(trace.spans.map((s: any) => s.name)).toEqual(["agent", "llm", "tool"]);
    const [root, child, tool] = trace.spans;
    expect(root).toMatchObject({
      trace_id: b64(t.otelTraceId),
      span_id: b64(t.root),
      start_time_unix_nano: "1700000000000123456",
      end_time_unix_nano: "1700000000250000789",
      status: { code: "STATUS_CODE_OK" },
    });
    expect(root.parent_span_id).toBeUndefined();
    expect(child.parent_span_id).toBe(b64(t.root));
    expect(tool.parent_span_id).toBe(b64(t.child));
    const attrs = Object.fromEntries(root.attributes.map((a: any) => [a.key, a.value]));
    expect(attrs["mlflow.spanInputs"]).toEqual({ string_value: '{"question":"why?"}' });
    expect(attrs["mlflow.traceRequestId"]).toEqual({ string_value: JSON.stringify(t.traceId) });
    const toolAttrs = Object.fromEntries(tool.attributes.map((a: any) => [a.key, a.value]));
    expect(toolAttrs).toMatchObject({
      temperature: { double_value: 0.5 },
      tags: { array_value: { values: [{ string_value: "a" }, { string_value: "b" }] } },
      config: { kvlist_value: { values: [{ key: "retries", value: { int_value: "3" } }] } },
    });
    expect(Object.fromEntries(child.attributes.map((a: any) => [a.key, a.value]))["gen_ai.usage.input_tokens"]).toEqual({ int_value: "12" });
  });

  it("is idempotent per (trace, span): re-sending spans replaces them", async () => {
    const exp = await newExperiment();
    const t = mlflowTrace(1_700_000_100_000);
    expect((await ingest(exp, t.spans)).status).toBe(200);
    expect((await ingest(exp, t.spans)).status).toBe(200);
    const renamed = t.spans.map((s) => (s.spanId === t.child ? { ...s, name: "llm-retry" } : s));
    expect((await ingest(exp, [renamed[1]])).status).toBe(200);
    const got = await v3("GET", `traces/get?trace_id=${t.traceId}`);
    expect(got.json.trace.spans.map((s: any) => s.name)).toEqual(["agent", "llm-retry", "tool"]);
  });

  it("accepts spans before their root, leaving the trace in progress until the root arrives", async () => {
    const exp = await newExperiment();
    const t = mlflowTrace(1_700_000_200_000, { error: true });
    expect((await ingest(exp, t.spans.slice(1))).status).toBe(200);
    const early = await v3("GET", `traces/${t.traceId}`);
    expect(early.json.trace.trace_info.state).toBe("IN_PROGRESS");
    expect(early.json.trace.trace_info.execution_duration).toBeUndefined();
    expect((await ingest(exp, t.spans.slice(0, 1))).status).toBe(200);
    const done = await v3("GET", `traces/get?trace_id=${t.traceId}`);
    expect(done.json.trace.trace_info.state).toBe("ERROR");
    const root = done.json.trace.spans[0];
    expect(root.status).toEqual({ code: "STATUS_CODE_ERROR", message: "ValueError: boom" });
    expect(root.events[0]).toMatchObject({ name: "exception", attributes: [{ key: "exception.message", value: { string_value: "boom" } }] });
  });

  it("ingests OTLP/JSON (hex ids, camelCase) and gzip-compressed protobuf", async () => {
    const exp = await newExperiment();
    const otelTraceId = hex(16);
    const spanId = hex(8);
    const json = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: "service.name", value: { stringValue: "svc" } }] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId: otelTraceId,
                  spanId,
                  name: "http GET",
                  kind: 2,
                  startTimeUnixNano: "1700000300000000000",
                  endTimeUnixNano: "1700000300500000000",
                  attributes: [{ key: "http.method", value: { stringValue: "GET" } }],
                  status: { code: 1 },
                },
              ],
            },
          ],
        },
      ],
    };
    const res = await call("POST", "/v1/traces", { mode, body: json, headers: { "x-mlflow-experiment-id": exp } });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({});
    const got = await v3("GET", `traces/get?trace_id=tr-${otelTraceId}`);
    expect(got.json.trace.trace_info).toMatchObject({ state: "OK", execution_duration: "0.500s", tags: { "mlflow.traceName": "http GET" } });
    expect(got.json.trace.spans[0]).toMatchObject({ kind: "SPAN_KIND_SERVER", attributes: [{ key: "http.method", value: { string_value: "GET" } }] });

    const t = mlflowTrace(1_700_000_400_000);
    const gz = await new Response(new Blob([encodeExportTraceRequest(t.spans)]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer();
    const compressed = await ingest(exp, [], { raw: gz, headers: { "Content-Type": "application/x-protobuf", "Content-Encoding": "gzip", "x-mlflow-experiment-id": exp } });
    expect(compressed.status).toBe(200);
    expect((await v3("GET", `traces/get?trace_id=${t.traceId}`)).json.trace.spans).toHaveLength(3);
  });

  it("answers bad requests with 400 in MLflow's error shape, never 500, and writes nothing", async () => {
    const exp = await newExperiment();
    const headers = { "Content-Type": "application/x-protobuf", "x-mlflow-experiment-id": exp };
    for (const raw of [new TextEncoder().encode("definitely not protobuf"), Uint8Array.from([0x0a, 0x05, 0x01]), new Uint8Array(0)]) {
      const res = await call("POST", "/v1/traces", { mode, raw, headers });
      expect(res.status).toBe(400);
      expect(mlflowError(res)).toBe("INVALID_PARAMETER_VALUE");
    }
    const badJson = await call("POST", "/v1/traces", { mode, raw: "{nope", headers: { "Content-Type": "application/json", "x-mlflow-experiment-id": exp } });
    expect(badJson.status).toBe(400);
    expect(mlflowError(badJson)).toBe("INVALID_PARAMETER_VALUE");
    const badGzip = await call("POST", "/v1/traces", { mode, raw: "not gzip", headers: { ...headers, "Content-Encoding": "gzip" } });
    expect(badGzip.status).toBe(400);
    const wrongType = await call("POST", "/v1/traces", { mode, raw: "x", headers: { "Content-Type": "text/plain", "x-mlflow-experiment-id": exp } });
    expect(wrongType.status).toBe(400);

    const t = mlflowTrace(1_700_000_500_000);
    const noExperiment = await call("POST", "/v1/traces", { mode, raw: encodeExportTraceRequest(t.spans), headers: { "Content-Type": "application/x-protobuf" } });
    expect(noExperiment.status).toBe(400);
    expect(noExperiment.json.message).toContain("x-mlflow-experiment-id");
    const unknownExperiment = await ingest("987654321", t.spans);
    expect(unknownExperiment.status).toBe(404);
    expect(mlflowError(unknownExperiment)).toBe("RESOURCE_DOES_NOT_EXIST");
    expect((await v3("GET", `traces/${t.traceId}`)).status).toBe(404);

    const noTime = await v3("POST", "traces", { trace: { trace_info: { trace_id: "tr-x", trace_location: { mlflow_experiment: { experiment_id: exp } } } } });
    expect(noTime.status).toBe(400);
    expect(noTime.json.message).toContain("request_time");
    const badState = await v3("POST", "traces", traceInfoV3(exp, "tr-y", 1, { state: "DONE" }));
    expect(badState.status).toBe(400);
    const badTime = await v3("POST", "traces", traceInfoV3(exp, "tr-z", 1, { request_time: "yesterday" }));
    expect(badTime.status).toBe(400);
    const missing = await v3("GET", "traces/get?trace_id=tr-missing");
    expect(missing.status).toBe(404);
    expect(mlflowError(missing)).toBe("RESOURCE_DOES_NOT_EXIST");
  });
});

describe("trace search, batch get, tags and deletion", () => {
  it("searches one experiment with filters, order_by and page tokens", async () => {
    const exp = await newExperiment();
    const base = 1_710_000_000_000;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const t = mlflowTrace(base + i * 1000, { error: i === 3 });
      ids.push(t.traceId);
      expect((await ingest(exp, t.spans)).status).toBe(200);
      const start = await v3(
        "POST",
        "traces",
        traceInfoV3(exp, t.traceId, base + i * 1000, {
          execution_duration: `${i}.500s`,
          state: i === 3 ? "ERROR" : "OK",
          tags: { "mlflow.traceName": i % 2 ? "odd" : "even", rank: String(i) },
          trace_metadata: { "mlflow.sourceRun": i < 2 ? "run-a" : "run-b" },
        }),
      );
      expect(start.status).toBe(200);
    }
    const other = await newExperiment();
    expect((await ingest(other, mlflowTrace(base).spans)).status).toBe(200);

    const search = (body: Record<string, unknown>) =>
      v3("POST", "traces/search", { locations: [{ type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id: exp } }], ...body });
    const all = await search({});
    expect(all.status).toBe(200);
    expect(all.json.traces.map((t: any) => t.trace_id)).toEqual([...ids].reverse());
    expect(all.json.next_page_token).toBeUndefined();

    const byFilter = async (filter: string) => (await search({ filter, order_by: ["timestamp_ms ASC"] })).json.traces?.map((t: any) => t.trace_id) ?? [];
    expect(await byFilter(`attributes.timestamp_ms >= ${base + 2000}`)).toEqual(ids.slice(2));
    expect(await byFilter(`trace.execution_time_ms < 2000`)).toEqual(ids.slice(0, 2));
    expect(await byFilter(`attributes.status = 'ERROR'`)).toEqual([ids[3]]);
    expect(await byFilter(`status IN ('OK') AND timestamp_ms > ${base}`)).toEqual([ids[1], ids[2], ids[4]]);
    expect(await byFilter(`attributes.name = 'odd'`)).toEqual([ids[1], ids[3]]);
    expect(await byFilter(`tags.rank = '4'`)).toEqual([ids[4]]);
    expect(await byFilter("tags.`mlflow.traceName` LIKE 'ev%'")).toEqual([ids[0], ids[2], ids[4]]);
    expect(await byFilter("metadata.`mlflow.sourceRun` = 'run-a'")).toEqual(ids.slice(0, 2));
    expect(await byFilter("request_metadata.`mlflow.sourceRun` != 'run-a' and tags.rank != '2'")).toEqual([ids[3], ids[4]]);
    expect(await byFilter("attributes.run_id = 'run-b'")).toEqual(ids.slice(2));

    const byDuration = await search({ order_by: ["execution_time_ms DESC"] });
    expect(byDuration.json.traces.map((t: any) => t.trace_id)).toEqual([...ids].reverse());

    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await search({ max_results: 2, order_by: ["timestamp_ms ASC"], ...(token ? { page_token: token } : {}) });
      expect(page.status).toBe(200);
      seen.push(...page.json.traces.map((t: any) => t.trace_id));
      token = page.json.next_page_token;
    } while (token);
    expect(seen).toEqual(ids);

    for (const filter of ["attributes.nope = 'x'", "tags.rank >>> '1'", "timestamp_ms = 'abc'", "tags.rank = 1", "status = 'OK' OR status = 'ERROR'"]) {
      const bad = await search({ filter });
      expect(bad.status).toBe(400);
      expect(mlflowError(bad)).toBe("INVALID_PARAMETER_VALUE");
    }
    expect((await search({ order_by: ["nope DESC"] })).status).toBe(400);
    expect((await search({ max_results: 50001 })).status).toBe(400);
    expect((await search({ page_token: "%%%" })).status).toBe(400);

    const legacy = await v2("GET", `traces?experiment_ids=${exp}&filter=${encodeURIComponent("status = 'ERROR'")}`);
    expect(legacy.status).toBe(200);
    expect(legacy.json.traces).toHaveLength(1);
    expect(legacy.json.traces[0]).toMatchObject({ request_id: ids[3], experiment_id: exp, timestamp_ms: base + 3000, execution_time_ms: 3500, status: "ERROR" });
    expect(legacy.json.traces[0].tags).toContainEqual({ key: "rank", value: "3" });

    const batch = await v3("GET", `traces/batchGet?trace_ids=${ids[1]}&trace_ids=tr-unknown&trace_ids=${ids[0]}`);
    expect(batch.status).toBe(200);
    expect(batch.json.traces.map((t: any) => t.trace_info.trace_id)).toEqual([ids[1], ids[0]]);
    expect(batch.json.traces[0].spans).toHaveLength(3);
  });

  it("sets and deletes tags through the 2.0 and 3.0 paths", async () => {
    const exp = await newExperiment();
    const t = mlflowTrace(1_720_000_000_000);
    await ingest(exp, t.spans);
    expect((await v2("PATCH", `traces/${t.traceId}/tags`, { key: "reviewed", value: "yes" })).status).toBe(200);
    expect((await v3("PATCH", `traces/${t.traceId}/tags`, { key: "score", value: "0.9" })).status).toBe(200);
    let info = (await v3("GET", `traces/${t.traceId}`)).json.trace.trace_info;
    expect(info.tags).toMatchObject({ reviewed: "yes", score: "0.9" });
    expect((await v2("DELETE", `traces/${t.traceId}/tags`, { key: "reviewed" })).status).toBe(200);
    info = (await v3("GET", `traces/${t.traceId}`)).json.trace.trace_info;
    expect(info.tags.reviewed).toBeUndefined();
    const again = await v2("DELETE", `traces/${t.traceId}/tags`, { key: "reviewed" });
    expect(again.status).toBe(404);
    expect(mlflowError(again)).toBe("RESOURCE_DOES_NOT_EXIST");
    expect((await v2("PATCH", "traces/tr-missing/tags", { key: "k", value: "v" })).status).toBe(404);
    expect((await v2("PATCH", `traces/${t.traceId}/tags`, { key: "k".repeat(251), value: "v" })).status).toBe(400);
  });

  it("deletes traces by max_timestamp_millis (oldest first, up to max_traces) and by ids, with their spans", async () => {
    const exp = await newExperiment();
    const base = 1_730_000_000_000;
    const traces = [0, 1, 2, 3].map((i) => mlflowTrace(base + i * 1000));
    for (const t of traces) expect((await ingest(exp, t.spans)).status).toBe(200);

    const invalid = await v2("POST", "traces/delete-traces", { experiment_id: exp });
    expect(invalid.status).toBe(400);
    expect(invalid.json.message).toBe("Exactly one of `max_timestamp_millis` and `request_ids` must be specified.");
    expect((await v2("POST", "traces/delete-traces", { experiment_id: exp, max_timestamp_millis: base, request_ids: [traces[0].traceId] })).status).toBe(400);

    const byTime = await v2("POST", "traces/delete-traces", { experiment_id: exp, max_timestamp_millis: base + 2000, max_traces: 2 });
    expect(byTime.status).toBe(200);
    expect(byTime.json).toEqual({ traces_deleted: 2 });
    expect((await v3("GET", `traces/${traces[0].traceId}`)).status).toBe(404);
    expect((await v3("GET", `traces/${traces[1].traceId}`)).status).toBe(404);
    expect((await v3("GET", `traces/${traces[2].traceId}`)).status).toBe(200);

    // A re-ingested span of a deleted trace starts a fresh trace: no orphan spans were left behind.
    expect((await ingest(exp, traces[0].spans.slice(2))).status).toBe(200);
    expect((await v3("GET", `traces/get?trace_id=${traces[0].traceId}`)).json.trace.spans).toHaveLength(1);

    const otherExp = await newExperiment();
    const wrongExperiment = await v2("POST", "traces/delete-traces", { experiment_id: otherExp, request_ids: [traces[3].traceId] });
    expect(wrongExperiment.json).toEqual({ traces_deleted: 0 });
    const byIds = await v2("POST", "traces/delete-traces", { experiment_id: exp, request_ids: [traces[3].traceId, traces[2].traceId, "tr-unknown"] });
    expect(byIds.json).toEqual({ traces_deleted: 2 });
    const left = await v3("POST", "traces/search", { locations: [{ mlflow_experiment: { experiment_id: exp } }] });
    expect(left.json.traces.map((t: any) => t.trace_id)).toEqual([traces[0].traceId]);
  });
});

describe("the 2.0 trace flow of older clients", () => {
  it("starts, ends, reads and searches a trace", async () => {
    const exp = await newExperiment();
    const start = await v2("POST", "traces", {
      experiment_id: exp,
      timestamp_ms: 1_740_000_000_000,
      request_metadata: [{ key: "mlflow.traceInputs", value: "{}" }],
      tags: [{ key: "mlflow.traceName", value: "predict" }],
    });
    expect(start.status).toBe(200);
    const info = start.json.trace_info;
    expect(info.request_id).toMatch(/^tr-[0-9a-f]{32}$/);
    expect(info).toMatchObject({ experiment_id: exp, timestamp_ms: 1_740_000_000_000, status: "IN_PROGRESS" });
    expect(info.tags).toContainEqual({ key: "mlflow.artifactLocation", value: `mlflow-artifacts:/${exp}/traces/${info.request_id}/artifacts` });

    const end = await v2("PATCH", `traces/${info.request_id}`, {
      timestamp_ms: 1_740_000_000_420,
      status: "OK",
      request_metadata: [{ key: "mlflow.traceOutputs", value: "1" }],
      tags: [{ key: "env", value: "test" }],
    });
    expect(end.status).toBe(200);
    expect(end.json.trace_info).toMatchObject({ status: "OK", execution_time_ms: 420 });
    const read = await v2("GET", `traces/${info.request_id}/info`);
    expect(read.json.trace_info.request_metadata).toEqual(
      expect.arrayContaining([
        { key: "mlflow.traceInputs", value: "{}" },
        { key: "mlflow.traceOutputs", value: "1" },
      ]),
    );
    expect(read.json.trace_info.tags).toContainEqual({ key: "env", value: "test" });
    const search = await v2("GET", `traces?experiment_ids=${exp}&max_results=10`);
    expect(search.json.traces.map((t: any) => t.request_id)).toEqual([info.request_id]);
    expect((await v2("PATCH", "traces/tr-missing", { timestamp_ms: 1, status: "OK" })).status).toBe(404);
  });
});

describe("traces in token mode", () => {
  it("lets a read token search and get, but not ingest, start, tag or delete", async () => {
    const exp = await newExperiment();
    const t = mlflowTrace(1_750_000_000_000);
    expect((await ingest(exp, t.spans)).status).toBe(200);
    const read = await createToken(["read"]);
    const write = await createToken(["write"]);
    const as = (token: string) => ({ mode: "token" as const, token });

    const otlp = (token: string) =>
      call("POST", "/v1/traces", { ...as(token), raw: encodeExportTraceRequest(t.spans), headers: { "Content-Type": "application/x-protobuf", "x-mlflow-experiment-id": exp } });
    expect((await otlp(read.secret)).status).toBe(403);
    expect((await otlp(write.secret)).status).toBe(200);
    expect((await call("POST", "/v1/traces", { mode: "token", raw: "x" })).status).toBe(401);

    const search = await call("POST", "/api/3.0/mlflow/traces/search", { ...as(read.secret), body: { locations: [{ mlflow_experiment: { experiment_id: exp } }] } });
    expect(search.status).toBe(200);
    expect(search.json.traces).toHaveLength(1);
    expect((await call("GET", `/api/3.0/mlflow/traces/get?trace_id=${t.traceId}`, as(read.secret))).status).toBe(200);
    expect((await call("GET", `/ajax-api/3.0/mlflow/traces/batchGet?trace_ids=${t.traceId}`, as(read.secret))).status).toBe(200);
    expect((await call("POST", "/api/3.0/mlflow/traces", { ...as(read.secret), body: traceInfoV3(exp, t.traceId, 1) })).status).toBe(403);
    expect((await call("PATCH", `/api/2.0/mlflow/traces/${t.traceId}/tags`, { ...as(read.secret), body: { key: "k", value: "v" } })).status).toBe(403);
    expect((await call("POST", "/api/2.0/mlflow/traces/delete-traces", { ...as(read.secret), body: { experiment_id: exp, request_ids: [t.traceId] } })).status).toBe(403);
  });
});
