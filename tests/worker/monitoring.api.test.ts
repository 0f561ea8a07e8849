import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createToken, errorCode } from "./helpers";
import { registeredModel, summary } from "./monitoring-helpers";

const mode = "open" as const;
const api = (method: string, path: string, body?: unknown) => call(method, `/api/v1${path}`, { mode, ...(body === undefined ? {} : { body }) });

async function count(table: string): Promise<number> {
  const r = await env.DB.prepare(`SELECT count(*) AS n FROM ${table}`).first<{ n: number }>();
  return r?.n ?? 0;
}

async function createMonitor(extra: Record<string, unknown> = {}) {
  const model = await registeredModel();
  const res = await api("POST", "/monitors", { name: `mon-${crypto.randomUUID().slice(0, 8)}`, model: { name: model, alias: "champion" }, ...extra });
  expect(res.status, res.text).toBe(201);
  return res.json.monitor;
}

describe("monitors", () => {
  it("creates, gets, lists, updates and deletes a monitor", async () => {
    const model = await registeredModel("fraud-model");
    const created = await api("POST", "/monitors", {
      name: "fraud-drift",
      description: "weekly fraud features",
      model: { name: model, alias: "champion" },
      reference_dataset_version: "dsv-123",
      column_settings: { columns: { amount: { method: "psi", threshold: 0.2 } }, ignore: ["id"] },
      schedule: "0 * * * *",
    });
    expect(created.status, created.text).toBe(201);
    const m = created.json.monitor;
    expect(m).toMatchObject({
      name: "fraud-drift",
      model: { name: "fraud-model", alias: "champion", version: null },
      reference_dataset_version: "dsv-123",
      drift_share: 0.5,
      schedule: "0 * * * *",
      paused: false,
      column_settings: { columns: { amount: { method: "psi", threshold: 0.2 } }, ignore: ["id"] },
    });
    expect((await api("GET", `/monitors/${m.id}`)).json.monitor).toEqual(m);

    const listed = await api("GET", "/monitors");
    expect(listed.json.monitors.map((x: any) => x.monitor.name)).toContain("fraud-drift");
    expect(listed.json.monitors.find((x: any) => x.monitor.id === m.id)).toMatchObject({ latest: null, firing_rules: 0 });

    const updated = await api("PATCH", `/monitors/${m.id}`, { drift_share: 0.3, paused: true, schedule: null });
    expect(updated.status, updated.text).toBe(200);
    expect(updated.json.monitor).toMatchObject({ drift_share: 0.3, paused: true, schedule: null, name: "fraud-drift" });

    expect(errorCode(await api("POST", "/monitors", { name: "fraud-drift", model: { name: model } }))).toBe("RESOURCE_ALREADY_EXISTS");
    expect((await api("DELETE", `/monitors/${m.id}`)).status).toBe(200);
    expect((await api("GET", `/monitors/${m.id}`)).status).toBe(404);
    expect((await api("DELETE", `/monitors/${m.id}`)).status).toBe(404);
  });

  it("pages the monitor list", async () => {
    const model = await registeredModel();
    for (const n of ["p-a", "p-b", "p-c"]) expect((await api("POST", "/monitors", { name: n, model: { name: model } })).status).toBe(201);
    const first = await api("GET", "/monitors?max_results=2");
    expect(first.json.monitors.map((x: any) => x.monitor.name)).toEqual(["p-a", "p-b"]);
    const second = await api("GET", `/monitors?max_results=2&page_token=${first.json.next_page_token}`);
    expect(second.json.monitors.map((x: any) => x.monitor.name)).toEqual(["p-c"]);
    expect(second.json.next_page_token).toBeNull();
  });

  it("rejects bad monitors with a 4xx and writes nothing", async () => {
    const model = await registeredModel();
    const before = await count("monitors");
    const bad: [unknown, string][] = [
      [{ name: "x" }, "model"],
      [{ name: "", model: { name: model } }, "name"],
      [{ name: "x", model: { name: "no-such-model" } }, "No registered model"],
      [{ name: "x", model: { name: model, version: 7 } }, "No version 7"],
      [{ name: "x", model: { name: model, alias: "a", version: 1 } }, "not both"],
      [{ name: "x", model: { name: model }, schedule: "every minute" }, "Invalid schedule"],
      [{ name: "x", model: { name: model }, drift_share: 1.5 }, "drift_share"],
      [{ name: "x", model: { name: model }, column_settings: { columns: { a: { method: "magic" } } } }, "unknown method"],
      [{ name: "x", model: { name: model }, extra: 1 }, "Unrecognized key"],
    ];
    for (const [body, message] of bad) {
      const res = await api("POST", "/monitors", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(errorCode(res)).toBe("INVALID_PARAMETER_VALUE");
      expect(res.json.error.message).toContain(message);
    }
    expect((await api("GET", "/monitors/not-an-id")).status).toBe(400);
    expect((await api("PATCH", `/monitors/${"0".repeat(32)}`, { paused: true })).status).toBe(404);
    expect(await count("monitors")).toBe(before);
  });
});

describe("reports and series", () => {
  it("saves summaries and returns each series in time order", async () => {
    const m = await createMonitor();
    const shares = [0.25, 0.75, 0.5];
    const ids: string[] = [];
    for (const [i, share] of shares.entries()) {
      const res = await api("POST", `/monitors/${m.id}/reports`, summary(share, [
        { column: "age", score: 0.01 * (i + 1), drifted: true },
        { column: "income", score: i === 1 ? null : 0.5, drifted: false },
      ], { accuracy: 0.9 - i / 10 }));
      expect(res.status, res.text).toBe(201);
      expect(res.json.report.summary.drift_share).toBe(share);
      expect(res.json.alerts).toEqual([]);
      ids.push(res.json.report.id);
      // Distinct times, so the order is the posting order.
      await new Promise((r) => setTimeout(r, 5));
    }
    const drift = await api("GET", `/monitors/${m.id}/series?name=drift_share`);
    expect(drift.status, drift.text).toBe(200);
    expect(drift.json.points.map((p: any) => p.value)).toEqual(shares);
    expect(drift.json.points.map((p: any) => p.report_id)).toEqual(ids);
    const times = drift.json.points.map((p: any) => p.time);
    expect([...times].sort((a, b) => a - b)).toEqual(times);

    const age = await api("GET", `/monitors/${m.id}/series?name=${encodeURIComponent("column:age:score")}`);
    expect(age.json.points.map((p: any) => p.value)).toEqual([0.01, 0.02, 0.03]);
    // A null score leaves a gap rather than a made-up point.
    const income = await api("GET", `/monitors/${m.id}/series?name=${encodeURIComponent("column:income:score")}`);
    expect(income.json.points.map((p: any) => p.report_id)).toEqual([ids[0], ids[2]]);
    const acc = await api("GET", `/monitors/${m.id}/series?name=performance:accuracy`);
    expect(acc.json.points.map((p: any) => p.value)).toEqual([0.9, 0.8, 0.7]);
    const ranged = await api("GET", `/monitors/${m.id}/series?name=drift_share&from=${times[1]}&to=${times[1]}`);
    expect(ranged.json.points.map((p: any) => p.value)).toEqual([0.75]);
    expect((await api("GET", `/monitors/${m.id}/series?name=bogus`)).status).toBe(400);

    const reports = await api("GET", `/monitors/${m.id}/reports?max_results=2`);
    expect(reports.json.reports.map((r: any) => r.id)).toEqual([ids[2], ids[1]]);
    expect(reports.json.reports[0]).toMatchObject({ sample_size: 800, source: "api", reference: { name: "train.csv", rows: 1000 } });
    const rest = await api("GET", `/monitors/${m.id}/reports?max_results=2&page_token=${reports.json.next_page_token}`);
    expect(rest.json.reports.map((r: any) => r.id)).toEqual([ids[0]]);

    const listed = (await api("GET", "/monitors")).json.monitors.find((x: any) => x.monitor.id === m.id);
    expect(listed.latest).toMatchObject({ report_id: ids[2], drift_share: 0.5, dataset_drift: true });
  });

  it("accepts only a bounded summary: raw rows and malformed shapes get a 400 and nothing is written", async () => {
    const m = await createMonitor();
    const ok = summary(0.5, [{ column: "a", score: 0.01, drifted: true }]);
    const before = [await count("monitor_reports"), await count("monitor_column_scores")];
    const variants: unknown[] = [
      { ...ok, rows: [[1, 2, 3]] },
      { ...ok, current: { values: [1, 2, 3] } },
      { ...ok, reference: { data: { nested: true } } },
      { ...ok, summary: { ...ok.summary, columns: [{ ...ok.summary.columns[0], values: [0.1, 0.2] }] } },
      { ...ok, summary: { ...ok.summary, drift_share: 2 } },
      { ...ok, summary: { ...ok.summary, number_of_drifted_columns: 5 } },
      { ...ok, summary: { ...ok.summary, columns: [ok.summary.columns[0], ok.summary.columns[0]] } },
      { ...ok, summary: { ...ok.summary, columns: [{ ...ok.summary.columns[0], type: "numerical" }] } },
      { ...ok, summary: { ...ok.summary, performance: { acc: "high" } } },
      { ...ok, summary: { ...ok.summary, columns: Array.from({ length: 1001 }, (_, i) => ({ ...ok.summary.columns[0], column: `c${i}` })) } },
      { ...ok, current: Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`k${i}`, i])) },
      { summary: { ...ok.summary, dataset_drift: undefined } },
    ];
    for (const body of variants) {
      const res = await api("POST", `/monitors/${m.id}/reports`, body);
      expect(res.status, JSON.stringify(body).slice(0, 200)).toBe(400);
      expect(errorCode(res)).toBe("INVALID_PARAMETER_VALUE");
    }
    const nonFinite = await call("POST", `/api/v1/monitors/${m.id}/reports`, {
      mode,
      raw: JSON.stringify(ok).replace('"score":0.01', '"score":1e999'),
      headers: { "Content-Type": "application/json" },
    });
    expect(nonFinite.status).toBe(400);
    expect([await count("monitor_reports"), await count("monitor_column_scores")]).toEqual(before);
    expect((await api("POST", `/monitors/${"f".repeat(32)}/reports`, ok)).status).toBe(404);
  });
});

describe("/metrics", () => {
  /** Parses exposition text into HELP/TYPE per family and samples with unescaped labels. */
  function parseExposition(text: string) {
    const types = new Map<string, string>();
    const help = new Map<string, string>();
    const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
    for (const line of text.split("\n")) {
      if (!line) continue;
      const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
      if (meta) {
        (meta[1] === "TYPE" ? types : help).set(meta[2], meta[3]);
        continue;
      }
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!m) throw new Error(`unparseable line: ${line}`);
      const labels: Record<string, string> = {};
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;
      let lm: RegExpExecArray | null;
      while ((lm = re.exec(m[2] ?? ""))) labels[lm[1]] = lm[2].replace(/\\(.)/g, (_, ch) => (ch === "n" ? "\n" : ch));
      samples.push({ name: m[1], labels, value: m[3] === "NaN" ? NaN : Number(m[3].replace("+Inf", "Infinity")) });
    }
    return { types, help, samples };
  }

  it("exposes the latest drift per monitor and column, report counts and alert states", async () => {
    const m = await createMonitor({ name: 'prod "eu"\\west' });
    await api("POST", `/monitors/${m.id}/reports`, summary(0.2, [{ column: "age", score: 0.3, drifted: false }]));
    await new Promise((r) => setTimeout(r, 5));
    await api("POST", `/monitors/${m.id}/reports`, summary(0.5, [
      { column: "age", score: 0.01, drifted: true },
      { column: "zip\ncode", score: 0.4, drifted: false },
    ], { accuracy: 0.87 }));
    const rule = await api("POST", `/monitors/${m.id}/rules`, { series: "drift_share", operator: ">=", threshold: 0.5 });
    expect(rule.status, rule.text).toBe(201);
    await api("POST", `/monitors/${m.id}/reports`, summary(0.5, [
      { column: "age", score: 0.01, drifted: true },
      { column: "zip\ncode", score: 0.4, drifted: false },
    ], { accuracy: 0.87 }));

    const res = await call("GET", "/metrics", { mode });
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const { types, help, samples } = parseExposition(res.text);
    expect(types.get("tern_monitor_drift_share")).toBe("gauge");
    expect(types.get("tern_monitor_reports_total")).toBe("counter");
    expect(help.get("tern_monitor_alert_firing")).toBeTruthy();
    const mine = samples.filter((s) => s.labels.monitor === m.name);
    const get = (name: string, labels: Record<string, string> = {}) =>
      mine.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).map((s) => s.value);
    expect(get("tern_monitor_drift_share")).toEqual([0.5]);
    expect(get("tern_monitor_dataset_drift")).toEqual([1]);
    expect(get("tern_monitor_drifted_columns")).toEqual([1]);
    expect(get("tern_monitor_reports_total")).toEqual([3]);
    expect(get("tern_monitor_column_drift_score", { column: "age", method: "ks" })).toEqual([0.01]);
    expect(get("tern_monitor_column_drift_score", { column: "zip\ncode" })).toEqual([0.4]);
    expect(get("tern_monitor_column_drifted", { column: "age" })).toEqual([1]);
    expect(get("tern_monitor_column_drifted", { column: "zip\ncode" })).toEqual([0]);
    expect(get("tern_monitor_performance", { metric: "accuracy" })).toEqual([0.87]);
    expect(get("tern_monitor_alert_firing", { series: "drift_share" })).toEqual([1]);
    // Two rules with one name and series stay two series, told apart by rule_id.
    const twin = await api("POST", `/monitors/${m.id}/rules`, { name: rule.json.rule.name, series: "drift_share", operator: ">=", threshold: 0.5 });
    const again = parseExposition((await call("GET", "/metrics", { mode })).text).samples.filter((s) => s.name === "tern_monitor_alert_firing" && s.labels.monitor === m.name);
    expect(again.map((s) => s.labels.rule_id).sort()).toEqual([rule.json.rule.id, twin.json.rule.id].sort());
    expect(again.map((s) => s.value).sort()).toEqual([0, 1]);
    // The escaped name round-trips: quotes, backslash and newline survive the exposition.
    expect(res.text).toContain('monitor="prod \\"eu\\"\\\\west"');
  });

  it("needs a token with the read scope", async () => {
    const none = await call("GET", "/metrics", { mode: "token" });
    expect(none.status).toBe(401);
    expect(errorCode(none)).toBe("UNAUTHENTICATED");
    const read = await createToken(["read"]);
    const ok = await call("GET", "/metrics", { mode: "token", token: read.secret });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.text).toContain("# TYPE tern_monitor_drift_share gauge");
    const bad = await call("GET", "/metrics", { mode: "token", token: "tern_nope_nope" });
    expect(bad.status).toBe(401);
  });

  it("lets a read token read monitors but not write them", async () => {
    const read = await createToken(["read"]);
    expect((await call("GET", "/api/v1/monitors", { mode: "token", token: read.secret })).status).toBe(200);
    const write = await call("POST", "/api/v1/monitors", { mode: "token", token: read.secret, body: { name: "x", model: { name: "y" } } });
    expect(write.status).toBe(403);
    expect(errorCode(write)).toBe("PERMISSION_DENIED");
  });
});
