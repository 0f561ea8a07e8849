/**
 * `tern run` and reproductions as a user runs them, against the dev servers the global setup starts:
 * the fixture project tests/fixtures/tiny-ridge (an MLproject whose entry point is a small Node ridge
 * regression logging over MLflow's REST API) in a git repository with a remote and a `.tern` data
 * pointer. `tern run` must record params, git state, the data version, the command's output and status;
 * parameter errors must be clear; a reproduction executed by a real `tern agent` must give the same
 * params, data versions, metrics and model file; a dirty tree is reproduced through its recorded diff,
 * and refused when that diff does not apply; `--remote` hands a run to an agent.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Page } from "playwright-core";
import { CLI, runCli, type CliResult } from "./cli";
import { launch, openPage } from "./browser";
import { TOKEN_MODE_ADMIN } from "./global-setup";

const baseUrl = inject("baseUrl");
const tokenBaseUrl = inject("tokenBaseUrl");
const root = join(import.meta.dirname, "..", "..");
const FIXTURE = join(root, "tests", "fixtures", "tiny-ridge");
const stamp = Date.now().toString(36);
const SCREENSHOTS = process.env.DOCS_SCREENSHOTS === "1";
const docsImages = join(root, "docs", "images");

let home: string;
let project: string;
let bin: string;
// The README's screenshot shows plain names; the test server is fresh, so they cannot collide there.
const dataset = SCREENSHOTS ? "spy-bars" : `e2e-ridge-${stamp}`;
const experiment = SCREENSHOTS ? "spy" : `e2e-projects-${stamp}`;

function spawnCli(args: string[], cwd: string, env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return runCli(args, cwd, { PATH: `${bin}:${process.env.PATH}`, XDG_CONFIG_HOME: join(home, "config"), XDG_CACHE_HOME: join(home, "cache"), TERN_URL: baseUrl, TERN_TOKEN: "", ...env });
}

const tern = (args: string[], env: Record<string, string | undefined> = {}) => spawnCli(args, project, env);
/** One `tern agent` that takes one task from the queue and exits. */
const agent = (queue: string) => spawnCli(["agent", "--queue", queue, "--max-tasks", "1", "--poll", "0.2", "--lease", "30"], home);

async function api(method: string, path: string, body?: unknown, url = baseUrl): Promise<any> {
  const res = await fetch(`${url}/api/v1${path}`, { method, headers: body === undefined ? {} : { "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function mlflowRun(runId: string, url = baseUrl, token?: string): Promise<any> {
  const res = await fetch(`${url}/api/2.0/mlflow/runs/get?run_id=${runId}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  return (await res.json()).run;
}

async function artifact(run: any, path: string): Promise<{ status: number; text: string }> {
  const rootPath = run.info.artifact_uri.replace(/^mlflow-artifacts:\/*/, "");
  const res = await fetch(`${baseUrl}/api/2.0/mlflow-artifacts/artifacts/${rootPath}/${path}`);
  return { status: res.status, text: await res.text() };
}

const runIdOf = (r: CliResult) => {
  const m = /run ([0-9a-f]{32}) in experiment/.exec(r.stderr);
  if (!m) throw new Error(`no run id in:\n${r.stderr}`);
  return m[1];
};
const tagsOf = (run: any) => Object.fromEntries(run.data.tags.map((t: any) => [t.key, t.value]));
const paramsOf = (run: any) => Object.fromEntries((run.data.params ?? []).map((p: any) => [p.key, p.value]));
const metricsOf = (run: any) => Object.fromEntries((run.data.metrics ?? []).map((m: any) => [m.key, m.value]));

const gitEnv = { ...process.env, GIT_AUTHOR_NAME: "e2e", GIT_AUTHOR_EMAIL: "e2e@example.com", GIT_COMMITTER_NAME: "e2e", GIT_COMMITTER_EMAIL: "e2e@example.com" };
const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8", env: gitEnv }).trim();

async function waitPipelineRun(runId: string): Promise<any> {
  for (let i = 0; i < 200; i++) {
    const run = await api("GET", `/pipeline-runs/${runId}`);
    if (run.state === "success" || run.state === "failed") return run;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`pipeline run ${runId} did not end`);
}

let origin: string;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "tern-project-run-"));
  // Agents run `tern ...` from PATH, as they would with the CLI installed.
  bin = join(home, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "tern"), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  chmodSync(join(bin, "tern"), 0o755);

  origin = join(home, "origin.git");
  git(home, "init", "--quiet", "--bare", "-b", "main", origin);
  project = join(home, "tiny-ridge");
  cpSync(FIXTURE, project, { recursive: true });
  mkdirSync(join(project, "data"));
  const rows = ["open,volume,close"];
  for (let i = 1; i <= 40; i++) rows.push(`${100 + i},${1000 + ((i * 37) % 101)},${(100 + i) * 1.01 + ((i * 13) % 7) / 10}`);
  writeFileSync(join(project, "data", "prices.csv"), `${rows.join("\n")}\n`);
  git(project, "init", "--quiet", "-b", "main");
  git(project, "remote", "add", "origin", origin);
  const add = await tern(["data", "add", "data/prices.csv", "--dataset", dataset, "-q"]);
  expect(add.code, add.stderr).toBe(0);
  git(project, "add", "-A");
  git(project, "commit", "--quiet", "-m", "tiny ridge project");
  git(project, "push", "--quiet", "origin", "main");
});

afterAll(() => {
  rmSync(home, { recursive: true, force: true });
});

let runId: string;

describe("tern run", () => {

  it("refuses bad parameters clearly, before creating any run", async () => {
    const notFloat = await tern(["run", ".", "-P", "alpha=high", "--experiment", experiment]);
    expect(notFloat.code).toBe(2);
    expect(notFloat.stderr).toContain("Parameter 'alpha' of entry point 'main' is a float, but got 'high'");
    const unknown = await tern(["run", ".", "-P", "alpha=1", "-P", "epochs=3", "--strict", "--experiment", experiment]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown parameter for entry point 'main': 'epochs' (declared: data, alpha, target)");
    const missing = await tern(["run", ".", "-e", "evaluate", "--experiment", experiment]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("No value given for missing parameters: 'model_uri'");
    const notUri = await tern(["run", ".", "-e", "evaluate", "-P", "model_uri=model.json", "--experiment", experiment]);
    expect(notUri.code).toBe(2);
    expect(notUri.stderr).toContain("Expected URI for parameter 'model_uri' but got 'model.json'");
    const noFile = await tern(["run", ".", "-P", "data=data/nope.csv", "--experiment", experiment]);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain("Got value data/nope.csv for parameter data, but no such file or directory was found.");
    const noEntry = await tern(["run", ".", "-e", "train", "--experiment", experiment]);
    expect(noEntry.code).toBe(2);
    expect(noEntry.stderr).toContain("Could not find 'train' among entry points ['main', 'evaluate']");
    const long = await tern(["run", ".", "-P", `target=${"x".repeat(6001)}`, "--experiment", experiment]);
    expect(long.code).toBe(2);
    expect(long.stderr).toContain("Parameter 'target' has a value of 6001 characters; MLflow's limit is 6000");
    const badArg = await tern(["run", ".", "-P", "alpha", "--experiment", experiment]);
    expect(badArg.code).toBe(2);
    expect(badArg.stderr).toContain("Invalid format for -P parameter: 'alpha'. Use -P name=value.");
    const res = await fetch(`${baseUrl}/api/2.0/mlflow/experiments/get-by-name?experiment_name=${experiment}`);
    expect(res.status).toBe(404);
  });

  it("records params, git state, the data version, the command's output and its status", async () => {
    const r = await tern(["run", ".", "-P", "alpha=0.5", "--experiment", experiment]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("trained on 40 rows, 2 features, alpha 0.5");
    runId = runIdOf(r);
    const run = await mlflowRun(runId);
    expect(run.info.status).toBe("FINISHED");
    expect(paramsOf(run)).toEqual({ data: "data/prices.csv", alpha: "0.5", target: "close" });
    expect(tagsOf(run)).toMatchObject({
      "mlflow.source.type": "PROJECT",
      "mlflow.source.name": origin,
      "mlflow.source.git.commit": git(project, "rev-parse", "HEAD"),
      "mlflow.source.git.repoURL": origin,
      "mlflow.source.git.branch": "main",
      "mlflow.project.entryPoint": "main",
      "tern.git.dirty": "false",
      "tern.project.name": "tiny-ridge",
      "tern.project.environment": JSON.stringify({ type: "python_env", file: "python_env.yaml" }),
    });
    expect(tagsOf(run)["tern.project.command"]).toBe(`node train.mjs --data ${join(project, "data", "prices.csv")} --alpha 0.5 --target close`);
    // The script's own MLflow logging landed in the same run.
    expect(metricsOf(run).rows).toBe(40);
    expect(metricsOf(run).rmse).toBeGreaterThan(0);
    expect((await artifact(run, "model/coefficients.json")).text).toContain('"features"');
    const log = await artifact(run, "tern/output.log");
    expect(log.text).toContain("trained on 40 rows");
    expect(log.text).toContain("logged rmse and model/coefficients.json");
    // The data pointer is a dataset input that lineage resolves to the version.
    expect(run.inputs.dataset_inputs).toHaveLength(1);
    expect(run.inputs.dataset_inputs[0].dataset).toMatchObject({ name: dataset, source_type: "tern" });
    const lineage = await api("GET", `/lineage?object=run:${runId}`);
    expect(lineage.nodes.some((n: any) => n.kind === "dataset_version" && n.label.includes(dataset))).toBe(true);
  });

  it("ends the run FAILED and exits with the command's status", async () => {
    const r = await tern(["run", ".", "-P", "alpha=-1", "--experiment", experiment]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("alpha must be >= 0, got -1");
    const run = await mlflowRun(runIdOf(r));
    expect(run.info.status).toBe("FAILED");
    expect((await artifact(run, "tern/output.log")).text).toContain("alpha must be >= 0");
  });

  it("passes the token to the command in token mode", async () => {
    const r = await tern(["run", ".", "--experiment", experiment], { TERN_URL: tokenBaseUrl, TERN_TOKEN: TOKEN_MODE_ADMIN });
    expect(r.code, r.stderr).toBe(0);
    const run = await mlflowRun(runIdOf(r), tokenBaseUrl, TOKEN_MODE_ADMIN);
    expect(run.info.status).toBe("FINISHED");
    expect(metricsOf(run).rows).toBe(40);
  });

  it("reproduces the run on a real agent: same params, data version, metrics and model", async () => {
    const queue = `repro-${stamp}`;
    const sub = await api("POST", `/runs/${runId}/reproduce`, { queue });
    const ran = await agent(queue);
    expect(ran.code, ran.stdout + ran.stderr).toBe(0);
    const pipelineRun = await waitPipelineRun(sub.pipeline_run_id);
    expect(pipelineRun.state, ran.stdout + ran.stderr).toBe("success");

    const repro = await mlflowRun(sub.run_id);
    expect(repro.info.status).toBe("FINISHED");
    expect(tagsOf(repro)["tern.reproduction_of"]).toBe(runId);
    const { reproductions } = await api("GET", `/runs/${runId}/reproductions`);
    expect(reproductions.map((x: any) => x.run_id)).toEqual([sub.run_id]);
    const cmp = reproductions[0].comparison;
    expect(cmp.reproduced).toBe(true);
    expect(cmp.params.rows.map((x: any) => [x.key, x.equal])).toEqual([["alpha", true], ["data", true], ["target", true]]);
    expect(cmp.data.rows).toEqual([{ key: dataset, original: `${dataset}@1`, reproduction: `${dataset}@1`, equal: true }]);
    expect(cmp.metrics.rows.map((x: any) => [x.key, x.difference])).toEqual([["rmse", 0], ["rows", 0]]);
    expect(cmp.artifacts).toMatchObject({ equal: true, compared: 1, differing: [] });
  });

  it("reproduces a dirty run through its recorded diff, and refuses when the diff does not apply", async () => {
    const train = join(project, "train.mjs");
    const original = readFileSync(train, "utf8");
    writeFileSync(train, original.replace("const alpha = Number(arg(\"alpha\"));", "const alpha = Number(arg(\"alpha\")) * 2; // doubled, uncommitted"));
    try {
      const r = await tern(["run", ".", "-P", "alpha=0.25", "--experiment", experiment]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain("alpha 0.5");
      const dirtyId = runIdOf(r);
      const run = await mlflowRun(dirtyId);
      expect(tagsOf(run)).toMatchObject({ "tern.git.dirty": "true", "tern.git.diff": "tern/git.diff" });
      expect((await artifact(run, "tern/git.diff")).text).toBe(`${git(project, "diff", "HEAD", "--binary")}\n`);

      const queue = `dirty-${stamp}`;
      const sub = await api("POST", `/runs/${dirtyId}/reproduce`, { queue });
      const ran = await agent(queue);
      expect(ran.stdout + ran.stderr).toContain("applied the recorded diff");
      expect((await waitPipelineRun(sub.pipeline_run_id)).state).toBe("success");
      const cmp = await api("GET", `/runs/${dirtyId}/comparison?with=${sub.run_id}`);
      expect(cmp.reproduced).toBe(true);
      expect(cmp.metrics.rows.find((x: any) => x.key === "rmse").difference).toBe(0);
      expect(cmp.artifacts.equal).toBe(true);

      // A diff that does not apply to the commit: the agent refuses and the reproduction fails, saying why.
      const rootPath = run.info.artifact_uri.replace(/^mlflow-artifacts:\/*/, "");
      const broken = "diff --git a/train.mjs b/train.mjs\n--- a/train.mjs\n+++ b/train.mjs\n@@ -1,1 +1,1 @@\n-this line is not in the file\n+neither is this\n";
      const put = await fetch(`${baseUrl}/api/2.0/mlflow-artifacts/artifacts/${rootPath}/tern/git.diff`, { method: "PUT", body: broken });
      expect(put.ok).toBe(true);
      const sub2 = await api("POST", `/runs/${dirtyId}/reproduce`, { queue });
      const ran2 = await agent(queue);
      expect(ran2.stdout + ran2.stderr).toContain("does not apply cleanly");
      expect((await waitPipelineRun(sub2.pipeline_run_id)).state).toBe("failed");
      const failed = await mlflowRun(sub2.run_id);
      expect(failed.info.status).toBe("FAILED");
      expect(tagsOf(failed)["tern.execute.error"]).toContain("does not apply cleanly");
      expect(failed.data.metrics ?? []).toEqual([]);
    } finally {
      writeFileSync(train, original);
    }
  });

  it("runs a project that lives in a subdirectory of its repository, here and on an agent", async () => {
    const mono = join(home, "mono");
    const origin2 = join(home, "mono.git");
    git(home, "init", "--quiet", "--bare", "-b", "main", origin2);
    const sub = join(mono, "models", "ridge");
    mkdirSync(join(mono, "models"), { recursive: true });
    cpSync(FIXTURE, sub, { recursive: true });
    mkdirSync(join(sub, "data"));
    cpSync(join(project, "data", "prices.csv"), join(sub, "data", "prices.csv"));
    writeFileSync(join(mono, "README.md"), "several projects\n");
    git(mono, "init", "--quiet", "-b", "main");
    git(mono, "remote", "add", "origin", origin2);
    const add = await spawnCli(["data", "add", "data/prices.csv", "--dataset", dataset, "-q"], sub);
    expect(add.code, add.stderr).toBe(0);
    git(mono, "add", "-A");
    git(mono, "commit", "--quiet", "-m", "a project in a subdirectory");
    git(mono, "push", "--quiet", "origin", "main");

    const queue = `mono-${stamp}`;
    const r = await spawnCli(["run", ".", "--remote", "--queue", queue, "--experiment", experiment], sub);
    expect(r.code, r.stderr).toBe(0);
    const submitted = JSON.parse(r.stdout);
    expect(tagsOf(await mlflowRun(submitted.run_id))["tern.project.subdirectory"]).toBe("models/ridge");
    const ran = await agent(queue);
    expect(ran.code, ran.stdout + ran.stderr).toBe(0);
    expect((await waitPipelineRun(submitted.pipeline_run_id)).state, ran.stdout + ran.stderr).toBe("success");
    const run = await mlflowRun(submitted.run_id);
    expect(run.info.status).toBe("FINISHED");
    expect(metricsOf(run).rows).toBe(40);
  });

  it("--remote hands the run to an agent", async () => {
    const queue = `remote-${stamp}`;
    const r = await tern(["run", ".", "--remote", "--queue", queue, "-P", "alpha=0.3", "--experiment", experiment]);
    expect(r.code, r.stderr).toBe(0);
    const submitted = JSON.parse(r.stdout);
    expect(submitted.queue).toBe(queue);
    expect((await mlflowRun(submitted.run_id)).info.status).toBe("SCHEDULED");
    const ran = await agent(queue);
    expect(ran.code, ran.stdout + ran.stderr).toBe(0);
    expect((await waitPipelineRun(submitted.pipeline_run_id)).state).toBe("success");
    const run = await mlflowRun(submitted.run_id);
    expect(run.info.status).toBe("FINISHED");
    expect(paramsOf(run).alpha).toBe("0.3");
    expect(metricsOf(run).rows).toBe(40);
    const noQueue = await tern(["run", ".", "--remote", "--experiment", experiment]);
    expect(noQueue.code).toBe(2);
    expect(noQueue.stderr).toContain("--remote needs --queue NAME");
  });
});

describe("reproducing from the browser", () => {
  let browser: Awaited<ReturnType<typeof launch>>;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    ({ browser, page } = await openPage(pageErrors, { width: 1280, height: 1000 }));
  });

  afterAll(async () => {
    await browser?.close();
  });

  it("goes from a model version to its run, reproduces it and shows the comparison", async () => {
    const model = SCREENSHOTS ? "spy-ridge" : `spy-ridge-${stamp}`;
    const mlflow = async (path: string, body: unknown) => {
      const res = await fetch(`${baseUrl}/api/2.0/mlflow${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      expect(res.ok, await res.clone().text()).toBe(true);
      return res.json();
    };
    await mlflow("/registered-models/create", { name: model });
    await mlflow("/model-versions/create", { name: model, source: `runs:/${runId}/model`, run_id: runId });

    await page.goto(`${baseUrl}/models/${encodeURIComponent(model)}/versions/1`);
    const run = await mlflowRun(runId);
    await page.getByRole("link", { name: run.info.run_name }).first().click();
    await page.waitForURL(`**/runs/${runId}`, { timeout: 60_000 });
    const card = page.getByTestId("run-reproductions");
    // The reproduction made earlier over HTTP is listed with its verdict.
    await expect.poll(() => card.getByTestId("reproduction").count(), { timeout: 60_000 }).toBe(1);
    expect(await card.getByTestId("reproduced-verdict").first().textContent()).toBe("same params and data");
    expect(await card.getByTestId("artifacts-verdict").first().textContent()).toBe("0 of 1 differ");

    const queue = SCREENSHOTS ? "gpu" : `ui-${stamp}`;
    await card.getByLabel("Agent queue").fill(queue);
    await card.getByTestId("reproduce-button").click();
    await expect.poll(() => card.getByTestId("reproduce-submitted").count(), { timeout: 60_000 }).toBe(1);
    const ran = await agent(queue);
    expect(ran.code, ran.stdout + ran.stderr).toBe(0);
    // The card refreshes while a reproduction is scheduled or running.
    await expect.poll(() => card.getByTestId("reproduction").count(), { timeout: 60_000 }).toBe(2);
    await expect.poll(async () => (await card.getByTestId("reproduction").first().getByTestId("status-badge").textContent())?.trim(), { timeout: 90_000 }).toBe("Finished");
    expect(await card.getByTestId("reproduced-verdict").first().textContent()).toBe("same params and data");
    expect(await card.getByTestId("metric-comparison").first().textContent()).toContain("rmse");
    if (SCREENSHOTS) await card.screenshot({ path: join(docsImages, "reproduce-comparison.png") });

    await card.getByTestId("reproduction").first().getByRole("link").first().click();
    await expect.poll(() => page.getByTestId("reproduction-of").count(), { timeout: 60_000 }).toBe(1);
    expect(await page.getByTestId("reproduction-of").textContent()).toBe(runId.slice(0, 12));
    expect(pageErrors).toEqual([]);
  }, 300_000);
});
