import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { jobs } from "../../worker/index";
import { createDb } from "../../worker/db/client";
import { MonitoringService } from "../../worker/monitoring/service";
import { MonitoringStore } from "../../worker/monitoring/store";
import { type DatasetReader, type PipelineTrigger } from "../../worker/monitoring/model";
import { dispatchScheduled } from "../../worker/system/scheduler";
import type { RawValue } from "../../worker/lib/drift";
import { call } from "./helpers";
import { registeredModel, summary } from "./monitoring-helpers";

const mode = "open" as const;
const api = (method: string, path: string, body?: unknown) => call(method, `/api/v1${path}`, { mode, ...(body === undefined ? {} : { body }) });

/** A webhook receiver behind the Worker's outbound fetch: records every request, answers with the scripted statuses. */
function receiver(statuses: number[] = []) {
  const received: { url: string; body: any; headers: Headers }[] = [];
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    received.push({ url: req.url, body: await req.json(), headers: req.headers });
    return new Response("ok", { status: statuses.length ? statuses.shift()! : 200 });
  });
  return { received, spy };
}

afterEach(() => vi.restoreAllMocks());

async function monitorWithRule(rule: Record<string, unknown>) {
  const model = await registeredModel();
  const m = (await api("POST", "/monitors", { name: `alerts-${crypto.randomUUID().slice(0, 8)}`, model: { name: model, version: null } })).json.monitor;
  const r = await api("POST", `/monitors/${m.id}/rules`, rule);
  expect(r.status, r.text).toBe(201);
  return { monitor: m, rule: r.json.rule };
}

const post = (monitorId: string, share: number) => api("POST", `/monitors/${monitorId}/reports`, summary(share, [{ column: "age", score: share, drifted: share > 0.5 }]));

async function tick(scheduledTime: number) {
  return dispatchScheduled(jobs, { cron: "* * * * *", scheduledTime }, env, createExecutionContext());
}

describe("alert rules", () => {
  it("validates rules: series grammar, operators, webhook URLs (never this Tern itself)", async () => {
    const { monitor } = await monitorWithRule({ series: "drift_share", operator: ">", threshold: 0.5 });
    const bad: [unknown, string][] = [
      [{ series: "drift", operator: ">", threshold: 1 }, "Unknown series"],
      [{ series: "drift_share", operator: "==", threshold: 1 }, "operator"],
      [{ series: "drift_share", operator: ">", threshold: 1, for_checks: 0 }, "for_checks"],
      [{ series: "drift_share", operator: ">", threshold: 1, webhook_url: "ftp://x.example/hook" }, "http or https"],
      [{ series: "drift_share", operator: ">", threshold: 1, webhook_url: "not a url" }, "not a URL"],
      [{ series: "drift_share", operator: ">", threshold: 1, webhook_url: "https://tern.test/api/v1/monitors" }, "this Tern itself"],
      [{ series: "drift_share", operator: ">", threshold: 1, webhook_url: "https://user:pw@hooks.example/x" }, "credentials"],
    ];
    for (const [body, message] of bad) {
      const res = await api("POST", `/monitors/${monitor.id}/rules`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.message).toContain(message);
    }
    const rules = (await api("GET", `/monitors/${monitor.id}/rules`)).json.rules;
    expect(rules).toHaveLength(1);
    const patched = await api("PATCH", `/monitors/${monitor.id}/rules/${rules[0].id}`, { threshold: 0.7, name: "share high" });
    expect(patched.json.rule).toMatchObject({ threshold: 0.7, name: "share high", state: "ok" });
    expect((await api("PATCH", `/monitors/${monitor.id}/rules/${rules[0].id}`, { webhook_url: "https://TERN.test/x" })).status).toBe(400);
    expect((await api("DELETE", `/monitors/${monitor.id}/rules/${rules[0].id}`)).status).toBe(200);
    expect((await api("GET", `/monitors/${monitor.id}/rules/${rules[0].id}`)).status).toBe(404);
  });

  it("fires after N consecutive breaches, once, delivers the webhook, and resolves on recovery", async () => {
    const hook = receiver();
    const { monitor, rule } = await monitorWithRule({ name: "drift high", series: "drift_share", operator: ">", threshold: 0.5, for_checks: 3, webhook_url: "https://hooks.example/tern?k=1" });
    const states: string[] = [];
    for (const share of [0.6, 0.7, 0.2, 0.6, 0.7, 0.8, 0.9, 0.1, 0.3]) {
      const res = await post(monitor.id, share);
      expect(res.status, res.text).toBe(201);
      states.push(res.json.alerts.map((a: any) => a.kind).join(",") || "-");
    }
    expect(states).toEqual(["-", "-", "-", "-", "-", "fired", "-", "resolved", "-"]);

    const events = (await api("GET", `/monitors/${monitor.id}/alerts`)).json.alerts;
    expect(events.map((e: any) => [e.kind, e.value])).toEqual([["resolved", 0.1], ["fired", 0.8]]);
    for (const e of events) expect(e.delivery).toMatchObject({ status: "delivered", attempts: 1, last_error: null });

    expect(hook.received).toHaveLength(2);
    const [fired, resolved] = hook.received;
    expect(fired.url).toBe("https://hooks.example/tern?k=1");
    expect(fired.headers.get("content-type")).toBe("application/json");
    expect(fired.body).toMatchObject({
      state: "firing",
      value: 0.8,
      monitor: { id: monitor.id, name: monitor.name },
      rule: { id: rule.id, name: "drift high", series: "drift_share", operator: ">", threshold: 0.5, for_checks: 3 },
    });
    expect(new Date(fired.body.time).getTime()).toBe(events[1].time);
    expect(resolved.body).toMatchObject({ state: "resolved", value: 0.1, rule: { id: rule.id } });
  });

  it("lists firing rules across monitors and in the monitor list", async () => {
    const { monitor, rule } = await monitorWithRule({ series: "column:age:score", operator: ">=", threshold: 0.9 });
    await post(monitor.id, 0.95);
    const active = (await api("GET", "/alerts")).json.alerts;
    expect(active.find((a: any) => a.rule.id === rule.id)).toMatchObject({ monitor: { id: monitor.id }, rule: { state: "firing", last_value: 0.95 } });
    const listed = (await api("GET", "/monitors")).json.monitors.find((x: any) => x.monitor.id === monitor.id);
    expect(listed.firing_rules).toBe(1);
    await post(monitor.id, 0.5);
    expect((await api("GET", "/alerts")).json.alerts.find((a: any) => a.rule.id === rule.id)).toBeUndefined();
  });

  it("records failed tries and retries them with backoff on the cron job until delivered", async () => {
    const hook = receiver([500, 503]);
    const { monitor } = await monitorWithRule({ series: "drift_share", operator: ">", threshold: 0.5, webhook_url: "https://hooks.example/flaky" });
    const res = await post(monitor.id, 0.9);
    const eventId = res.json.alerts[0].id;
    const event = async () => (await api("GET", `/monitors/${monitor.id}/alerts`)).json.alerts.find((e: any) => e.id === eventId);

    let e = await event();
    expect(e.delivery).toMatchObject({ status: "pending", attempts: 1, last_error: "HTTP 500" });
    const first = e.delivery.last_attempt_at;
    expect(e.delivery.next_attempt_at).toBe(first + 60_000);

    await tick(first + 30_000); // not due yet
    expect((await event()).delivery.attempts).toBe(1);

    await tick(first + 60_000);
    e = await event();
    expect(e.delivery).toMatchObject({ status: "pending", attempts: 2, last_error: "HTTP 503", last_attempt_at: first + 60_000, next_attempt_at: first + 60_000 + 120_000 });

    await tick(first + 180_000);
    e = await event();
    expect(e.delivery).toMatchObject({ status: "delivered", attempts: 3, last_error: null, next_attempt_at: null });
    expect(hook.received.map((r) => r.body.event_id)).toEqual([eventId, eventId, eventId]);
    await tick(first + 10 * 60_000);
    expect(hook.received).toHaveLength(3);
  });

  it("gives up after the last try and says so", async () => {
    receiver(Array(10).fill(500));
    const { monitor } = await monitorWithRule({ series: "drift_share", operator: ">", threshold: 0.5, webhook_url: "https://hooks.example/down" });
    const eventId = (await post(monitor.id, 0.9)).json.alerts[0].id;
    let t = (await api("GET", `/monitors/${monitor.id}/alerts`)).json.alerts[0].delivery.last_attempt_at;
    for (let i = 0; i < 8; i++) {
      t += 20 * 60_000;
      await tick(t);
    }
    const e = (await api("GET", `/monitors/${monitor.id}/alerts`)).json.alerts.find((x: any) => x.id === eventId);
    expect(e.delivery).toMatchObject({ status: "failed", attempts: 6, next_attempt_at: null, last_error: "HTTP 500" });
  });

  it("starts the rule's pipeline when it fires, with the alert as the run's conf", async () => {
    const created = await api("POST", "/pipelines", { name: `retrain-${crypto.randomUUID().slice(0, 8)}`, spec: { tasks: { retrain: { kind: "noop" } } } });
    expect(created.status, created.text).toBe(201);
    const pipelineId = created.json.pipeline_id;
    const { monitor, rule } = await monitorWithRule({ series: "drift_share", operator: ">", threshold: 0.5, pipeline_id: pipelineId });
    const fired = (await post(monitor.id, 0.9)).json.alerts[0];
    expect(fired.delivery.status).toBe("none");
    // The trigger runs after the response (waitUntil); the event records the run it started.
    let runId: string | null = null;
    for (let i = 0; i < 50 && !runId; i++) {
      const events = (await api("GET", `/monitors/${monitor.id}/alerts`)).json.alerts;
      runId = events.find((e: any) => e.id === fired.id)?.pipeline?.run_id ?? null;
      if (!runId) await new Promise((r) => setTimeout(r, 20));
    }
    expect(runId).toMatch(/.+/);
    const runs = (await api("GET", `/pipelines/${pipelineId}/runs`)).json.runs;
    expect(runs.map((r: any) => r.run_id)).toEqual([runId]);
    const run = (await api("GET", `/pipeline-runs/${runId}`)).json;
    expect(JSON.stringify(run)).toContain(rule.id);
    // A rule naming a pipeline that does not exist says so on its event instead.
    const orphan = await monitorWithRule({ series: "drift_share", operator: ">", threshold: 0.5, pipeline_id: "no-such-pipeline" });
    const event = (await post(orphan.monitor.id, 0.9)).json.alerts[0];
    let note: string | null = null;
    for (let i = 0; i < 50 && !note; i++) {
      note = (await api("GET", `/monitors/${orphan.monitor.id}/alerts`)).json.alerts.find((e: any) => e.id === event.id)?.pipeline?.note ?? null;
      if (!note) await new Promise((r) => setTimeout(r, 20));
    }
    expect(note).toContain("pipeline trigger failed");
  });
});

describe("the monitoring service with its ports plugged", () => {
  const service = (deps: { pipelines?: PipelineTrigger; datasets?: DatasetReader }, now = Date.now) =>
    new MonitoringService(new MonitoringStore(createDb(env.DB)), {
      registry: { getModel: async () => ({}) as never, getVersion: async () => ({}) as never },
      pipelines: deps.pipelines ?? null,
      datasets: deps.datasets ?? null,
      now,
    });

  it("triggers the rule's pipeline with the alert as its conf", async () => {
    const calls: [string, Record<string, unknown>][] = [];
    const s = service({ pipelines: async (id, conf) => (calls.push([id, conf]), { runId: "run-42" }) });
    const m = await s.createMonitor({ name: `pipe-${crypto.randomUUID().slice(0, 8)}`, modelName: "any" });
    const rule = await s.createRule(m.id, { series: "drift_share", operator: ">", threshold: 0.5, pipelineId: "retrain" }, null);
    const { events } = await s.saveReport(m.id, { summary: { datasetDrift: true, driftShare: 1, numberOfColumns: 1, numberOfDriftedColumns: 1, columns: [], performance: null }, reference: null, current: null, sampleSize: null, source: "api" });
    await s.deliverNew(events);
    expect(calls).toEqual([["retrain", { monitor_id: m.id, rule_id: rule.id, event_id: events[0].id, value: 1, report_id: events[0].reportId }]]);
    const [stored] = (await s.listEvents(m.id, 0, 10)).items;
    expect(stored).toMatchObject({ pipelineRunId: "run-42", pipelineNote: null });
  });

  it("checks each new dataset version once on schedule, on a recorded sample, with column settings", async () => {
    const n = 60_000;
    const ref: Record<string, RawValue[]> = { x: Array.from({ length: n }, (_, i) => (i % 1000) / 1000), id: Array.from({ length: n }, (_, i) => i) };
    const shifted: Record<string, RawValue[]> = { x: Array.from({ length: 2000 }, (_, i) => 0.5 + (i % 1000) / 1000), id: Array.from({ length: 2000 }, (_, i) => i) };
    const same: Record<string, RawValue[]> = { x: Array.from({ length: 2000 }, (_, i) => (i % 1000) / 1000), id: Array.from({ length: 2000 }, (_, i) => i) };
    const versions: Record<string, Record<string, RawValue[]>> = { "ref-v1": ref, "cur-v1": same, "cur-v2": shifted };
    let latest = "cur-v1";
    const reads: string[] = [];
    const datasets: DatasetReader = {
      latestVersion: async (id) => (id === "prod-traffic" ? latest : null),
      readColumns: async (v) => {
        reads.push(v);
        const columns = versions[v];
        return { versionId: v, dataset: v.startsWith("ref") ? "reference" : "prod-traffic", version: Number(v.slice(-1)), columns, rows: columns.x.length, rowsEstimated: false, sample: null };
      },
    };
    const t0 = Date.UTC(2026, 10, 28, 6, 0, 0);
    const s = service({ datasets }, () => t0);
    const m = await s.createMonitor({
      name: `sched-${crypto.randomUUID().slice(0, 8)}`,
      modelName: "any",
      referenceDatasetVersion: "ref-v1",
      currentDataset: "prod-traffic",
      schedule: "*/5 * * * *",
      columnSettings: { ignore: ["id"] },
    });
    expect((await s.runScheduledChecks(t0 + 60_000)).find((o) => o.monitorId === m.id)).toBeUndefined(); // 06:01 is not on */5
    expect((await s.runScheduledChecks(t0 + 5 * 60_000)).find((o) => o.monitorId === m.id)?.outcome).toBe("checked cur-v1");
    expect((await s.runScheduledChecks(t0 + 10 * 60_000)).find((o) => o.monitorId === m.id)?.outcome).toBe("no new version");
    latest = "cur-v2";
    expect((await s.runScheduledChecks(t0 + 15 * 60_000)).find((o) => o.monitorId === m.id)?.outcome).toBe("checked cur-v2");

    const reports = (await s.listReports(m.id, 0, 10)).items;
    expect(reports.map((r) => r.current?.dataset_version)).toEqual(["cur-v2", "cur-v1"]);
    expect(reports.map((r) => r.datasetDrift)).toEqual([true, false]);
    expect(reports.map((r) => r.columns.map((c) => c.column))).toEqual([["x"], ["x"]]);
    // 60 000 reference rows are sampled down to the check's cap; the sample size is recorded.
    expect(reports[0]).toMatchObject({ sampleSize: 50_000, source: "schedule", reference: { dataset_version: "ref-v1", dataset: "reference", version: 1, rows: 60_000, checked_rows: 50_000 } });
    expect(reports[0].current).toEqual({ dataset: "prod-traffic", version: 2, dataset_version: "cur-v2", rows: 2000, checked_rows: 2000 });
    expect(reports[0].columns[0]).toMatchObject({ type: "num", method: "wasserstein", drifted: true });
    expect(reads.filter((v) => v.startsWith("cur"))).toEqual(["cur-v1", "cur-v2"]);
  });

  it("leaves scheduled checks unwired while no dataset reader exists", async () => {
    const t0 = Date.UTC(2026, 10, 28, 7, 0, 0);
    const s = service({}, () => t0);
    const m = await s.createMonitor({ name: `unwired-${crypto.randomUUID().slice(0, 8)}`, modelName: "any", referenceDatasetVersion: "r", currentDataset: "d", schedule: "* * * * *" });
    expect((await s.runScheduledChecks(t0 + 60_000)).find((o) => o.monitorId === m.id)?.outcome).toBe("skipped: datasets not available");
    expect((await s.listReports(m.id, 0, 10)).items).toEqual([]);
  });
});
