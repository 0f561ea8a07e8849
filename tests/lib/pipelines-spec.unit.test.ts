import { describe, expect, it } from "vitest";
import { findCycle, parsePipelineSpec } from "../../worker/lib/pipelines/spec";
import { issues } from "./spec-issues";

const YAML = `
description: Daily SPY prediction
schedule: "0 5 * * 1-5"
timezone: Asia/Seoul
catchup: false
start_date: 2026-01-05
params: {symbol: SPY}
default_args: {retries: 1, retry_delay: 30s}
tasks:
  fetch: {kind: http, url: "https://example.com/prices/{{ params.symbol }}?day={{ ds }}", method: GET, headers: {Authorization: "Bearer {{ secrets.PRICES_TOKEN }}"}}
  features:
    kind: agent
    queue: gpu
    command: "python features.py {{ params.symbol }} {{ outputs.fetch.body.rows }}"
    depends_on: [fetch]
    retries: 2
    retry_exponential_backoff: true
    max_retry_delay: 10m
    execution_timeout: 1h
  gate: {kind: branch, depends_on: features, value: "{{ params.symbol }}", cases: {SPY: [predict]}, default: [skip_day]}
  predict: {kind: agent, command: "python predict.py", depends_on: [gate]}
  skip_day: {kind: noop, depends_on: [gate]}
  store: {kind: noop, depends_on: [predict, skip_day], trigger_rule: none_failed_min_one_success}
`;

describe("parsePipelineSpec", () => {
  it("reads YAML, expands defaults and resolves dates in the pipeline's time zone", () => {
    const spec = parsePipelineSpec(YAML);
    expect(spec.schedule).toBe("0 5 * * 1-5");
    expect(spec.timezone).toBe("Asia/Seoul");
    // Midnight in Seoul (UTC+9) is 15:00 UTC the day before.
    expect(spec.start_date).toBe(Date.UTC(2026, 0, 4, 15, 0, 0));
    expect(spec.max_active_runs).toBe(16);
    expect(spec.tasks.fetch).toMatchObject({ kind: "http", method: "GET", retries: 1, retry_delay_s: 30, timeout_s: 60, depends_on: [], trigger_rule: "all_success" });
    expect(spec.tasks.features).toMatchObject({ kind: "agent", queue: "gpu", retries: 2, retry_delay_s: 30, retry_exponential_backoff: true, max_retry_delay_s: 600, execution_timeout_s: 3600 });
    expect(spec.tasks.gate).toMatchObject({ kind: "branch", depends_on: ["features"], cases: { SPY: ["predict"] }, default: ["skip_day"] });
    expect(spec.tasks.predict).toMatchObject({ queue: "default", retries: 1 });
    expect(spec.tasks.store.trigger_rule).toBe("none_failed_min_one_success");
  });

  it("reads the same spec as JSON text and as an object", () => {
    const obj = { schedule: "@daily", tasks: { a: { kind: "noop" }, b: { kind: "noop", depends_on: ["a"] } } };
    expect(parsePipelineSpec(JSON.stringify(obj))).toEqual(parsePipelineSpec(obj));
    expect(parsePipelineSpec(obj).schedule).toBe("0 0 * * *");
  });

  it("names an unknown task kind and lists the known ones", () => {
    expect(issues({ tasks: { fetch: { kind: "htp", url: "https://x" } } })).toEqual(["tasks.fetch.kind: unknown task kind 'htp' (known kinds: noop, http, agent, branch, wait, dataset_snapshot, drift_check, tuning_study, register_model, dataset_sensor)"]);
  });

  it("names the tasks along a cycle, in the direction work flows", () => {
    const out = issues({ tasks: { a: { kind: "noop", depends_on: ["c"] }, b: { kind: "noop", depends_on: ["a"] }, c: { kind: "noop", depends_on: ["b"] }, d: { kind: "noop" } } });
    expect(out).toEqual(["tasks.a.depends_on: dependency cycle: a → b → c → a"]);
    expect(issues({ tasks: { a: { kind: "noop", depends_on: ["a"] } } })).toEqual(["tasks.a.depends_on: dependency cycle: a → a"]);
  });

  it("finds cycles in larger graphs and none in a DAG", () => {
    expect(findCycle({ a: [], b: ["a"], c: ["a", "b"], d: ["c"] })).toBeNull();
    expect(findCycle({ a: [], b: ["a", "d"], c: ["b"], d: ["c"] })).toEqual(["b", "c", "d", "b"]);
  });

  it("names a dangling dependency with its index", () => {
    expect(issues({ tasks: { a: { kind: "noop" }, b: { kind: "noop", depends_on: ["a", "nope"] } } })).toEqual(["tasks.b.depends_on[1]: unknown task 'nope'"]);
  });

  it("rejects bad cron expressions and presets", () => {
    expect(issues({ schedule: "0 5 * *", tasks: { a: { kind: "noop" } } })).toEqual([
      "schedule: '0 5 * *' is not a cron expression: expected 5 fields (minute hour day-of-month month day-of-week), got 4",
    ]);
    expect(issues({ schedule: "61 5 * * *", tasks: { a: { kind: "noop" } } })[0]).toMatch(/^schedule: '61 5 \* \* \*' is not a valid cron expression: .*minute/);
    expect(issues({ schedule: "@fortnightly", tasks: { a: { kind: "noop" } } })[0]).toMatch(/^schedule: unknown preset '@fortnightly'/);
  });

  it("rejects an unknown time zone and bad dates", () => {
    expect(issues({ timezone: "Mars/Olympus", tasks: { a: { kind: "noop" } } })).toEqual([
      "timezone: unknown time zone 'Mars/Olympus' (use an IANA name such as 'Asia/Seoul' or 'UTC')",
    ]);
    expect(issues({ start_date: "2026-02-30", tasks: { a: { kind: "noop" } } })[0]).toMatch(/^start_date: '2026-02-30' is not a date/);
    expect(issues({ start_date: "2026-02-02", end_date: "2026-02-01", tasks: { a: { kind: "noop" } } })).toEqual(["end_date: is before start_date"]);
  });

  it("reports every problem at once, with paths", () => {
    const out = issues({ tasks: { a: { kind: "http", url: "ftp://x", retries: -1 }, b: { kind: "agent" }, c: { kind: "wait" }, "bad id": { kind: "noop" } } });
    expect(out).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^tasks\.a\.retries: /),
        expect.stringMatching(/^tasks\.b\.command: /),
        "tasks.c: give exactly one of 'until' or 'seconds'",
        expect.stringMatching(/^tasks\.bad id: a task id is/),
      ]),
    );
  });

  it("rejects unknown fields rather than ignoring typos", () => {
    expect(issues({ tasks: { a: { kind: "noop", depend_on: ["b"] } } })[0]).toMatch(/^tasks\.a: Unrecognized key.*depend_on/);
    expect(issues({ schedul: "@daily", tasks: { a: { kind: "noop" } } })[0]).toMatch(/Unrecognized key.*schedul/);
  });

  it("checks templates: syntax, names, outputs only from upstream, secrets only in http headers", () => {
    const base = { a: { kind: "noop" } };
    expect(issues({ tasks: { ...base, b: { kind: "agent", command: "echo {{ params.x", depends_on: ["a"] } } })[0]).toMatch(/^tasks\.b\.command: '\{\{' without '\}\}'/);
    expect(issues({ tasks: { ...base, b: { kind: "agent", command: "echo {{ envv.HOME }}" } } })[0]).toMatch(/^tasks\.b\.command: \{\{ envv\.HOME \}\}: unknown name 'envv'/);
    expect(issues({ tasks: { ...base, b: { kind: "agent", command: "echo {{ outputs.a.x }}" } } })).toEqual([
      "tasks.b.command: {{ outputs.a.x }}: task 'a' is not upstream of 'b', so its output is not known when 'b' runs",
    ]);
    expect(issues({ tasks: { ...base, b: { kind: "agent", command: "echo {{ secrets.TOKEN }}" } } })).toEqual(["tasks.b.command: {{ secrets.TOKEN }}: secrets may only be used in http headers"]);
    expect(issues({ tasks: { b: { kind: "http", url: "https://x/{{ secrets.TOKEN }}" } } })).toEqual(["tasks.b.url: {{ secrets.TOKEN }}: secrets may only be used in http headers"]);
    expect(issues({ tasks: { b: { kind: "agent", command: "{{ params.x + 1 }}" } } })[0]).toMatch(/unexpected '\+' \(only dotted paths are allowed, no expressions\)/);
  });

  it("allows outputs of any transitive upstream task", () => {
    const spec = parsePipelineSpec({ tasks: { a: { kind: "noop" }, b: { kind: "noop", depends_on: ["a"] }, c: { kind: "agent", command: "echo {{ outputs.a.n }}", depends_on: ["b"] } } });
    expect(spec.tasks.c.kind).toBe("agent");
  });

  it("requires branch targets to be direct downstream tasks of the branch", () => {
    expect(
      issues({ tasks: { a: { kind: "branch", value: "x", cases: { x: ["b"] }, default: ["c"] }, b: { kind: "noop", depends_on: ["a"] }, c: { kind: "noop", depends_on: ["b"] } } }),
    ).toEqual(["tasks.a.default[0]: 'c' is not a task that depends directly on 'a'"]);
  });

  it("reports YAML syntax errors with their position", () => {
    expect(issues("tasks:\n  a: {kind: noop\n")[0]).toMatch(/^spec: not valid YAML or JSON at line \d+, column \d+/);
    expect(issues("- 1\n- 2\n")).toEqual(["spec: must be an object with at least 'tasks'"]);
  });

  it("needs at least one task", () => {
    expect(issues({ tasks: {} })).toEqual(["tasks: a pipeline needs at least one task"]);
  });
});

describe("the README's pipeline", () => {
  it("is a valid spec", async () => {
    const { readFileSync } = await import("node:fs");
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const block = /```yaml\n(# spy-daily\.yaml\n[\s\S]*?)```/.exec(readme);
    expect(block, "the spy-daily.yaml block").not.toBeNull();
    const spec = parsePipelineSpec(block![1]);
    expect(Object.keys(spec.tasks)).toEqual(["fetch", "features", "predict", "store"]);
    expect(spec.tasks.features).toMatchObject({ kind: "agent", retries: 2, retry_exponential_backoff: true, max_retry_delay_s: 900 });
  });
});
