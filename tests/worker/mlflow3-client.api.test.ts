/**
 * The requests an MLflow 3 Python client sends that an earlier Tern did not answer, each written as
 * the client sends it (paths, bodies, FieldMask strings, assessment messages): trace assessments
 * (log_feedback, log_expectation, update_assessment, override_feedback, delete_assessment) and the
 * feedback./span. filters of search_traces, link_traces_to_run, delete_experiment_tag, the logged
 * model artifact listing, the UI's artifact proxy under /ajax-api and /model-versions/get-artifact.
 */
import { describe, expect, it } from "vitest";
import { encodeExportTraceRequest, type OtlpSpanInput } from "../../worker/lib/otlp";
import { call } from "./helpers";

const mode = "open" as const;
const v2 = (method: string, rpc: string, body?: unknown) => call(method, `/api/2.0/mlflow/${rpc}`, { mode, ...(body === undefined ? {} : { body }) });
const v3 = (method: string, rpc: string, body?: unknown) => call(method, `/api/3.0/mlflow/${rpc}`, { mode, ...(body === undefined ? {} : { body }) });

function mlflowError(res: { status: number; json: any }): string {
  expect(Object.keys(res.json).sort()).toEqual(["error_code", "message"]);
  return res.json.error_code;
}

async function newExperiment(): Promise<string> {
  const res = await v2("POST", "experiments/create", { name: `compat-${crypto.randomUUID()}` });
  expect(res.status).toBe(200);
  return res.json.experiment_id;
}

const hex = (bytes: number) => Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");

/** A two-span trace as @mlflow.trace sends it over OTLP: `add` calls the TOOL span `inner`. */
async function newTrace(experimentId: string, opts: { rootName?: string; toolInput?: unknown } = {}): Promise<string> {
  const otel = hex(16);
  const traceId = `tr-${otel}`;
  const root = hex(8);
  const ns = (ms: number) => (BigInt(ms) * 1_000_000n).toString();
  const start = Date.now();
  const common = { "mlflow.traceRequestId": JSON.stringify(traceId) };
  const spans: OtlpSpanInput[] = [
    {
      traceId: otel,
      spanId: root,
      name: opts.rootName ?? "add",
      startTimeUnixNano: ns(start),
      endTimeUnixNano: ns(start + 5),
      attributes: { ...common, "mlflow.spanType": JSON.stringify("UNKNOWN"), "mlflow.spanInputs": JSON.stringify({ a: 1, b: 2 }), "mlflow.spanOutputs": "4" },
      status: { code: 1, message: "" },
    },
    {
      traceId: otel,
      spanId: hex(8),
      parentSpanId: root,
      name: "inner",
      startTimeUnixNano: ns(start + 1),
      endTimeUnixNano: ns(start + 2),
      attributes: { ...common, "mlflow.spanType": JSON.stringify("TOOL"), "mlflow.spanInputs": JSON.stringify(opts.toolInput ?? { x: 1 }), model: JSON.stringify("gpt-x") },
      status: { code: 2, message: "boom" },
    },
  ];
  const res = await call("POST", "/v1/traces", {
    mode,
    raw: encodeExportTraceRequest(spans),
    headers: { "Content-Type": "application/x-protobuf", "x-mlflow-experiment-id": experimentId },
  });
  expect(res.status).toBe(200);
  return traceId;
}

/** The CreateAssessment body of mlflow.log_feedback(trace_id, name="correct", value=True, rationale=..., source=HUMAN alice). */
const feedbackBody = (traceId: string, extra: Record<string, unknown> = {}) => ({
  assessment: {
    assessment_name: "correct",
    trace_id: traceId,
    source: { source_type: "HUMAN", source_id: "alice" },
    create_time: "2026-11-28T07:51:18.175Z",
    last_update_time: "2026-11-28T07:51:18.175Z",
    feedback: { value: true },
    rationale: "looks right",
    metadata: { k: "v" },
    valid: true,
    ...extra,
  },
});

/** mlflow.log_expectation(trace_id, name="expected", value={"a": [1, 2]}, span_id=...): the value arrives serialized. */
const expectationBody = (traceId: string) => ({
  assessment: {
    assessment_name: "expected",
    trace_id: traceId,
    span_id: "abc",
    source: { source_type: "HUMAN", source_id: "default" },
    create_time: "2026-11-28T07:51:18.179Z",
    last_update_time: "2026-11-28T07:51:18.179Z",
    expectation: { serialized_value: { serialization_format: "JSON_FORMAT", value: '{"a": [1, 2]}' } },
  },
});

describe("trace assessments (MLflow 3 log_feedback / log_expectation)", () => {
  it("creates, reads, lists on the trace, updates through a FieldMask string and deletes", async () => {
    const exp = await newExperiment();
    const traceId = await newTrace(exp);

    const created = await v3("POST", `traces/${traceId}/assessments`, feedbackBody(traceId));
    expect(created.status).toBe(200);
    const fb = created.json.assessment;
    expect(fb.assessment_id).toMatch(/^a-[0-9a-f]{32}$/);
    expect(fb).toMatchObject({
      assessment_name: "correct",
      trace_id: traceId,
      source: { source_type: "HUMAN", source_id: "alice" },
      create_time: "2026-11-28T07:51:18.175Z",
      feedback: { value: true },
      rationale: "looks right",
      metadata: { k: "v" },
      valid: true,
    });
    const ex = (await v3("POST", `traces/${traceId}/assessments`, expectationBody(traceId))).json.assessment;
    expect(ex).toMatchObject({ span_id: "abc", expectation: { serialized_value: { serialization_format: "JSON_FORMAT", value: '{"a": [1, 2]}' } } });
    expect(ex.feedback).toBeUndefined();

    const got = await v3("GET", `traces/${traceId}/assessments/${fb.assessment_id}`);
    expect(got.status).toBe(200);
    expect(got.json.assessment).toEqual(fb);

    // get_trace reads them from the trace info, in creation order; so does search.
    const trace = await v3("GET", `traces/get?trace_id=${traceId}`);
    expect(trace.json.trace.trace_info.assessments.map((a: any) => a.assessment_id)).toEqual([fb.assessment_id, ex.assessment_id]);
    const search = await v3("POST", "traces/search", { locations: [{ type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id: exp } }] });
    expect(search.json.traces[0].assessments).toHaveLength(2);

    // update_assessment sends only the ids, the changed fields and the mask (camelCase paths).
    const updated = await v3("PATCH", `traces/${traceId}/assessments/${fb.assessment_id}`, {
      assessment: { assessment_id: fb.assessment_id, trace_id: traceId, feedback: { value: false }, rationale: "changed", metadata: { n: "2" } },
      update_mask: "feedback,rationale,metadata",
    });
    expect(updated.status).toBe(200);
    expect(updated.json.assessment).toMatchObject({
      assessment_name: "correct",
      feedback: { value: false },
      rationale: "changed",
      metadata: { k: "v", n: "2" },
      source: { source_type: "HUMAN", source_id: "alice" },
      create_time: "2026-11-28T07:51:18.175Z",
    });
    expect(updated.json.assessment.last_update_time).not.toBe("2026-11-28T07:51:18.175Z");
    // Fields outside the mask are left alone.
    const renamed = await v3("PATCH", `traces/${traceId}/assessments/${fb.assessment_id}`, {
      assessment: { assessment_id: fb.assessment_id, assessment_name: "right", rationale: "ignored" },
      update_mask: "assessmentName",
    });
    expect(renamed.json.assessment).toMatchObject({ assessment_name: "right", rationale: "changed" });

    const deleted = await v3("DELETE", `traces/${traceId}/assessments/${fb.assessment_id}`, { trace_id: traceId, assessment_id: fb.assessment_id });
    expect(deleted.status).toBe(200);
    expect(deleted.json).toEqual({});
    expect(mlflowError(await v3("GET", `traces/${traceId}/assessments/${fb.assessment_id}`))).toBe("RESOURCE_DOES_NOT_EXIST");
    // Deleting again is a no-op, as in MLflow's store.
    expect((await v3("DELETE", `traces/${traceId}/assessments/${fb.assessment_id}`)).status).toBe(200);
  });

  it("override_feedback invalidates the overridden feedback; deleting the override restores it", async () => {
    const exp = await newExperiment();
    const traceId = await newTrace(exp);
    const first = (await v3("POST", `traces/${traceId}/assessments`, feedbackBody(traceId))).json.assessment;
    const override = await v3("POST", `traces/${traceId}/assessments`, feedbackBody(traceId, { feedback: { value: false }, overrides: first.assessment_id }));
    expect(override.status).toBe(200);
    expect(override.json.assessment).toMatchObject({ overrides: first.assessment_id, valid: true });
    const validity = async () =>
      Object.fromEntries((await v3("GET", `traces/get?trace_id=${traceId}`)).json.trace.trace_info.assessments.map((a: any) => [a.assessment_id, a.valid]));
    expect(await validity()).toEqual({ [first.assessment_id]: false, [override.json.assessment.assessment_id]: true });

    await v3("DELETE", `traces/${traceId}/assessments/${override.json.assessment.assessment_id}`);
    expect(await validity()).toEqual({ [first.assessment_id]: true });
  });

  it("keeps feedback errors and null values as sent", async () => {
    const exp = await newExperiment();
    const traceId = await newTrace(exp);
    const res = await v3("POST", `traces/${traceId}/assessments`, {
      assessment: {
        assessment_name: "judge",
        trace_id: traceId,
        source: { source_type: "LLM_JUDGE", source_id: "gpt" },
        feedback: { value: null, error: { error_code: "RATE_LIMIT", error_message: "boom" } },
      },
    });
    expect(res.status).toBe(200);
    expect(res.json.assessment.feedback).toEqual({ value: null, error: { error_code: "RATE_LIMIT", error_message: "boom" } });
  });

  it("answers bad requests with MLflow's errors and writes nothing", async () => {
    const exp = await newExperiment();
    const traceId = await newTrace(exp);
    const noName = await v3("POST", `traces/${traceId}/assessments`, { assessment: { feedback: { value: 1 } } });
    expect(noName.status).toBe(400);
    expect(mlflowError(noName)).toBe("INVALID_PARAMETER_VALUE");
    const both = await v3("POST", `traces/${traceId}/assessments`, { assessment: { assessment_name: "x", feedback: { value: 1 }, expectation: { value: 1 } } });
    expect(mlflowError(both)).toBe("INVALID_PARAMETER_VALUE");
    const neither = await v3("POST", `traces/${traceId}/assessments`, { assessment: { assessment_name: "x" } });
    expect(mlflowError(neither)).toBe("INVALID_PARAMETER_VALUE");
    const badSource = await v3("POST", `traces/${traceId}/assessments`, { assessment: { assessment_name: "x", feedback: { value: 1 }, source: { source_type: "ROBOT" } } });
    expect(mlflowError(badSource)).toBe("INVALID_PARAMETER_VALUE");
    const badTime = await v3("POST", `traces/${traceId}/assessments`, { assessment: { assessment_name: "x", feedback: { value: 1 }, create_time: "yesterday" } });
    expect(mlflowError(badTime)).toBe("INVALID_PARAMETER_VALUE");
    const noTrace = await v3("POST", `traces/tr-${hex(16)}/assessments`, feedbackBody("x"));
    expect(noTrace.status).toBe(404);
    expect(mlflowError(noTrace)).toBe("RESOURCE_DOES_NOT_EXIST");
    const badOverride = await v3("POST", `traces/${traceId}/assessments`, feedbackBody(traceId, { overrides: "a-missing" }));
    expect(badOverride.status).toBe(404);
    expect((await v3("GET", `traces/get?trace_id=${traceId}`)).json.trace.trace_info.assessments).toBeUndefined();

    const ex = (await v3("POST", `traces/${traceId}/assessments`, expectationBody(traceId))).json.assessment;
    const wrongKind = await v3("PATCH", `traces/${traceId}/assessments/${ex.assessment_id}`, { assessment: { feedback: { value: 1 } }, update_mask: "feedback" });
    expect(wrongKind.status).toBe(400);
    expect(wrongKind.json.message).toBe("Cannot update feedback value on an Expectation assessment.");
    const badMask = await v3("PATCH", `traces/${traceId}/assessments/${ex.assessment_id}`, { assessment: { span_id: "zzz" }, update_mask: "spanId" });
    expect(mlflowError(badMask)).toBe("INVALID_PARAMETER_VALUE");
    const missing = await v3("PATCH", `traces/${traceId}/assessments/a-nope`, { assessment: { rationale: "x" }, update_mask: "rationale" });
    expect(missing.status).toBe(404);
    expect(missing.json.message).toBe(`Assessment with ID 'a-nope' not found for trace '${traceId}'`);
    const unknownTrace = await v3("DELETE", `traces/tr-${hex(16)}/assessments/a-1`);
    expect(unknownTrace.status).toBe(404);
  });

  it("goes with its trace when traces are deleted", async () => {
    const exp = await newExperiment();
    const traceId = await newTrace(exp);
    const fb = (await v3("POST", `traces/${traceId}/assessments`, feedbackBody(traceId))).json.assessment;
    const del = await v3("POST", "traces/delete-traces", { experiment_id: exp, trace_ids: [traceId] });
    expect(del.json).toEqual({ traces_deleted: 1 });
    expect((await v3("GET", `traces/${traceId}/assessments/${fb.assessment_id}`)).status).toBe(404);
  });
});

describe("search_traces filters on spans and assessments", () => {
  it("matches span name, type, status and attributes, the text of spans, and feedback/expectation values", async () => {
    const exp = await newExperiment();
    const a = await newTrace(exp, { rootName: "add", toolInput: { city: "Paris" } });
    const b = await newTrace(exp, { rootName: "multiply", toolInput: { city: "Oslo" } });
    await v3("POST", `traces/${a}/assessments`, feedbackBody(a));
    await v3("POST", `traces/${b}/assessments`, feedbackBody(b, { assessment_name: "tone", feedback: { value: "polite" } }));
    await v3("POST", `traces/${b}/assessments`, expectationBody(b));

    const search = async (filter: string) => {
      const res = await v3("POST", "traces/search", { locations: [{ type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id: exp } }], filter });
      expect(res.status, res.text).toBe(200);
      return (res.json.traces ?? []).map((t: any) => t.trace_id).sort();
    };
    const both = [a, b].sort();
    const cases: [string, string[]][] = [
      ["span.name = 'add'", [a]],
      ["span.name = 'inner'", both],
      ["span.name IN ('add', 'multiply')", both],
      ["span.name LIKE 'mul%'", [b]],
      ["span.name != 'add'", both],
      ["span.type = 'TOOL'", both],
      ["span.type = 'LLM'", []],
      ["span.status = 'ERROR'", both],
      ["span.status = 'ok'", both],
      ["span.attributes.model = 'gpt-x'", both],
      ["span.attributes.`mlflow.spanType` = 'TOOL'", both],
      ["span.attributes.model ILIKE 'GPT%'", both],
      ["span.content LIKE '%Paris%'", [a]],
      ["text ILIKE '%oslo%'", [b]],
      ["feedback.correct = 'true'", [a]],
      ["feedback.correct = 'false'", []],
      ["feedback.tone = 'polite'", [b]],
      ["feedback.tone IN ('polite', 'rude')", [b]],
      ["expectation.expected LIKE '%[1, 2]%'", [b]],
      ["span.name = 'inner' AND feedback.tone = 'polite'", [b]],
    ];
    for (const [filter, expected] of cases) expect(await search(filter), filter).toEqual(expected.sort());

    // An overridden feedback no longer matches; its replacement does.
    const fa = (await v3("GET", `traces/get?trace_id=${a}`)).json.trace.trace_info.assessments[0];
    await v3("POST", `traces/${a}/assessments`, feedbackBody(a, { feedback: { value: false }, overrides: fa.assessment_id }));
    expect(await search("feedback.correct = 'true'")).toEqual([]);
    expect(await search("feedback.correct = 'false'")).toEqual([a]);

    for (const bad of ["span.duration = 1", "span.content = 'x'", "span.attributes. = 'x'", "span.name > 'a'", "feedback.correct < 'x'"]) {
      const res = await v3("POST", "traces/search", { experiment_ids: [exp], filter: bad });
      expect(res.status, bad).toBe(400);
      expect(mlflowError(res)).toBe("INVALID_PARAMETER_VALUE");
    }
  });
});

describe("link_traces_to_run", () => {
  it("links traces to a run so search_traces(run_id=...) finds them", async () => {
    const exp = await newExperiment();
    const run = (await v2("POST", "runs/create", { experiment_id: exp })).json.run.info.run_id;
    const [t1, t2] = [await newTrace(exp), await newTrace(exp)];
    const res = await v2("POST", "traces/link-to-run", { trace_ids: [t1, `tr-${hex(16)}`], run_id: run });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({});
    // Linking twice is a no-op.
    expect((await v2("POST", "traces/link-to-run", { trace_ids: [t1], run_id: run })).status).toBe(200);
    const byRun = await v3("POST", "traces/search", { experiment_ids: [exp], filter: `attributes.run_id = '${run}'` });
    expect(byRun.json.traces.map((t: any) => t.trace_id)).toEqual([t1]);
    const notRun = await v3("POST", "traces/search", { experiment_ids: [exp], filter: `attributes.run_id != '${run}'` });
    expect(notRun.json.traces.map((t: any) => t.trace_id)).toEqual([t2]);

    expect(mlflowError(await v2("POST", "traces/link-to-run", { trace_ids: [t1], run_id: "f".repeat(32) }))).toBe("RESOURCE_DOES_NOT_EXIST");
    const tooMany = await v2("POST", "traces/link-to-run", { trace_ids: Array.from({ length: 101 }, (_, i) => `tr-${i}`), run_id: run });
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.message).toBe("Cannot link more than 100 traces to a run in a single request. Provided 101 traces.");
    expect(mlflowError(await v2("POST", "traces/link-to-run", { trace_ids: [t1] }))).toBe("INVALID_PARAMETER_VALUE");
  });
});

describe("experiments/delete-experiment-tag", () => {
  it("deletes a tag, and answers MLflow's errors for a missing tag or a deleted experiment", async () => {
    const exp = await newExperiment();
    await v2("POST", "experiments/set-experiment-tag", { experiment_id: exp, key: "team", value: "ml" });
    await v2("POST", "experiments/set-experiment-tag", { experiment_id: exp, key: "keep", value: "1" });
    const res = await v2("POST", "experiments/delete-experiment-tag", { experiment_id: exp, key: "team" });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({});
    expect((await v2("GET", `experiments/get?experiment_id=${exp}`)).json.experiment.tags).toEqual([{ key: "keep", value: "1" }]);
    const again = await v2("POST", "experiments/delete-experiment-tag", { experiment_id: exp, key: "team" });
    expect(again.status).toBe(404);
    expect(again.json).toEqual({ error_code: "RESOURCE_DOES_NOT_EXIST", message: `No tag with name: team in experiment with id ${exp}` });
    await v2("POST", "experiments/delete", { experiment_id: exp });
    expect(mlflowError(await v2("POST", "experiments/delete-experiment-tag", { experiment_id: exp, key: "keep" }))).toBe("INVALID_PARAMETER_VALUE");
    expect(mlflowError(await v2("POST", "experiments/delete-experiment-tag", { experiment_id: exp }))).toBe("INVALID_PARAMETER_VALUE");
  });
});

describe("artifact routes MLflow 3 and its UI call", () => {
  it("lists a logged model's artifacts one directory at a time", async () => {
    const exp = await newExperiment();
    const model = (await v2("POST", "logged-models", { experiment_id: exp, name: "m" })).json.model.info;
    expect(model.artifact_uri).toMatch(/^mlflow-artifacts:\//);
    const root = model.artifact_uri.replace(/^mlflow-artifacts:\//, "");
    for (const [path, body] of [["MLmodel", "flavors: {}\n"], ["data/model.pkl", "1234"]]) {
      const put = await call("PUT", `/api/2.0/mlflow-artifacts/artifacts/${root}/${path}`, { mode, raw: body, headers: { "Content-Type": "application/octet-stream" } });
      expect(put.status).toBe(200);
    }
    const top = await v2("GET", `logged-models/${model.model_id}/artifacts/directories`);
    expect(top.status).toBe(200);
    expect(top.json).toEqual({
      root_uri: model.artifact_uri,
      files: [
        { path: "MLmodel", is_dir: false, file_size: 12 },
        { path: "data", is_dir: true },
      ],
    });
    const sub = await v2("GET", `logged-models/${model.model_id}/artifacts/directories?artifact_directory_path=data`);
    expect(sub.json.files).toEqual([{ path: "data/model.pkl", is_dir: false, file_size: 4 }]);
    const ajax = await call("GET", `/ajax-api/2.0/mlflow/logged-models/${model.model_id}/artifacts/directories`, { mode });
    expect(ajax.json).toEqual(top.json);
    expect(mlflowError(await v2("GET", "logged-models/m-nope/artifacts/directories"))).toBe("RESOURCE_DOES_NOT_EXIST");
    expect(mlflowError(await v2("GET", `logged-models/${model.model_id}/artifacts/directories?artifact_directory_path=../x`))).toBe("INVALID_PARAMETER_VALUE");
  });

  it("serves the artifact proxy under /ajax-api/2.0/mlflow-artifacts as under /api", async () => {
    const put = await call("PUT", "/ajax-api/2.0/mlflow-artifacts/artifacts/ajax/one.txt", { mode, raw: "hello", headers: { "Content-Type": "text/plain" } });
    expect(put.status).toBe(200);
    const got = await call("GET", "/api/2.0/mlflow-artifacts/artifacts/ajax/one.txt", { mode });
    expect(got.text).toBe("hello");
    const list = await call("GET", "/ajax-api/2.0/mlflow-artifacts/artifacts?path=ajax", { mode });
    expect(list.json).toEqual({ files: [{ path: "one.txt", is_dir: false, file_size: 5 }] });
    const missing = await call("GET", "/ajax-api/2.0/mlflow-artifacts/artifacts/ajax/none.txt", { mode });
    expect(missing.status).toBe(404);
    expect(mlflowError(missing)).toBe("RESOURCE_DOES_NOT_EXIST");
    expect((await call("DELETE", "/ajax-api/2.0/mlflow-artifacts/artifacts/ajax/one.txt", { mode })).status).toBe(200);
  });

  it("downloads a model version's files through /model-versions/get-artifact", async () => {
    const exp = await newExperiment();
    const run = (await v2("POST", "runs/create", { experiment_id: exp })).json.run.info;
    const root = run.artifact_uri.replace(/^mlflow-artifacts:\//, "");
    await call("PUT", `/api/2.0/mlflow-artifacts/artifacts/${root}/model/MLmodel`, { mode, raw: "artifact_path: model\n", headers: { "Content-Type": "text/plain" } });
    const name = `compat-${crypto.randomUUID()}`;
    await v2("POST", "registered-models/create", { name });
    const mv = await v2("POST", "model-versions/create", { name, source: `runs:/${run.run_id}/model`, run_id: run.run_id });
    expect(mv.status).toBe(200);
    const got = await call("GET", `/model-versions/get-artifact?name=${encodeURIComponent(name)}&version=1&path=MLmodel`, { mode });
    expect(got.status).toBe(200);
    expect(got.text).toBe("artifact_path: model\n");
    expect(got.headers.get("content-disposition")).toContain("MLmodel");
    const noVersion = await call("GET", `/model-versions/get-artifact?name=${encodeURIComponent(name)}&version=9&path=MLmodel`, { mode });
    expect(noVersion.status).toBe(404);
    expect(mlflowError(noVersion)).toBe("RESOURCE_DOES_NOT_EXIST");
    const escape = await call("GET", `/model-versions/get-artifact?name=${encodeURIComponent(name)}&version=1&path=../../x`, { mode });
    expect(escape.status).toBe(400);
    expect(mlflowError(await call("GET", `/model-versions/get-artifact?name=${encodeURIComponent(name)}&version=1`, { mode }))).toBe("INVALID_PARAMETER_VALUE");
  });
});

describe("MLflow 3 run inputs and model metrics", () => {
  it("keeps the logged models a run used (log-inputs models) and shows them as model_inputs", async () => {
    const exp = await newExperiment();
    const run = (await v2("POST", "runs/create", { experiment_id: exp })).json.run.info.run_id;
    const model = (await v2("POST", "logged-models", { experiment_id: exp, name: "m" })).json.model.info.model_id;
    const res = await v2("POST", "runs/log-inputs", { run_id: run, models: [{ model_id: model }, { model_id: model }] });
    expect(res.status).toBe(200);
    const dataset = { name: "train", digest: "d1", source_type: "local", source: "file:///x" };
    await v2("POST", "runs/log-inputs", { run_id: run, datasets: [{ dataset, tags: [] }], models: [{ model_id: "m-other" }] });
    const got = (await v2("GET", `runs/get?run_id=${run}`)).json.run;
    expect(got.inputs.model_inputs).toEqual([{ model_id: model }, { model_id: "m-other" }]);
    expect(got.inputs.dataset_inputs.map((d: any) => d.dataset.name)).toEqual(["train"]);
    expect(mlflowError(await v2("POST", "runs/log-inputs", { run_id: run, models: [{}] }))).toBe("INVALID_PARAMETER_VALUE");
  });

  it("makes metrics logged with model_id the logged model's metrics, per dataset, searchable and sortable", async () => {
    const exp = await newExperiment();
    const run = (await v2("POST", "runs/create", { experiment_id: exp })).json.run.info.run_id;
    const [m1, m2] = [
      (await v2("POST", "logged-models", { experiment_id: exp, name: "a", source_run_id: run })).json.model.info.model_id,
      (await v2("POST", "logged-models", { experiment_id: exp, name: "b", source_run_id: run })).json.model.info.model_id,
    ];
    const ts = 1_700_000_000_000;
    // mlflow.log_metric("acc", v, model_id=..., dataset=ds) sends log-batch (or log-metric) with these fields.
    const batch = await v2("POST", "runs/log-batch", {
      run_id: run,
      metrics: [
        { key: "acc", value: 0.7, timestamp: ts, step: 0, model_id: m1, dataset_name: "eval", dataset_digest: "e1" },
        { key: "acc", value: 0.8, timestamp: ts, step: 1, model_id: m1, dataset_name: "eval", dataset_digest: "e1" },
        { key: "acc", value: 0.5, timestamp: ts, step: 0, model_id: m1, dataset_name: "test", dataset_digest: "t1" },
        { key: "acc", value: 0.9, timestamp: ts, step: 0, model_id: m2, dataset_name: "eval", dataset_digest: "e1" },
        { key: "loss", value: 0.1, timestamp: ts, step: 0 },
      ],
    });
    expect(batch.status).toBe(200);
    const single = await v2("POST", "runs/log-metric", { run_id: run, key: "f1", value: 0.6, timestamp: ts, step: 2, model_id: m2 });
    expect(single.status).toBe(200);
    // An older point does not replace the latest.
    await v2("POST", "runs/log-metric", { run_id: run, key: "acc", value: 0.1, timestamp: ts, step: 0, model_id: m1, dataset_name: "eval", dataset_digest: "e1" });

    const one = (await v2("GET", `logged-models/${m1}`)).json.model;
    expect(one.data.metrics).toEqual([
      { key: "acc", value: 0.8, timestamp: ts, step: 1, run_id: run, model_id: m1, dataset_name: "eval", dataset_digest: "e1" },
      { key: "acc", value: 0.5, timestamp: ts, step: 0, run_id: run, model_id: m1, dataset_name: "test", dataset_digest: "t1" },
    ]);
    expect((await v2("GET", `logged-models/${m2}`)).json.model.data.metrics.map((m: any) => m.key)).toEqual(["acc", "f1"]);
    // The run's own history holds every point.
    expect((await v2("GET", `metrics/get-history?run_id=${run}&metric_key=acc`)).json.metrics).toHaveLength(5);

    const search = async (body: Record<string, unknown>) => {
      const res = await v2("POST", "logged-models/search", { experiment_ids: [exp], ...body });
      expect(res.status, res.text).toBe(200);
      return (res.json.models ?? []).map((m: any) => m.info.model_id);
    };
    expect(await search({ filter: "metrics.acc > 0.85" })).toEqual([m2]);
    expect(await search({ filter: "metrics.acc >= 0.5" })).toEqual(expect.arrayContaining([m1, m2]));
    expect(await search({ filter: "metrics.acc < 0.6", datasets: [{ dataset_name: "eval" }] })).toEqual([]);
    expect(await search({ filter: "metrics.acc < 0.6", datasets: [{ dataset_name: "test", dataset_digest: "t1" }] })).toEqual([m1]);
    expect(await search({ datasets: [{ dataset_name: "test" }] })).toEqual([m1]);
    expect(await search({ order_by: [{ field_name: "metrics.acc", ascending: false, dataset_name: "eval" }] })).toEqual([m2, m1]);
    expect(await search({ order_by: [{ field_name: "metrics.acc", ascending: true, dataset_name: "eval" }] })).toEqual([m1, m2]);
    expect(await search({ order_by: [{ field_name: "metrics.f1", ascending: true }] })).toEqual([m2, m1]);
  });
});
