import { describe, expect, it } from "vitest";
import { DEFAULT_POKE_INTERVAL_S, DEFAULT_SENSOR_TIMEOUT_S, parsePipelineSpec } from "../../worker/lib/pipelines/spec";
import { issues } from "./spec-issues";

const BUILTINS = `
schedule: {dataset: prices-raw}
tasks:
  snapshot:
    kind: dataset_snapshot
    url: "https://example.com/prices.csv?day={{ ds }}"
    headers: {Authorization: "Bearer {{ secrets.PRICES_TOKEN }}"}
    dataset: prices
    skip_if_unchanged: true
  drift: {kind: drift_check, monitor: spy-monitor, dataset_version: "{{ outputs.snapshot.version }}", fail_on_drift: true, depends_on: snapshot}
  tune: {kind: tuning_study, study: "spy-{{ ds }}", n_trials: 20, direction: maximize, sampler: {type: tpe, seed: 1}, timeout: 2h, depends_on: drift}
  register: {kind: register_model, name: spy-direction, run_id: "{{ conf.run_id }}", alias: champion, depends_on: tune}
  wait: {kind: dataset_sensor, dataset: labels, newer_than: 3}
`;

describe("built-in task kinds in specs", () => {
  it("reads each built-in with its defaults", () => {
    const spec = parsePipelineSpec(BUILTINS);
    expect(spec.schedule).toBeNull();
    expect(spec.datasets).toEqual(["prices-raw"]);
    expect(spec.tasks.snapshot).toMatchObject({ kind: "dataset_snapshot", method: "GET", dataset: "prices", skip_if_unchanged: true, create_dataset: true, timeout_s: 300 });
    expect(spec.tasks.drift).toMatchObject({ kind: "drift_check", monitor: "spy-monitor", dataset_version: "{{ outputs.snapshot.version }}", fail_on_drift: true });
    expect(spec.tasks.tune).toMatchObject({ kind: "tuning_study", n_trials: 20, directions: ["maximize"], count_states: ["COMPLETE", "PRUNED"], poke_interval_s: 10, timeout_s: 7200 });
    expect(spec.tasks.register).toMatchObject({ kind: "register_model", name: "spy-direction", model_path: "model", alias: "champion", tags: {} });
    expect(spec.tasks.wait).toMatchObject({ kind: "dataset_sensor", dataset: "labels", newer_than: 3, poke_interval_s: DEFAULT_POKE_INTERVAL_S, timeout_s: DEFAULT_SENSOR_TIMEOUT_S });
  });

  it("takes a cron and datasets together, and a list of datasets", () => {
    const spec = parsePipelineSpec({ schedule: { cron: "@daily", datasets: ["a", "b", "a"] }, tasks: { x: { kind: "noop" } } });
    expect(spec.schedule).toBe("0 0 * * *");
    expect(spec.datasets).toEqual(["a", "b"]);
    expect(parsePipelineSpec({ schedule: "@daily", tasks: { x: { kind: "noop" } } }).datasets).toEqual([]);
  });

  it("reports bad triggers with their paths", () => {
    expect(issues({ schedule: { dataset: "bad name" }, tasks: { x: { kind: "noop" } } })).toEqual([
      "schedule.dataset: 'bad name' is not a dataset name (letters, digits, '.', '_' and '-', at most 128, starting with a letter or digit)",
    ]);
    expect(issues({ schedule: { dataset: "a", datasets: ["b"] }, tasks: { x: { kind: "noop" } } })).toEqual([
      "schedule: give exactly one of 'dataset' or 'datasets' (or write the cron expression as a string)",
    ]);
    expect(issues({ schedule: { datasets: ["ok", "{{ params.x }}"] }, tasks: { x: { kind: "noop" } } })).toEqual(["schedule.datasets[1]: a trigger names its dataset literally (no templates)"]);
    expect(issues({ schedule: { dataset: "a", cron: "61 * * * *" }, tasks: { x: { kind: "noop" } } })[0]).toMatch(/^schedule\.cron: '61 \* \* \* \*' is not a valid cron expression/);
  });

  it("reports bad built-in arguments exactly", () => {
    expect(issues({ tasks: { s: { kind: "dataset_snapshot", url: "ftp://x/y", dataset: "d" } } })).toEqual(["tasks.s.url: 'ftp://x/y' is not an http(s) URL"]);
    expect(issues({ tasks: { s: { kind: "dataset_snapshot", url: "https://x/y" } } })).toEqual(["tasks.s.dataset: Invalid input: expected string, received undefined"]);
    expect(issues({ tasks: { s: { kind: "dataset_snapshot", url: "https://x/y", dataset: "../etc" } } })).toEqual([
      "tasks.s.dataset: '../etc' is not a dataset name (letters, digits, '.', '_' and '-', at most 128, starting with a letter or digit)",
    ]);
    expect(issues({ tasks: { d: { kind: "drift_check" } } })).toEqual(["tasks.d.monitor: Invalid input: expected string, received undefined"]);
    expect(issues({ tasks: { d: { kind: "drift_check", monitor: "m", dataset_version: 0 } } })[0]).toMatch(/^tasks\.d\.dataset_version: /);
    expect(issues({ tasks: { t: { kind: "tuning_study", study: "s", n_trials: 0 } } })).toEqual(["tasks.t.n_trials: Too small: expected number to be >=1"]);
    expect(issues({ tasks: { t: { kind: "tuning_study", study: "s", n_trials: 5, direction: "minimize", directions: ["maximize"] } } })).toEqual(["tasks.t: give 'direction' or 'directions', not both"]);
    expect(issues({ tasks: { t: { kind: "tuning_study", study: "s", n_trials: 5, sampler: { seed: 1 } } } })).toEqual(["tasks.t.sampler.type: name the sampler type (random, grid, tpe, cmaes, ...)"]);
    expect(issues({ tasks: { t: { kind: "tuning_study", study: "s", n_trials: 5, count_states: ["RUNNING"] } } })[0]).toMatch(/^tasks\.t\.count_states\[0\]: /);
    expect(issues({ tasks: { r: { kind: "register_model", name: "m", run_id: "abc", alias: "v3" } } })).toEqual([
      "tasks.r.alias: 'v3' is not a usable alias (letters, digits, '_' and '-'; not 'latest' nor v<number>)",
    ]);
    expect(issues({ tasks: { r: { kind: "register_model", name: "m", run_id: "abc", model_path: "../other" } } })).toEqual([
      "tasks.r.model_path: must be a relative path inside the run's artifacts (no '..', no leading '/')",
    ]);
    expect(issues({ tasks: { w: { kind: "dataset_sensor", dataset: "d", poke_interval: "soon" } } })).toEqual([
      'tasks.w.poke_interval: must be seconds or a duration such as "30s", "5m", "1h"',
    ]);
    expect(issues({ tasks: { w: { kind: "dataset_sensor", dataset: "d", mode: "reschedule" } } })[0]).toMatch(/^tasks\.w: Unrecognized key: "mode"/);
  });

  it("checks templates of built-ins: upstream outputs only, secrets only in snapshot headers", () => {
    expect(issues({ tasks: { a: { kind: "noop" }, r: { kind: "register_model", name: "m", run_id: "{{ outputs.a.run_id }}" } } })).toEqual([
      "tasks.r.run_id: {{ outputs.a.run_id }}: task 'a' is not upstream of 'r', so its output is not known when 'r' runs",
    ]);
    expect(issues({ tasks: { s: { kind: "dataset_snapshot", url: "https://x/{{ secrets.KEY }}", dataset: "d" } } })).toEqual([
      "tasks.s.url: {{ secrets.KEY }}: secrets may only be used in http headers",
    ]);
    expect(() => parsePipelineSpec({ tasks: { s: { kind: "dataset_snapshot", url: "https://x/y", dataset: "d", headers: { "X-Key": "{{ secrets.KEY }}" } } } })).not.toThrow();
  });
});
