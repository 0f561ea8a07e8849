import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { StudyObject } from "../../worker/tuning/study-object";
import { ADMIN_TOKEN, call, errorCode } from "./helpers";

const api = (method: string, path: string, body?: unknown) => call(method, `/api/v1${path}`, { token: ADMIN_TOKEN, body });

async function createStudy(body: Record<string, unknown>): Promise<string> {
  const res = await api("POST", "/studies", body);
  expect(res.status, res.text).toBe(201);
  return res.json.study_id;
}

async function d1Row(studyId: string): Promise<Record<string, unknown> | null> {
  return env.DB.prepare("SELECT * FROM studies WHERE study_id = ?").bind(studyId).first();
}

/**
 * The D1 row after reading the study through the API. A busy study is mirrored into D1 at most every
 * quarter of a second; reading it cuts that wait short and returns once D1 agrees.
 */
async function mirroredRow(studyId: string): Promise<Record<string, unknown> | null> {
  expect((await api("GET", `/studies/${studyId}`)).status).toBe(200);
  return d1Row(studyId);
}

const SPACE = {
  x: { type: "float", low: -5, high: 5 },
  lr: { type: "float", low: 1e-5, high: 1e-1, log: true },
  n: { type: "int", low: 1, high: 8 },
  opt: { type: "categorical", choices: ["sgd", "adam", null] },
};

describe("studies: create, get, list, delete", () => {
  it("creates with defaults, gets by id and by name, and refuses a taken name unless load_if_exists", async () => {
    const res = await api("POST", "/studies", { name: "s-basic", user_attrs: { team: "vision" } });
    expect(res.status).toBe(201);
    const study = res.json.study;
    expect(res.json.study_id).toMatch(/^[0-9a-f]{32}$/);
    expect(study).toMatchObject({
      name: "s-basic",
      directions: ["minimize"],
      sampler: { type: "tpe" },
      pruner: null,
      heartbeat_interval: null,
      n_trials: 0,
      state_counts: { RUNNING: 0, COMPLETE: 0, PRUNED: 0, FAIL: 0, WAITING: 0 },
      best_trial: null,
      user_attrs: { team: "vision" },
      experiment_id: null,
    });
    const got = await api("GET", `/studies/${res.json.study_id}`);
    expect(got.json.study).toEqual(study);
    expect((await api("GET", "/studies/by-name/s-basic")).json.study.study_id).toBe(res.json.study_id);

    const again = await api("POST", "/studies", { name: "s-basic" });
    expect(again.status).toBe(409);
    expect(errorCode(again)).toBe("RESOURCE_ALREADY_EXISTS");
    const loaded = await api("POST", "/studies", { name: "s-basic", load_if_exists: true });
    expect(loaded.status).toBe(200);
    expect(loaded.json.study_id).toBe(res.json.study_id);
  });

  it("lists from D1 newest first with a name filter and pages", async () => {
    for (const name of ["list-a", "list-b", "list-c", "other-d"]) await createStudy({ name });
    const all = await api("GET", `/studies?filter=${encodeURIComponent("name LIKE 'list-%'")}&max_results=2`);
    expect(all.status).toBe(200);
    expect(all.json.studies.map((s: { name: string }) => s.name)).toEqual(["list-c", "list-b"]);
    const next = await api("GET", `/studies?filter=${encodeURIComponent("name LIKE 'list-%'")}&max_results=2&page_token=${all.json.next_page_token}`);
    expect(next.json.studies.map((s: { name: string }) => s.name)).toEqual(["list-a"]);
    expect(next.json.next_page_token).toBeNull();
    const bad = await api("GET", `/studies?filter=${encodeURIComponent("tags.x = 'y'")}`);
    expect(bad.status).toBe(400);
    expect(errorCode(bad)).toBe("INVALID_PARAMETER_VALUE");
  });

  it("deletes the object's storage and the D1 row", async () => {
    const id = await createStudy({ name: "s-delete" });
    await api("POST", `/studies/${id}/ask`, { search_space: SPACE });
    expect((await api("DELETE", `/studies/${id}`)).status).toBe(200);
    expect(await d1Row(id)).toBeNull();
    const stub = env.STUDIES.get(env.STUDIES.idFromName(id));
    const tables = await runInDurableObject(stub, (_o: StudyObject, state) => state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'").toArray());
    expect(tables).toEqual([]);
    expect((await api("GET", `/studies/${id}`)).status).toBe(404);
    expect((await api("DELETE", `/studies/${id}`)).status).toBe(404);
    // The name is free again.
    expect((await api("POST", "/studies", { name: "s-delete" })).status).toBe(201);
  });

  it("merges study user attrs", async () => {
    const id = await createStudy({ name: "s-attrs", user_attrs: { a: 1 } });
    const res = await api("PATCH", `/studies/${id}`, { user_attrs: { b: [1, 2] } });
    expect(res.json.study.user_attrs).toEqual({ a: 1, b: [1, 2] });
    expect(JSON.parse(String((await mirroredRow(id))?.user_attrs))).toEqual({ a: 1, b: [1, 2] });
  });
});

describe("ask, suggest, report, tell", () => {
  it("samples a whole search space on ask, inside each distribution", async () => {
    const id = await createStudy({ name: "s-ask", sampler: { type: "random", seed: 1 } });
    for (let i = 0; i < 5; i++) {
      const res = await api("POST", `/studies/${id}/ask`, { search_space: SPACE });
      expect(res.status).toBe(200);
      expect(res.json.trial_number).toBe(i);
      const p = res.json.params;
      expect(p.x).toBeGreaterThanOrEqual(-5);
      expect(p.x).toBeLessThan(5);
      expect(p.lr).toBeGreaterThanOrEqual(1e-5);
      expect(p.lr).toBeLessThanOrEqual(1e-1);
      expect(Number.isInteger(p.n) && p.n >= 1 && p.n <= 8).toBe(true);
      expect(["sgd", "adam", null]).toContain(p.opt);
      expect(res.json.trial.state).toBe("RUNNING");
      expect(res.json.trial.distributions.lr).toEqual({ type: "float", low: 1e-5, high: 1e-1, log: true, step: null });
    }
  });

  it("ask needs no body: none, an empty one with or without a JSON content type, or {}", async () => {
    const id = await createStudy({ name: "s-ask-empty", sampler: { type: "random" } });
    const variants: { raw?: string; headers?: Record<string, string> }[] = [
      {},
      { raw: "" },
      { raw: "", headers: { "Content-Type": "application/json" } },
      { raw: "", headers: { "Content-Type": "application/x-www-form-urlencoded" } },
      { raw: "{}", headers: { "Content-Type": "application/json" } },
    ];
    const numbers: number[] = [];
    for (const v of variants) {
      const res = await call("POST", `/api/v1/studies/${id}/ask`, { token: ADMIN_TOKEN, ...v });
      expect(res.status, `${JSON.stringify(v)}: ${res.text}`).toBe(200);
      expect(res.json.params).toEqual({});
      numbers.push(res.json.trial_number);
    }
    expect(numbers).toEqual([0, 1, 2, 3, 4]);
    // A body that is there must still be JSON, and valid.
    const text = await call("POST", `/api/v1/studies/${id}/ask`, { token: ADMIN_TOKEN, raw: "x=1", headers: { "Content-Type": "text/plain" } });
    expect(text.status).toBe(415);
    const broken = await call("POST", `/api/v1/studies/${id}/ask`, { token: ADMIN_TOKEN, raw: "{", headers: { "Content-Type": "application/json" } });
    expect(broken.status).toBe(400);
    expect((await api("GET", `/studies/${id}`)).json.study.n_trials).toBe(5);
  });

  it("define-by-run: suggest returns the same value for a name, refuses an incompatible distribution", async () => {
    const id = await createStudy({ name: "s-suggest" });
    const ask = await api("POST", `/studies/${id}/ask`);
    expect(ask.status).toBe(200);
    expect(ask.json.params).toEqual({});
    const n = ask.json.trial_number;
    const first = await api("POST", `/studies/${id}/trials/${n}/suggest`, { name: "x", distribution: { type: "float", low: 0, high: 1 } });
    expect(first.status).toBe(200);
    const again = await api("POST", `/studies/${id}/trials/${n}/suggest`, { name: "x", distribution: { type: "float", low: 0, high: 1 } });
    expect(again.json.value).toBe(first.json.value);
    const clash = await api("POST", `/studies/${id}/trials/${n}/suggest`, { name: "x", distribution: { type: "categorical", choices: [1, 2] } });
    expect(clash.status).toBe(400);
    expect(errorCode(clash)).toBe("INVALID_PARAMETER_VALUE");
    expect(clash.json.error.message).toContain("'x'");
    const bad = await api("POST", `/studies/${id}/trials/${n}/suggest`, { name: "y", distribution: { type: "float", low: 2, high: 1 } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toMatch(/^distribution: /);
    const trial = (await api("GET", `/studies/${id}/trials/${n}`)).json.trial;
    expect(Object.keys(trial.params)).toEqual(["x"]);
    const told = await api("POST", `/studies/${id}/trials/${n}/tell`, { value: 0.25 });
    expect(told.json.trial).toMatchObject({ state: "COMPLETE", values: [0.25] });
    const late = await api("POST", `/studies/${id}/trials/${n}/suggest`, { name: "z", distribution: { type: "int", low: 0, high: 3 } });
    expect(late.status).toBe(409);
    expect(errorCode(late)).toBe("INVALID_STATE");
  });

  it("report answers should_prune from a median pruner, and a pruned trial keeps its last value", async () => {
    const id = await createStudy({ name: "s-prune", pruner: { type: "median", n_startup_trials: 2 } });
    for (const v of [1, 2]) {
      const n = (await api("POST", `/studies/${id}/ask`)).json.trial_number;
      for (let step = 0; step < 3; step++) expect((await api("POST", `/studies/${id}/trials/${n}/report`, { step, value: v + step })).json.should_prune).toBe(false);
      await api("POST", `/studies/${id}/trials/${n}/tell`, { value: v });
    }
    const good = (await api("POST", `/studies/${id}/ask`)).json.trial_number;
    expect((await api("POST", `/studies/${id}/trials/${good}/report`, { step: 0, value: 0.5 })).json.should_prune).toBe(false);
    const bad = (await api("POST", `/studies/${id}/ask`)).json.trial_number;
    const verdict = await api("POST", `/studies/${id}/trials/${bad}/report`, { step: 0, value: 10 });
    expect(verdict.status).toBe(200);
    expect(verdict.json.should_prune).toBe(true);
    const pruned = await api("POST", `/studies/${id}/trials/${bad}/tell`, { state: "PRUNED" });
    expect(pruned.json.trial).toMatchObject({ state: "PRUNED", values: [10], intermediate_values: [{ step: 0, value: 10 }] });
    const after = await api("POST", `/studies/${id}/trials/${bad}/report`, { step: 1, value: 1 });
    expect(after.status).toBe(409);
    expect(errorCode(after)).toBe("INVALID_STATE");
    // A NaN report is kept as null; a repeated step is ignored, as Optuna does.
    await api("POST", `/studies/${id}/trials/${good}/report`, { step: 1, value: null });
    await api("POST", `/studies/${id}/trials/${good}/report`, { step: 1, value: 3 });
    expect((await api("GET", `/studies/${id}/trials/${good}`)).json.trial.intermediate_values).toEqual([
      { step: 0, value: 0.5 },
      { step: 1, value: null },
    ]);
  });

  it("tell: once only, values must match the directions, NaN and infinity make the trial FAIL", async () => {
    const id = await createStudy({ name: "s-tell", directions: ["minimize", "maximize"], sampler: { type: "random" } });
    const ask = async () => (await api("POST", `/studies/${id}/ask`)).json.trial_number as number;
    const a = await ask();
    const wrongCount = await api("POST", `/studies/${id}/trials/${a}/tell`, { values: [1] });
    expect(wrongCount.status).toBe(400);
    expect(wrongCount.json.error.message).toContain("2 objectives");
    const both = await api("POST", `/studies/${id}/trials/${a}/tell`, { values: [1, 2], value: 1 });
    expect(both.status).toBe(400);
    const nothing = await api("POST", `/studies/${id}/trials/${a}/tell`, {});
    expect(nothing.status).toBe(400);
    const failWithValues = await api("POST", `/studies/${id}/trials/${a}/tell`, { values: [1, 2], state: "FAIL" });
    expect(failWithValues.status).toBe(400);
    const notANumber = await api("POST", `/studies/${id}/trials/${a}/tell`, { values: [1, "abc"] });
    expect(notANumber.status).toBe(400);
    // None of those wrote anything.
    expect((await api("GET", `/studies/${id}/trials/${a}`)).json.trial.state).toBe("RUNNING");
    const ok = await api("POST", `/studies/${id}/trials/${a}/tell`, { values: [1, 2] });
    expect(ok.json.trial).toMatchObject({ state: "COMPLETE", values: [1, 2] });
    const twice = await api("POST", `/studies/${id}/trials/${a}/tell`, { values: [1, 2] });
    expect(twice.status).toBe(409);
    expect(errorCode(twice)).toBe("INVALID_STATE");
    expect(twice.json.error.message).toContain("already COMPLETE");

    const b = await ask();
    expect((await api("POST", `/studies/${id}/trials/${b}/tell`, { values: [null, 1] })).json.trial).toMatchObject({ state: "FAIL", values: null });
    const c = await ask();
    expect((await api("POST", `/studies/${id}/trials/${c}/tell`, { values: ["inf", 1] })).json.trial).toMatchObject({ state: "FAIL", values: null });
    const d = await ask();
    expect((await api("POST", `/studies/${id}/trials/${d}/tell`, { state: "FAIL" })).json.trial.state).toBe("FAIL");
    expect((await api("POST", `/studies/${id}/trials/99/tell`, { values: [1, 2] })).status).toBe(404);
    // Reports are single-objective only.
    const e = await ask();
    expect((await api("POST", `/studies/${id}/trials/${e}/report`, { step: 0, value: 1 })).status).toBe(400);
    const study = (await api("GET", `/studies/${id}`)).json.study;
    expect(study.state_counts).toEqual({ RUNNING: 1, COMPLETE: 1, PRUNED: 0, FAIL: 3, WAITING: 0 });
    expect(study.best_trial).toBeNull();
  });

  it("best-trials: the best trial, or the Pareto front for several objectives", async () => {
    const single = await createStudy({ name: "s-best", directions: ["maximize"] });
    for (const v of [3, 7, 5]) {
      const n = (await api("POST", `/studies/${single}/ask`)).json.trial_number;
      await api("POST", `/studies/${single}/trials/${n}/tell`, { value: v });
    }
    expect((await api("GET", `/studies/${single}/best-trials`)).json.trials.map((t: { values: number[] }) => t.values)).toEqual([[7]]);
    expect((await api("GET", `/studies/${single}`)).json.study.best_trial.values).toEqual([7]);
    expect((await d1Row(single))?.best_value).toBe(7);

    const multi = await createStudy({ name: "s-pareto", directions: ["minimize", "minimize"], sampler: { type: "random" } });
    const points = [
      [1, 5],
      [2, 2],
      [3, 3], // dominated by [2, 2]
      [5, 1],
      [0, 0], // infeasible below
    ];
    for (const [i, values] of points.entries()) {
      const n = (await api("POST", `/studies/${multi}/ask`)).json.trial_number;
      await api("POST", `/studies/${multi}/trials/${n}/tell`, { values, constraints: i === 4 ? [1] : [0] });
    }
    const front = (await api("GET", `/studies/${multi}/best-trials`)).json.trials.map((t: { number: number }) => t.number);
    expect(front).toEqual([0, 1, 3]);
  });
});

describe("registered samplers", () => {
  it("grid: every point once, and a parameter outside the grid is a 400", async () => {
    const id = await createStudy({ name: "s-grid", sampler: { type: "grid", search_space: { x: [0, 1], c: ["a", "b"] } } });
    const space = { x: { type: "int", low: 0, high: 1 }, c: { type: "categorical", choices: ["a", "b"] } };
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const { trial_number, params } = (await api("POST", `/studies/${id}/ask`, { search_space: space })).json;
      seen.add(JSON.stringify([params.x, params.c]));
      await api("POST", `/studies/${id}/trials/${trial_number}/tell`, { value: i });
    }
    expect(seen.size).toBe(4);
    const n = (await api("POST", `/studies/${id}/ask`, {})).json.trial_number;
    const outside = await api("POST", `/studies/${id}/trials/${n}/suggest`, { name: "y", distribution: { type: "float", low: 0, high: 1 } });
    expect(outside.status).toBe(400);
    expect(errorCode(outside)).toBe("INVALID_PARAMETER_VALUE");
    expect(outside.json.error.message).toContain("'y'");
    expect((await api("GET", `/studies/${id}/trials/${n}`)).json.trial.params).toEqual({});
    const badGrid = await api("POST", "/studies", { name: "s-grid-bad", sampler: { type: "grid", search_space: { x: [] } } });
    expect(badGrid.status).toBe(400);
    expect(badGrid.json.error.message).toMatch(/^sampler: sampler\.search_space\.x/);
  });

  it("multi-objective TPE samples a study with several directions", async () => {
    const id = await createStudy({ name: "s-motpe", directions: ["minimize", "maximize"], sampler: { type: "tpe", seed: 1, n_startup_trials: 3 } });
    for (let i = 0; i < 6; i++) {
      const { trial_number, params } = (await api("POST", `/studies/${id}/ask`, { search_space: { x: SPACE.x } })).json;
      expect(params.x).toBeGreaterThanOrEqual(-5);
      await api("POST", `/studies/${id}/trials/${trial_number}/tell`, { values: [params.x ** 2, -((params.x - 1) ** 2)] });
    }
    const front = (await api("GET", `/studies/${id}/best-trials`)).json.trials;
    expect(front.length).toBeGreaterThan(0);
    expect((await api("GET", `/studies/${id}`)).json.study.state_counts.COMPLETE).toBe(6);
  });
});

describe("param importances", () => {
  it("ranks the parameter the objective depends on first, sums to 1, and checks the objective index", async () => {
    const id = await createStudy({ name: "s-importance", sampler: { type: "random", seed: 11 } });
    for (let i = 0; i < 30; i++) {
      const { trial_number, params } = (await api("POST", `/studies/${id}/ask`, { search_space: { x: SPACE.x, n: SPACE.n, opt: SPACE.opt } })).json;
      await api("POST", `/studies/${id}/trials/${trial_number}/tell`, { value: params.x ** 2 + 0.01 * params.n });
    }
    const res = await api("GET", `/studies/${id}/param-importances`);
    expect(res.status).toBe(200);
    const imps = res.json.importances as { name: string; importance: number }[];
    expect(imps.map((i) => i.name).sort()).toEqual(["n", "opt", "x"]);
    expect(imps[0].name).toBe("x");
    expect(imps.reduce((a, i) => a + i.importance, 0)).toBeCloseTo(1, 9);
    const bad = await api("GET", `/studies/${id}/param-importances?objective=1`);
    expect(bad.status).toBe(400);
    expect(errorCode(bad)).toBe("INVALID_PARAMETER_VALUE");
  });
});

describe("enqueue, attrs, trial listing", () => {
  it("hands out enqueued trials first, with their params fixed and the rest sampled", async () => {
    const id = await createStudy({ name: "s-enqueue", sampler: { type: "random", seed: 3 } });
    const first = await api("POST", `/studies/${id}/enqueue`, { params: { x: 0.5, opt: "adam" }, user_attrs: { source: "manual" } });
    expect(first.json.trial_number).toBe(0);
    const second = await api("POST", `/studies/${id}/enqueue`, { params: { x: -1 } });
    expect(second.json.trial_number).toBe(1);
    const waiting = (await api("GET", `/studies/${id}/trials?state=WAITING`)).json.trials;
    expect(waiting.map((t: { params: unknown }) => t.params)).toEqual([{ x: 0.5, opt: "adam" }, { x: -1 }]);
    expect((await api("GET", `/studies/${id}`)).json.study.state_counts.WAITING).toBe(2);

    const a = await api("POST", `/studies/${id}/ask`, { search_space: SPACE });
    expect(a.json.trial_number).toBe(0);
    expect(a.json.params).toMatchObject({ x: 0.5, opt: "adam" });
    expect(typeof a.json.params.lr).toBe("number");
    expect(a.json.trial.user_attrs).toEqual({ source: "manual" });
    const b = await api("POST", `/studies/${id}/ask`);
    expect(b.json.trial_number).toBe(1);
    const x = await api("POST", `/studies/${id}/trials/1/suggest`, { name: "x", distribution: { type: "float", low: -5, high: 5 } });
    expect(x.json.value).toBe(-1);
    expect((await api("POST", `/studies/${id}/ask`)).json.trial_number).toBe(2);
    expect((await mirroredRow(id))?.n_waiting).toBe(0);
  });

  it("merges trial user attrs", async () => {
    const id = await createStudy({ name: "s-trial-attrs" });
    const n = (await api("POST", `/studies/${id}/ask`)).json.trial_number;
    await api("PATCH", `/studies/${id}/trials/${n}`, { user_attrs: { a: 1 } });
    const res = await api("PATCH", `/studies/${id}/trials/${n}`, { user_attrs: { b: "two" } });
    expect(res.json.trial.user_attrs).toEqual({ a: 1, b: "two" });
    expect((await api("PATCH", `/studies/${id}/trials/7`, { user_attrs: { a: 1 } })).status).toBe(404);
  });

  it("pages trials in number order and filters them by state", async () => {
    const id = await createStudy({ name: "s-page", sampler: { type: "random" } });
    for (let i = 0; i < 7; i++) {
      const n = (await api("POST", `/studies/${id}/ask`, { search_space: { x: SPACE.x } })).json.trial_number;
      if (i % 3 === 0) await api("POST", `/studies/${id}/trials/${n}/tell`, { value: i });
      else if (i % 3 === 1) await api("POST", `/studies/${id}/trials/${n}/tell`, { state: "PRUNED" });
    }
    const numbers: number[] = [];
    let token: string | null = null;
    do {
      const res: Awaited<ReturnType<typeof api>> = await api("GET", `/studies/${id}/trials?max_results=3${token ? `&page_token=${token}` : ""}`);
      numbers.push(...res.json.trials.map((t: { number: number }) => t.number));
      token = res.json.next_page_token;
    } while (token);
    expect(numbers).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const done = await api("GET", `/studies/${id}/trials?state=COMPLETE,PRUNED`);
    expect(done.json.trials.map((t: { number: number; state: string }) => [t.number, t.state])).toEqual([
      [0, "COMPLETE"],
      [1, "PRUNED"],
      [3, "COMPLETE"],
      [4, "PRUNED"],
      [6, "COMPLETE"],
    ]);
    const bad = await api("GET", `/studies/${id}/trials?state=DONE`);
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toContain("DONE");
  });
});

describe("concurrency, heartbeats, determinism", () => {
  it("64 concurrent asks get 64 distinct numbers; 64 concurrent tells all land, and D1 counts agree", async () => {
    const id = await createStudy({ name: "s-concurrent", sampler: { type: "tpe", n_startup_trials: 5 } });
    const asks = await Promise.all(Array.from({ length: 64 }, () => api("POST", `/studies/${id}/ask`, { search_space: { x: SPACE.x, n: SPACE.n } })));
    expect(asks.every((r) => r.status === 200)).toBe(true);
    const numbers = asks.map((r) => r.json.trial_number as number).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 64 }, (_, i) => i));
    const tells = await Promise.all(numbers.map((n) => api("POST", `/studies/${id}/trials/${n}/tell`, { value: n % 7 })));
    expect(tells.every((r) => r.status === 200 && r.json.trial.state === "COMPLETE")).toBe(true);
    const study = (await api("GET", `/studies/${id}`)).json.study;
    expect(study.state_counts).toEqual({ RUNNING: 0, COMPLETE: 64, PRUNED: 0, FAIL: 0, WAITING: 0 });
    const row = await d1Row(id);
    expect(row).toMatchObject({ n_trials: 64, n_complete: 64, n_running: 0, best_value: 0 });
    // And after the tells, TPE (past its startup) still asks fine.
    expect((await api("POST", `/studies/${id}/ask`, { search_space: { x: SPACE.x, n: SPACE.n } })).json.trial_number).toBe(64);
  }, 120_000);

  it("fails RUNNING trials whose heartbeat is stale when the alarm fires, and re-enqueues their params", async () => {
    const id = await createStudy({ name: "s-heartbeat", heartbeat_interval: 30, failed_trial_max_retry: 1, sampler: { type: "random" } });
    expect((await api("GET", `/studies/${id}`)).json.study).toMatchObject({ heartbeat_interval: 30, grace_period: null, failed_trial_max_retry: 1 });
    const stale = (await api("POST", `/studies/${id}/ask`, { search_space: { x: SPACE.x } })).json;
    const alive = (await api("POST", `/studies/${id}/ask`, { search_space: { x: SPACE.x } })).json.trial_number;
    expect(stale.trial.last_heartbeat_time).toEqual(expect.any(Number));
    expect((await api("POST", `/studies/${id}/trials/${alive}/heartbeat`)).status).toBe(200);
    const stub = env.STUDIES.get(env.STUDIES.idFromName(id));
    // Age one trial's last heartbeat past Optuna's default grace (2 × 30 s) instead of waiting a minute.
    const age = (n: number) =>
      runInDurableObject(stub, (obj: StudyObject) => {
        const study = (obj as unknown as { study: { trials: { lastHeartbeatTime: number }[] } }).study;
        study.trials[n].lastHeartbeatTime -= 61_000;
      });
    await age(stale.trial_number);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const trials = (await api("GET", `/studies/${id}/trials`)).json.trials;
    expect(trials.map((t: { state: string }) => t.state)).toEqual(["FAIL", "RUNNING", "WAITING"]);
    expect(trials[2].params).toEqual({ x: stale.params.x });
    const systemAttrs = await runInDurableObject(stub, (_o: StudyObject, state) =>
      JSON.parse(String(state.storage.sql.exec("SELECT system_attrs FROM trials WHERE number = 2").one().system_attrs)),
    );
    expect(systemAttrs).toMatchObject({ failed_trial: stale.trial_number, retry_history: [stale.trial_number] });
    // The alarm mirrored its change into D1.
    expect(await d1Row(id)).toMatchObject({ n_fail: 1, n_running: 1, n_waiting: 1 });
    // The retry runs with the same params; once it goes stale too, the retry budget (1) is spent.
    const retry = (await api("POST", `/studies/${id}/ask`, { search_space: { x: SPACE.x } })).json;
    expect(retry.trial_number).toBe(2);
    expect(retry.params.x).toBe(stale.params.x);
    await api("POST", `/studies/${id}/trials/${alive}/tell`, { value: 1 });
    await age(2);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const after = (await api("GET", `/studies/${id}/trials`)).json.trials;
    expect(after.map((t: { state: string }) => t.state)).toEqual(["FAIL", "COMPLETE", "FAIL"]);
    expect((await api("POST", `/studies/${id}/trials/2/heartbeat`)).status).toBe(409);
    // Nothing RUNNING is left to watch, so no alarm is pending.
    expect(await runDurableObjectAlarm(stub)).toBe(false);
  });

  it("the same seed gives the same params, through TPE's startup and after it", async () => {
    const run = async (name: string) => {
      const id = await createStudy({ name, sampler: { type: "tpe", seed: 1234, n_startup_trials: 4 } });
      const seen: unknown[] = [];
      for (let i = 0; i < 10; i++) {
        const { trial_number, params } = (await api("POST", `/studies/${id}/ask`, { search_space: SPACE })).json;
        const extra = (await api("POST", `/studies/${id}/trials/${trial_number}/suggest`, { name: "dropout", distribution: { type: "float", low: 0, high: 0.5, step: 0.1 } })).json.value;
        seen.push({ ...params, dropout: extra });
        await api("POST", `/studies/${id}/trials/${trial_number}/tell`, { value: (params.x as number) ** 2 + extra });
      }
      return seen;
    };
    const a = await run("s-seed-a");
    const b = await run("s-seed-b");
    expect(a).toEqual(b);
    const c = await createStudy({ name: "s-seed-c", sampler: { type: "tpe", seed: 99 } });
    const other = (await api("POST", `/studies/${c}/ask`, { search_space: SPACE })).json.params;
    const { dropout: _dropout, ...firstOfA } = a[0] as Record<string, unknown>;
    expect(other).not.toEqual(firstOfA);
  }, 60_000);
});

describe("bad input: a 4xx in the error shape, nothing written", () => {
  it("refuses bad study configs naming the field, and creates nothing", async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ name: "bad-1", sampler: { type: "annealing" } }, /^sampler: Unknown sampler type/],
      [{ name: "bad-2", sampler: { type: "tpe", n_startup_trials: -1 } }, /sampler\.n_startup_trials/],
      [{ name: "bad-3", sampler: { type: "tpe", seed: 1.5 } }, /sampler\.seed/],
      [{ name: "bad-4", pruner: { type: "median", n_startup_trials: -2 } }, /^pruner/],
      [{ name: "bad-5", pruner: { type: "nonsense" } }, /^pruner/],
      [{ name: "bad-6", directions: ["up"] }, /directions/],
      [{ name: "bad-7", grace_period: 5 }, /^grace_period/],
      [{ name: "bad-8", failed_trial_max_retry: 2 }, /^failed_trial_max_retry/],
      [{ name: "bad-9", experiment_id: "987654" }, /^experiment_id/],
      [{ name: "bad-10", directions: ["minimize", "maximize"], sampler: { type: "random" }, pruner: { type: "median" } }, /^pruner/],
      [{ name: "" }, /name/],
      [{ name: "bad-12", surprise: true }, /surprise|Unrecognized/],
    ];
    for (const [body, message] of cases) {
      const res = await api("POST", "/studies", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(errorCode(res)).toBe("INVALID_PARAMETER_VALUE");
      expect(res.json.error.message, JSON.stringify(body)).toMatch(message);
    }
    const { results } = await env.DB.prepare("SELECT name FROM studies WHERE name LIKE 'bad-%'").all();
    expect(results).toEqual([]);
  });

  it("refuses bad trial operations without changing the study", async () => {
    const id = await createStudy({ name: "s-bad-ops", sampler: { type: "random" } });
    const n = (await api("POST", `/studies/${id}/ask`, { search_space: { x: SPACE.x } })).json.trial_number;
    const before = await api("GET", `/studies/${id}/trials`);
    const revision = (await d1Row(id))?.revision;
    const cases: [string, string, unknown, number][] = [
      ["POST", `/studies/${id}/ask`, { search_space: { y: { type: "float", low: 1, high: 0 } } }, 400],
      ["POST", `/studies/${id}/ask`, { search_space: { y: { type: "float", low: 0, high: 1, log: true } } }, 400],
      ["POST", `/studies/${id}/ask`, { search_space: { y: { type: "triangle" } } }, 400],
      ["POST", `/studies/${id}/ask`, { space: {} }, 400],
      ["POST", `/studies/${id}/trials/${n}/suggest`, { name: "y", distribution: { type: "categorical", choices: [] } }, 400],
      ["POST", `/studies/${id}/trials/${n}/suggest`, { name: "x", distribution: { type: "int", low: 0, high: 3 } }, 400],
      ["POST", `/studies/${id}/trials/${n}/report`, { step: -1, value: 1 }, 400],
      ["POST", `/studies/${id}/trials/${n}/report`, { step: 1.5, value: 1 }, 400],
      ["POST", `/studies/${id}/trials/${n}/report`, { step: 1, value: "lots" }, 400],
      ["POST", `/studies/${id}/trials/${n}/tell`, { values: [1, 2] }, 400],
      ["POST", `/studies/${id}/trials/${n}/tell`, { value: 1, state: "DONE" }, 400],
      ["POST", `/studies/${id}/trials/${n}/tell`, { state: "PRUNED", value: 3 }, 400],
      ["POST", `/studies/${id}/trials/${n}/tell`, { value: 1, constraints: ["a"] }, 400],
      ["POST", `/studies/${id}/trials/42/suggest`, { name: "x", distribution: SPACE.x }, 404],
      ["POST", `/studies/${id}/trials/42/report`, { step: 0, value: 1 }, 404],
      ["POST", `/studies/${id}/trials/42/heartbeat`, undefined, 404],
      ["GET", `/studies/${id}/trials/42`, undefined, 404],
      ["POST", `/studies/${id}/enqueue`, { params: { x: { nested: true } } }, 400],
      ["PATCH", `/studies/${id}`, { user_attrs: "no" }, 400],
      ["GET", `/studies/${"f".repeat(32)}`, undefined, 404],
      ["POST", `/studies/${"f".repeat(32)}/ask`, {}, 404],
      ["GET", "/studies/not-an-id", undefined, 400],
      ["GET", `/studies/${id}/trials/-1`, undefined, 400],
      ["GET", `/studies/${id}/trials?page_token=%%%`, undefined, 400],
    ];
    for (const [method, path, body, status] of cases) {
      const res = await api(method, path, body);
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}: ${res.text}`).toBe(status);
      errorCode(res);
    }
    expect((await api("GET", `/studies/${id}/trials`)).json).toEqual(before.json);
    expect((await d1Row(id))?.revision).toBe(revision);
    // Probing an unknown id left no Durable Object storage behind.
    const ghost = env.STUDIES.get(env.STUDIES.idFromName("f".repeat(32)));
    const tables = await runInDurableObject(ghost, (_o: StudyObject, state) => state.storage.sql.exec("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'meta'").one().n);
    expect(tables).toBe(0);
  });

  it("needs write scope for every POST", async () => {
    const id = await createStudy({ name: "s-scope" });
    const token = (await call("POST", "/api/v1/tokens", { token: ADMIN_TOKEN, body: { name: "reader", scopes: ["read"] } })).json.secret;
    const res = await call("POST", `/api/v1/studies/${id}/ask`, { token, body: {} });
    expect(res.status).toBe(403);
    expect((await call("GET", `/api/v1/studies/${id}`, { token })).status).toBe(200);
  });
});

describe("tracking run link", () => {
  it("ends the run of a trial failed by a missed heartbeat as FAILED, from the alarm and from an ask", async () => {
    const exp = await api("POST", "/experiments", { name: "tuning-link-heartbeat" });
    const experimentId = exp.json.experiment.experiment_id;
    const id = await createStudy({ name: "s-linked-heartbeat", experiment_id: experimentId, heartbeat_interval: 10, sampler: { type: "random" } });
    const stub = env.STUDIES.get(env.STUDIES.idFromName(id));
    const age = (n: number) =>
      runInDurableObject(stub, (obj: StudyObject) => {
        const study = (obj as unknown as { study: { trials: { lastHeartbeatTime: number }[] } }).study;
        study.trials[n].lastHeartbeatTime -= 21_000;
      });
    const first = (await api("POST", `/studies/${id}/ask`, { search_space: { x: SPACE.x } })).json;
    await age(first.trial_number);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const failedByAlarm = (await api("GET", `/runs/${first.trial.run_id}`)).json.run;
    expect(failedByAlarm.status).toBe("FAILED");
    expect(failedByAlarm.end_time).toEqual(expect.any(Number));
    expect(failedByAlarm.params.x).toBe(String(first.params.x));

    // An ask also fails stale trials on its way; reading the study waits for their runs to be ended.
    const second = (await api("POST", `/studies/${id}/ask`)).json;
    await age(second.trial_number);
    const third = (await api("POST", `/studies/${id}/ask`)).json;
    expect((await api("GET", `/studies/${id}`)).json.study.state_counts).toMatchObject({ FAIL: 2, RUNNING: 1 });
    expect((await api("GET", `/runs/${second.trial.run_id}`)).json.run.status).toBe("FAILED");
    expect((await api("GET", `/runs/${third.trial.run_id}`)).json.run.status).toBe("RUNNING");
    // Nothing is left queued in the object's storage.
    const pending = await runInDurableObject(stub, (_o: StudyObject, state) =>
      String(state.storage.sql.exec("SELECT value FROM meta WHERE key = 'pending_run_ends'").one().value),
    );
    expect(JSON.parse(pending)).toEqual([]);
  });

  it("mirrors the summary into D1 after an ask without being read first", async () => {
    const id = await createStudy({ name: "s-mirror-async", sampler: { type: "random" } });
    await api("POST", `/studies/${id}/ask`);
    await api("POST", `/studies/${id}/trials/0/tell`, { value: 3 });
    // The object flushes after replying; wait for it without reading the study through the API.
    const stub = env.STUDIES.get(env.STUDIES.idFromName(id));
    for (let i = 0; i < 100 && (await d1Row(id))?.n_complete !== 1; i++) await runInDurableObject(stub, () => new Promise((r) => setTimeout(r, 10)));
    expect(await d1Row(id)).toMatchObject({ n_trials: 1, n_complete: 1, best_value: 3 });
  });

  it("brings D1 up to an acknowledged tell through its alarm when the flush after the reply never ran", async () => {
    const id = await createStudy({ name: "s-mirror-crash", sampler: { type: "random" } });
    const stub = env.STUDIES.get(env.STUDIES.idFromName(id));
    // The runtime dies right after replying: the flush that would follow never happens.
    await runInDurableObject(stub, (obj: StudyObject) => {
      (obj as unknown as { flush: () => Promise<void> }).flush = () => Promise.resolve();
    });
    expect((await api("POST", `/studies/${id}/ask`)).status).toBe(200);
    expect((await api("POST", `/studies/${id}/trials/0/tell`, { value: 3 })).status).toBe(200);
    expect(await d1Row(id)).toMatchObject({ n_trials: 0, n_complete: 0 });
    // Started again, with nobody touching the study, its alarm is what brings D1 along.
    await runInDurableObject(stub, (obj: StudyObject) => {
      delete (obj as unknown as { flush?: unknown }).flush;
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await d1Row(id)).toMatchObject({ n_trials: 1, n_complete: 1, best_value: 3 });
    // Once D1 has caught up, no alarm is left pending for a study without heartbeats.
    expect(await runDurableObjectAlarm(stub)).toBe(false);
  });


  it("gives each trial a run with its params, the objective as a metric and the final status", async () => {
    const exp = await api("POST", "/experiments", { name: "tuning-link" });
    const experimentId = exp.json.experiment.experiment_id;
    const id = await createStudy({ name: "s-linked", experiment_id: experimentId, sampler: { type: "random" }, pruner: { type: "threshold", upper: 5 } });
    const a = (await api("POST", `/studies/${id}/ask`, { search_space: { x: SPACE.x, opt: SPACE.opt } })).json;
    expect(a.trial.run_id).toMatch(/^[0-9a-f]{32}$/);
    const run = (await api("GET", `/runs/${a.trial.run_id}`)).json.run;
    expect(run.experiment_id).toBe(experimentId);
    expect(run.params.x).toBe(String(a.params.x));
    expect(run.status).toBe("RUNNING");
    await api("POST", `/studies/${id}/trials/${a.trial_number}/tell`, { value: 0.125 });
    const finished = (await api("GET", `/runs/${a.trial.run_id}`)).json.run;
    expect(finished.status).toBe("FINISHED");
    expect(finished.metrics.value.value).toBe(0.125);

    const b = (await api("POST", `/studies/${id}/ask`)).json;
    await api("POST", `/studies/${id}/trials/${b.trial_number}/suggest`, { name: "depth", distribution: { type: "int", low: 1, high: 4 } });
    expect((await api("POST", `/studies/${id}/trials/${b.trial_number}/report`, { step: 0, value: 9 })).json.should_prune).toBe(true);
    await api("POST", `/studies/${id}/trials/${b.trial_number}/tell`, { state: "PRUNED" });
    const killed = (await api("GET", `/runs/${b.trial.run_id}`)).json.run;
    expect(killed.status).toBe("KILLED");
    expect(Object.keys(killed.params)).toEqual(["depth"]);
    expect(killed.metrics.value.value).toBe(9);
  });
});
