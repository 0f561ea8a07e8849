// `tern run [PATH]`: runs an entry point of an MLflow project (a directory with an MLproject file, or
// just its .py/.sh scripts) as a tracked run. The run is recorded over Tern's MLflow REST API before the
// command starts: parameters as filled, git commit / remote / branch and whether the work tree was dirty
// (the diff as an artifact when it was), and every `.tern` data pointer of the project as a dataset
// input. The command gets MLFLOW_TRACKING_URI / MLFLOW_RUN_ID / MLFLOW_EXPERIMENT_ID (and the token), so
// its own MLflow or HTTP logging lands in the same run; its output goes to the terminal and, as it comes,
// to the run's artifact tern/output.log; the run ends FINISHED or FAILED and `tern run` exits with the
// command's status.
//
// `--remote --queue NAME` records the run the same way (SCHEDULED) and hands it to a pipeline agent;
// `--execute RUN_ID` is what that agent runs: it clones the recorded commit, applies the recorded diff
// (refusing when it does not apply cleanly), pulls the recorded dataset versions and runs the recorded
// entry point with the recorded parameters in that run. Reproductions (POST /api/v1/runs/{id}/reproduce)
// are executed the same way.
//
// Exit codes: the command's own status; 1 when Tern or git refused (message printed); 2 bad usage.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, realpathSync, rmSync, statSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { Agent, fetch } from "undici";
import { loadTypeScript } from "./bundle.mjs";
import { serverFor, serverOptions } from "./config.mjs";
import { pullCommand } from "./data.mjs";
import { formatPointer, parsePointer, POINTER_SUFFIX, targetOfPointer } from "./data-files.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const dispatcher = new Agent({ headersTimeout: 10 * 60 * 1000, bodyTimeout: 10 * 60 * 1000 });
const LOG_UPLOAD_MS = 2000;
/** Each upload sends the whole log so far; past this size it is sent once, when the command ends. */
const LIVE_LOG_MAX_BYTES = 8 * 1024 * 1024;
const LOG_ARTIFACT = "tern/output.log";
const DIFF_ARTIFACT = "tern/git.diff";
/** MLflow's limits: 100 params per log-batch, tag values of 5000 characters. */
const PARAMS_PER_BATCH = 100;
const MAX_TAG_VALUE = 5000;

export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export class UsageError extends Error {}

let projectModule;
/** worker/lib/projects/mlproject.ts, the MLproject reader the server shares, bundled once. */
const projects = async () => (projectModule ??= await loadTypeScript(join(here, "..", "worker", "lib", "projects"), "mlproject.ts", "tern run"));

// --- Tern's MLflow REST API -------------------------------------------------------------------------------

export class MlflowClient {
  constructor({ url, token }) {
    this.url = url.replace(/\/+$/, "");
    this.token = token;
  }

  headers(extra = {}) {
    return { ...(this.token ? { Authorization: `Bearer ${this.token}` } : {}), ...extra };
  }

  async call(method, path, body, { prefix = "/api/2.0/mlflow", query } = {}) {
    const qs = query ? `?${new URLSearchParams(query)}` : "";
    let res;
    for (let attempt = 0; ; attempt++) {
      try {
        res = await fetch(`${this.url}${prefix}${path}${qs}`, {
          method,
          dispatcher,
          headers: this.headers(body === undefined ? {} : { "Content-Type": "application/json" }),
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (err) {
        if (attempt < 3) {
          await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
          continue;
        }
        throw new Error(`cannot reach Tern at ${this.url}: ${err.cause?.code ?? err.message} (is the server running? set it with --url, TERN_URL or \`tern login\`)`);
      }
      if (res.status >= 500 && attempt < 3 && method === "GET") continue;
      break;
    }
    const json = await res.json().catch(() => ({}));
    if (!res.ok) {
      const message = json?.message ?? json?.error?.message ?? `HTTP ${res.status}`;
      throw Object.assign(new Error(`${method} ${prefix}${path}: ${message}`), { status: res.status, code: json?.error_code ?? json?.error?.code });
    }
    return json;
  }

  /** The experiment's id, creating it when missing (as `mlflow run --experiment-name` does). */
  async experimentId(name) {
    try {
      return (await this.call("GET", "/experiments/get-by-name", undefined, { query: { experiment_name: name } })).experiment.experiment_id;
    } catch (err) {
      if (err.status !== 404) throw err;
    }
    try {
      return (await this.call("POST", "/experiments/create", { name })).experiment_id;
    } catch (err) {
      if (err.code !== "RESOURCE_ALREADY_EXISTS") throw err;
      return (await this.call("GET", "/experiments/get-by-name", undefined, { query: { experiment_name: name } })).experiment.experiment_id;
    }
  }

  async getRun(runId) {
    return (await this.call("GET", "/runs/get", undefined, { query: { run_id: runId } })).run;
  }

  /** Writes an artifact of the run (the artifact URI is mlflow-artifacts:/...). */
  async putArtifact(artifactUri, path, bytes) {
    const root = artifactUri.replace(/^mlflow-artifacts:\/*/, "");
    const encoded = `${root}/${path}`.split("/").map(encodeURIComponent).join("/");
    const res = await fetch(`${this.url}/api/2.0/mlflow-artifacts/artifacts/${encoded}`, {
      method: "PUT",
      dispatcher,
      headers: this.headers({ "Content-Type": "application/octet-stream" }),
      body: bytes,
    });
    if (!res.ok) throw new Error(`uploading ${path}: HTTP ${res.status} ${await res.text().catch(() => "")}`);
  }

  async getArtifact(artifactUri, path) {
    const root = artifactUri.replace(/^mlflow-artifacts:\/*/, "");
    const encoded = `${root}/${path}`.split("/").map(encodeURIComponent).join("/");
    const res = await fetch(`${this.url}/api/2.0/mlflow-artifacts/artifacts/${encoded}`, { headers: this.headers(), dispatcher });
    if (!res.ok) throw new Error(`downloading ${path} of the run: HTTP ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
  }

  async native(method, path, body) {
    return this.call(method, path, body, { prefix: "/api/v1" });
  }
}

// --- the project on disk ------------------------------------------------------------------------------------

function git(dir, args, { input } = {}) {
  return execFileSync("git", ["-C", dir, ...args], { encoding: "utf8", input, stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"], maxBuffer: 256 * 1024 * 1024 });
}

function tryGit(dir, args) {
  try {
    return git(dir, args).trim() || null;
  } catch {
    return null;
  }
}

/** Commit, remote URL, branch, dirtiness and diff of the work tree that holds `dir`, or null outside git. */
export function gitState(dir) {
  const top = tryGit(dir, ["rev-parse", "--show-toplevel"]);
  const commit = top && tryGit(dir, ["rev-parse", "HEAD"]);
  if (!top || !commit) return null;
  const branch = tryGit(dir, ["rev-parse", "--abbrev-ref", "HEAD"]);
  const remote = tryGit(dir, ["remote", "get-url", "origin"]) ?? (() => {
    const first = tryGit(dir, ["remote"])?.split("\n")[0];
    return first ? tryGit(dir, ["remote", "get-url", first]) : null;
  })();
  // Tracked changes, staged or not, as one patch against HEAD (binary files included).
  const diff = git(dir, ["diff", "HEAD", "--binary"]);
  const untracked = (tryGit(dir, ["ls-files", "--others", "--exclude-standard"]) ?? "").split("\n").filter(Boolean);
  const sub = relative(realpath(top), realpath(dir)).split(sep).join("/");
  return { top, commit, branch: branch && branch !== "HEAD" ? branch : null, remote, dirty: diff.length > 0, diff, untracked, subdirectory: sub };
}

function realpath(p) {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

/** Every *.tern pointer under dir (not inside .git or node_modules), sorted. */
function findPointers(dir) {
  const out = [];
  const visit = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== ".git" && e.name !== "node_modules") visit(p);
      } else if (e.isFile() && e.name.endsWith(POINTER_SUFFIX) && e.name !== POINTER_SUFFIX) out.push(p);
    }
  };
  visit(dir);
  return out.sort();
}

/** The project in `dir`: its MLproject file read the way MLflow reads it, or its scripts. */
export async function loadProject(dir) {
  const lib = await projects();
  const fileExists = (p) => existsSync(join(dir, p));
  const file = lib.findMLprojectFile(readdirSync(dir));
  if (!file) return { lib, project: lib.emptyProject(fileExists), file: null };
  const text = await readFile(join(dir, file), "utf8");
  return { lib, project: lib.parseMLproject(text, { fileExists, source: file }), file };
}

/** Fills the entry point's parameters; `path` values must be local files (checked, made absolute). */
function fill(lib, project, entry, params, { strict = false, cwd = process.cwd() } = {}) {
  const ep = lib.entryPointOf(project, entry, process.env.SHELL || "bash");
  return lib.fillEntryPoint(ep, params, {
    strict,
    resolvePath: (value, name) => {
      const scheme = lib.uriScheme(value);
      let local = value;
      if (scheme === "file") local = fileURLToPath(value);
      else if (scheme !== null) throw new lib.ProjectError(`Parameter '${name}' is a path, and Tern does not download '${value}': pass a local path`);
      const abs = isAbsolute(local) ? local : resolve(cwd, local);
      if (!existsSync(abs)) throw new lib.ProjectError(`Got value ${value} for parameter ${name}, but no such file or directory was found.`);
      return abs;
    },
  });
}

/** The dataset input of one pointer: the version's URL as source, the pointer's fields as input tags. */
async function datasetInput(dir, pointerPath) {
  const p = parsePointer(await readFile(pointerPath, "utf8"), relative(dir, pointerPath));
  const target = relative(dir, targetOfPointer(pointerPath)).split(sep).join("/");
  const tags = [
    { key: "mlflow.data.context", value: "training" },
    { key: "tern.data.path", value: target },
    { key: "tern.data.kind", value: p.kind },
    { key: "tern.data.sha256", value: p.sha256 },
    { key: "tern.data.size", value: String(p.size) },
    { key: "tern.data.files", value: String(p.files) },
    ...(p.md5 ? [{ key: "tern.data.md5", value: p.md5 }] : []),
  ];
  return {
    tags,
    dataset: {
      name: p.dataset,
      digest: p.sha256.slice(0, 36),
      source_type: "tern",
      source: JSON.stringify({ uri: `tern://datasets/${encodeURIComponent(p.dataset)}/versions/${p.version}` }),
    },
  };
}

/** The pointer a recorded dataset input names, rebuilt from its tags (null for inputs not from tern run). */
export function pointerOfInput(input) {
  const tags = Object.fromEntries((input.tags ?? []).map((t) => [t.key, t.value]));
  const m = /datasets\/([^/]+)\/versions\/(\d+)/.exec(String(input.dataset?.source ?? ""));
  if (!tags["tern.data.path"] || !m) return null;
  const p = { dataset: decodeURIComponent(m[1]), version: Number(m[2]), kind: tags["tern.data.kind"], sha256: tags["tern.data.sha256"], size: Number(tags["tern.data.size"]), files: Number(tags["tern.data.files"]) };
  if (p.kind === "file") p.md5 = tags["tern.data.md5"];
  return { path: tags["tern.data.path"], pointer: p };
}

// --- recording and running ----------------------------------------------------------------------------------

const tagList = (tags) => Object.entries(tags).filter(([, v]) => v !== null && v !== undefined).map(([key, value]) => ({ key, value: String(value).slice(0, MAX_TAG_VALUE) }));

/** Creates the run and records everything about it that is known before the command starts. */
async function recordRun(client, { dir, projectFile, project, filled, experiment, status, extraTags = {} }) {
  const g = gitState(dir);
  const experimentId = await client.experimentId(experiment);
  const tags = {
    "mlflow.user": safeUser(),
    "mlflow.source.type": "PROJECT",
    "mlflow.source.name": g?.remote ?? dir,
    "mlflow.project.entryPoint": filled.entryPoint,
    "mlflow.project.backend": "local",
    "mlflow.project.env": "local",
    "tern.project.command": filled.command,
    "tern.project.environment": JSON.stringify(project.environment),
    ...(project.name ? { "tern.project.name": project.name } : {}),
    ...(projectFile ? { "tern.project.file": projectFile } : {}),
    ...(g
      ? {
          "mlflow.source.git.commit": g.commit,
          "tern.git.dirty": String(g.dirty),
          ...(g.remote ? { "mlflow.source.git.repoURL": g.remote, "mlflow.gitRepoURL": g.remote } : {}),
          ...(g.branch ? { "mlflow.source.git.branch": g.branch, "mlflow.gitBranchName": g.branch } : {}),
          ...(g.subdirectory ? { "tern.project.subdirectory": g.subdirectory } : {}),
          ...(g.dirty ? { "tern.git.diff": DIFF_ARTIFACT } : {}),
        }
      : {}),
    ...extraTags,
  };
  const run = (await client.call("POST", "/runs/create", { experiment_id: experimentId, start_time: Date.now(), tags: tagList(tags) })).run;
  const runId = run.info.run_id;
  const params = Object.entries({ ...filled.params, ...filled.extraParams }).map(([key, value]) => ({ key, value }));
  for (let i = 0; i < params.length; i += PARAMS_PER_BATCH) await client.call("POST", "/runs/log-batch", { run_id: runId, params: params.slice(i, i + PARAMS_PER_BATCH) });
  const datasets = await Promise.all(findPointers(dir).map((p) => datasetInput(dir, p)));
  if (datasets.length) await client.call("POST", "/runs/log-inputs", { run_id: runId, datasets });
  if (g?.dirty) await client.putArtifact(run.info.artifact_uri, DIFF_ARTIFACT, Buffer.from(g.diff));
  if (status !== "RUNNING") await client.call("POST", "/runs/update", { run_id: runId, status });
  return { run, git: g, datasets: datasets.length };
}

function safeUser() {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? "unknown";
  }
}

/**
 * Runs the command in `cwd` attached to the run: output to the terminal and to tern/output.log, the run
 * ended with the command's status. Resolves to the exit code.
 */
async function execute(client, run, command, cwd, server) {
  const runId = run.info.run_id;
  await client.call("POST", "/runs/update", { run_id: runId, status: "RUNNING" });
  const env = {
    ...process.env,
    MLFLOW_TRACKING_URI: server.url,
    MLFLOW_RUN_ID: runId,
    MLFLOW_EXPERIMENT_ID: run.info.experiment_id,
    ...(server.token ? { MLFLOW_TRACKING_TOKEN: server.token } : {}),
  };
  process.stderr.write(`tern run: run ${runId} in experiment ${run.info.experiment_id}: ${command}\n`);
  const child = spawn("/bin/sh", ["-c", command], { cwd, env, stdio: ["inherit", "pipe", "pipe"] });
  const chunks = [];
  let bytes = 0;
  let dirty = false;
  const onData = (out) => (data) => {
    out.write(data);
    chunks.push(data);
    bytes += data.length;
    dirty = true;
  };
  child.stdout.on("data", onData(process.stdout));
  child.stderr.on("data", onData(process.stderr));
  let uploading = Promise.resolve();
  const upload = () => {
    if (!dirty) return uploading;
    dirty = false;
    const bytes = Buffer.concat(chunks);
    uploading = uploading.then(() => client.putArtifact(run.info.artifact_uri, LOG_ARTIFACT, bytes)).catch((err) => process.stderr.write(`tern run: could not upload the log: ${err.message}\n`));
    return uploading;
  };
  const timer = setInterval(() => bytes <= LIVE_LOG_MAX_BYTES && upload(), LOG_UPLOAD_MS);
  const forward = (signal) => () => child.kill(signal);
  const onInt = forward("SIGINT");
  const onTerm = forward("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  const { code, signal } = await new Promise((res) => {
    child.on("error", (err) => {
      chunks.push(Buffer.from(`tern run: could not start the command: ${err.message}\n`));
      dirty = true;
      res({ code: 127, signal: null });
    });
    child.on("close", (c, s) => res({ code: c, signal: s }));
  });
  process.off("SIGINT", onInt);
  process.off("SIGTERM", onTerm);
  clearInterval(timer);
  dirty = true;
  await upload();
  const exitCode = code ?? 128 + (signal === "SIGINT" ? 2 : signal === "SIGKILL" ? 9 : 15);
  const status = signal ? "KILLED" : exitCode === 0 ? "FINISHED" : "FAILED";
  await client.call("POST", "/runs/update", { run_id: runId, status, end_time: Date.now() });
  process.stderr.write(`tern run: run ${runId} ${status} (exit ${exitCode})\n`);
  return exitCode;
}

// --- the three ways in --------------------------------------------------------------------------------------

async function runCommand(pathArg, opts) {
  const dir = resolve(pathArg ?? ".");
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${pathArg ?? "."} is not a project directory`);
  const server = serverFor(opts);
  const client = new MlflowClient(server);
  const { lib, project, file } = await loadProject(dir);
  for (const w of project.warnings) process.stderr.write(`tern run: note: ${w}\n`);
  let filled;
  try {
    filled = fill(lib, project, opts.entryPoint, lib.parseParameterArgs(opts.param ?? []), { strict: opts.strict });
  } catch (err) {
    if (err instanceof lib.ProjectError) throw new UsageError(err.message);
    throw err;
  }
  // MLflow's limits, checked before anything is recorded so a refusal leaves no half-made run.
  for (const [key, value] of Object.entries({ ...filled.params, ...filled.extraParams })) {
    if (key.length > 250) throw new UsageError(`Parameter name '${key.slice(0, 40)}...' is longer than MLflow's 250 characters`);
    if (value.length > 6000) throw new UsageError(`Parameter '${key}' has a value of ${value.length} characters; MLflow's limit is 6000`);
  }
  const experiment = opts.experiment ?? process.env.MLFLOW_EXPERIMENT_NAME ?? "Default";
  if (opts.remote) {
    if (!opts.queue) throw new UsageError("--remote needs --queue NAME: the queue a `tern agent` takes the run from");
    const g = gitState(dir);
    if (!g) throw new UsageError("--remote runs the project's recorded git commit on an agent: run it from a git repository");
    if (!g.remote) throw new UsageError("--remote: the repository has no remote the agent could clone (add one with `git remote add origin URL` and push)");
    const { run } = await recordRun(client, { dir, projectFile: file, project, filled, experiment, status: "SCHEDULED" });
    const sub = await client.native("POST", `/runs/${run.info.run_id}/submit`, { queue: opts.queue });
    process.stdout.write(`${JSON.stringify({ run_id: run.info.run_id, experiment_id: run.info.experiment_id, pipeline_id: sub.pipeline_id, pipeline_run_id: sub.pipeline_run_id, queue: opts.queue })}\n`);
    return 0;
  }
  const { run, git: g, datasets } = await recordRun(client, { dir, projectFile: file, project, filled, experiment, status: "RUNNING" });
  if (g?.dirty) process.stderr.write(`tern run: the work tree has uncommitted changes: recorded as ${DIFF_ARTIFACT}${g.untracked.length ? ` (untracked files are not recorded: ${g.untracked.slice(0, 5).join(", ")}${g.untracked.length > 5 ? ", ..." : ""})` : ""}\n`);
  if (datasets) process.stderr.write(`tern run: recorded ${datasets} dataset input(s)\n`);
  return execute(client, run, filled.command, dir, server);
}

/** Runs a recorded (SCHEDULED) run: the recorded commit and diff, data versions, entry point and params. */
async function executeRecorded(runId, opts) {
  const server = serverFor(opts);
  const client = new MlflowClient(server);
  const run = await client.getRun(runId);
  const tags = Object.fromEntries((run.data.tags ?? []).map((t) => [t.key, t.value]));
  const fail = async (message) => {
    await client.call("POST", "/runs/set-tag", { run_id: runId, key: "tern.execute.error", value: message.slice(0, MAX_TAG_VALUE) }).catch(() => {});
    await client.call("POST", "/runs/update", { run_id: runId, status: "FAILED", end_time: Date.now() }).catch(() => {});
    throw new Error(message);
  };
  if (run.info.status !== "SCHEDULED") throw new UsageError(`run ${runId} is ${run.info.status}: only a SCHEDULED run (from --remote or a reproduction) can be executed`);
  const url = tags["mlflow.source.git.repoURL"];
  const commit = tags["mlflow.source.git.commit"];
  if (!url || !commit) await fail(`run ${runId} has no recorded git remote and commit to check out`);
  const work = opts.workdir ? resolve(opts.workdir) : mkdtempSync(join(tmpdir(), `tern-run-${runId.slice(0, 8)}-`));
  try {
    try {
      execFileSync("git", ["clone", "--quiet", url, work], { stdio: ["ignore", "pipe", "pipe"] });
      git(work, ["checkout", "--quiet", "--detach", commit]);
    } catch (err) {
      await fail(`cannot check out commit ${commit} of ${url}: ${String(err.stderr || err.message).trim().split("\n").pop()} (is the commit pushed?)`);
    }
    if (tags["tern.git.dirty"] === "true") {
      if (!tags["tern.git.diff"]) await fail("the recorded work tree was dirty and its diff was not recorded: refusing to run a different tree");
      const diff = await client.getArtifact(run.info.artifact_uri, tags["tern.git.diff"]);
      try {
        git(work, ["apply", "--check", "--binary", "-"], { input: diff });
        git(work, ["apply", "--binary", "-"], { input: diff });
      } catch (err) {
        await fail(`the recorded work tree was dirty and its diff does not apply cleanly to ${commit}: ${String(err.stderr || err.message).trim().split("\n")[0]}`);
      }
      process.stderr.write(`tern run: applied the recorded diff of the dirty work tree\n`);
    }
    const dir = tags["tern.project.subdirectory"] ? join(work, tags["tern.project.subdirectory"]) : work;
    const pointers = [];
    for (const input of run.inputs?.dataset_inputs ?? []) {
      const rec = pointerOfInput(input);
      if (!rec) continue;
      const path = join(dir, `${rec.path}${POINTER_SUFFIX}`);
      if (relative(dir, path).startsWith("..")) await fail(`recorded data path '${rec.path}' is outside the project`);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, formatPointer(rec.pointer));
      pointers.push(path);
    }
    if (pointers.length) {
      try {
        await pullCommand(pointers, { url: server.url, token: server.token, quiet: true });
      } catch (err) {
        await fail(`cannot pull the recorded dataset versions: ${err.message}`);
      }
      process.stderr.write(`tern run: pulled ${pointers.length} recorded dataset version(s)\n`);
    }
    const { lib, project } = await loadProject(dir);
    const params = Object.fromEntries((run.data.params ?? []).map((p) => [p.key, p.value]));
    let filled;
    try {
      filled = fill(lib, project, tags["mlflow.project.entryPoint"] ?? "main", params, { cwd: dir });
    } catch (err) {
      await fail(err.message);
    }
    return await execute(client, run, filled.command, dir, server);
  } finally {
    if (!opts.workdir && !opts.keep) rmSync(work, { recursive: true, force: true });
  }
}

function collect(value, previous = []) {
  return [...previous, value];
}

export function registerRun(program) {
  serverOptions(
    program
      .command("run")
      .argument("[path]", "the project directory (default: the current directory)")
      .description("Run an entry point of an MLflow project (MLproject) as a tracked run"),
  )
    .option("-e, --entry-point <name>", "the entry point, or a .py/.sh file of the project", "main")
    .option("-P, --param <name=value>", "a parameter (repeat for more)", collect, [])
    .option("--experiment <name>", "the experiment (created when missing; else MLFLOW_EXPERIMENT_NAME, else Default)")
    .option("--strict", "refuse parameters the entry point does not declare (MLflow appends them as --name value)")
    .option("--remote", "record the run and hand it to a pipeline agent instead of running it here")
    .option("-q, --queue <name>", "with --remote: the agent queue")
    .option("--execute <run_id>", "run a recorded SCHEDULED run (what agents run for --remote and reproductions)")
    .option("--workdir <dir>", "with --execute: check out into this directory (default: a temporary one)")
    .option("--keep", "with --execute: keep the temporary checkout")
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE))
    .action(async (path, opts) => {
      try {
        process.exitCode = opts.execute ? await executeRecorded(opts.execute, opts) : await runCommand(path, opts);
      } catch (err) {
        process.stderr.write(`tern run: ${err.message}\n`);
        if (process.env.TERN_DEBUG && !(err instanceof UsageError)) process.stderr.write(`${err.stack}\n`);
        process.exitCode = err instanceof UsageError ? EXIT_USAGE : EXIT_FAILED;
      }
    });
}
