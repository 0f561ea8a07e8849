/**
 * The demo's small HTTP client of Tern: JSON calls to the native API and MLflow's REST API, blob
 * uploads, downloads, and the get-or-create steps every demo step uses so that running it again
 * reuses what exists (datasets, versions with the same content, pipelines, monitors, rules).
 */
import { createHash } from "node:crypto";

export class TernError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = "TernError";
  }
}

export interface DatasetVersion {
  id: string;
  dataset: string;
  version: number;
  sha256: string;
  row_count: number | null;
}

export class Tern {
  readonly url: string;
  constructor(
    url: string,
    private readonly token?: string,
  ) {
    this.url = url.replace(/\/+$/, "");
  }

  static fromEnv(env: NodeJS.ProcessEnv = process.env): Tern {
    return new Tern(env.TERN_URL || "http://127.0.0.1:8787", env.TERN_TOKEN || undefined);
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.token ? { Authorization: `Bearer ${this.token}` } : {}), ...extra };
  }

  /** One call; a non-2xx answer throws with the API's own message (native or MLflow shape). */
  async request(method: string, path: string, body?: unknown): Promise<any> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: this.headers(body === undefined ? {} : { "Content-Type": "application/json" }),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (!res.ok) throw new TernError(`${method} ${path.split("?")[0]}: ${json?.error?.message ?? json?.message ?? `HTTP ${res.status}`}`, res.status);
    return json;
  }

  api(method: string, path: string, body?: unknown): Promise<any> {
    return this.request(method, `/api/v1${path}`, body);
  }

  mlflow(method: string, path: string, body?: unknown): Promise<any> {
    return this.request(method, `/api/2.0/mlflow${path}`, body);
  }

  async download(path: string): Promise<string> {
    const res = await fetch(`${this.url}/api/v1${path}`, { headers: this.headers() });
    if (!res.ok) throw new TernError(`GET ${path}: HTTP ${res.status}`, res.status);
    return res.text();
  }

  // --- datasets -------------------------------------------------------------------------------

  async ensureDataset(name: string, description: string): Promise<void> {
    try {
      await this.api("POST", "/datasets", { name, description });
    } catch (err) {
      if (!(err instanceof TernError && err.status === 409)) throw err;
    }
  }

  /** Every version of a dataset, newest first (none when the dataset does not exist). */
  async versions(name: string): Promise<DatasetVersion[]> {
    const out: DatasetVersion[] = [];
    let token: string | null = null;
    do {
      let page: any;
      try {
        page = await this.api("GET", `/datasets/${encodeURIComponent(name)}/versions?max_results=1000${token ? `&page_token=${encodeURIComponent(token)}` : ""}`);
      } catch (err) {
        if (err instanceof TernError && err.status === 404) return [];
        throw err;
      }
      out.push(...page.versions);
      token = page.next_page_token ?? null;
    } while (token);
    return out;
  }

  /**
   * Commits `content` as a version of `dataset` unless a version already holds exactly these bytes
   * (then that one is returned): running a step again adds no duplicate versions. A new version names
   * the newest one as its parent, so the dataset's history diffs version to version.
   */
  async commitOnce(dataset: string, fileName: string, content: string, message: string, description = ""): Promise<{ version: DatasetVersion; created: boolean }> {
    const bytes = Buffer.from(content, "utf8");
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const existing = await this.versions(dataset);
    const same = existing.find((v) => v.sha256 === sha256);
    if (same) return { version: same, created: false };
    await this.ensureDataset(dataset, description);
    const res = await fetch(`${this.url}/api/v1/blobs/${sha256}`, { method: "PUT", headers: this.headers({ "Content-Type": "application/octet-stream" }), body: bytes });
    if (!res.ok) throw new TernError(`PUT /blobs/${sha256}: HTTP ${res.status} ${await res.text()}`, res.status);
    const body: Record<string, unknown> = { sha256, file_name: fileName, message };
    if (existing[0]) body.parent_version = existing[0].version;
    const out = await this.api("POST", `/datasets/${encodeURIComponent(dataset)}/versions`, body);
    return { version: out.version, created: true };
  }

  readVersion(dataset: string, version: number | "latest"): Promise<string> {
    return this.download(`/datasets/${encodeURIComponent(dataset)}/versions/${version}/download`);
  }

  // --- tracking and registry ------------------------------------------------------------------

  async experimentId(name: string): Promise<string> {
    try {
      const got = await this.mlflow("GET", `/experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`);
      return got.experiment.experiment_id;
    } catch (err) {
      if (!(err instanceof TernError && err.status === 404)) throw err;
    }
    try {
      return (await this.mlflow("POST", "/experiments/create", { name })).experiment_id;
    } catch (err) {
      if (!(err instanceof TernError && err.status === 409)) throw err;
      return (await this.mlflow("GET", `/experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`)).experiment.experiment_id;
    }
  }

  /**
   * Records a dataset version as a run's input the way MLflow's log_input does (digest = the version's
   * id, source = its download URL), so the run page lists it and lineage links the version to the run.
   */
  async logDatasetInput(runId: string, v: DatasetVersion, context: string, columns: string[]): Promise<void> {
    const source = JSON.stringify({ url: `${this.url}/api/v1/datasets/${encodeURIComponent(v.dataset)}/versions/${v.version}/download` });
    const schema = JSON.stringify({ mlflow_colspec: columns.map((name) => ({ name, type: name === "date" ? "string" : "double" })) });
    await this.mlflow("POST", "/runs/log-inputs", {
      run_id: runId,
      datasets: [{ tags: [{ key: "mlflow.data.context", value: context }], dataset: { name: v.dataset, digest: v.id, source_type: "http", source, schema } }],
    });
  }

  /** Puts a file into a run's artifacts through the MLflow artifact proxy. */
  async logArtifact(run: { run_id: string; artifact_uri: string }, path: string, content: string): Promise<void> {
    const base = run.artifact_uri.replace(/^mlflow-artifacts:\/?/, "").replace(/^\/+/, "");
    const res = await fetch(`${this.url}/api/2.0/mlflow-artifacts/artifacts/${base}/${path}`, { method: "PUT", headers: this.headers({ "Content-Type": "application/octet-stream" }), body: content });
    if (!res.ok) throw new TernError(`PUT artifact ${path}: HTTP ${res.status} ${await res.text()}`, res.status);
  }

  async readArtifact(artifactUri: string, path: string): Promise<string> {
    const base = artifactUri.replace(/^mlflow-artifacts:\/?/, "").replace(/^\/+/, "");
    const res = await fetch(`${this.url}/api/2.0/mlflow-artifacts/artifacts/${base}/${path}`, { headers: this.headers() });
    if (!res.ok) throw new TernError(`GET artifact ${path}: HTTP ${res.status}`, res.status);
    return res.text();
  }

  /** The model version an alias points at, or null when the model or the alias does not exist. */
  async aliasVersion(model: string, alias: string): Promise<{ version: number; run_id: string } | null> {
    try {
      const got = await this.mlflow("GET", `/registered-models/alias?name=${encodeURIComponent(model)}&alias=${encodeURIComponent(alias)}`);
      return { version: Number(got.model_version.version), run_id: got.model_version.run_id };
    } catch (err) {
      // MLflow answers a missing model with 404 and a missing alias of an existing model with 400.
      if (err instanceof TernError && (err.status === 404 || (err.status === 400 && /alias .* not found/i.test(err.message)))) return null;
      throw err;
    }
  }

  async runOf(runId: string): Promise<any> {
    return (await this.api("GET", `/runs/${runId}`)).run;
  }

  // --- monitors and pipelines -----------------------------------------------------------------

  async monitorByName(name: string): Promise<any | null> {
    for (let offset = 0; ; ) {
      const page = await this.api("GET", `/monitors?max_results=100${offset ? `&page_token=${offset}` : ""}`);
      const found = page.monitors.find((m: any) => (m.monitor ?? m).name === name);
      if (found) return found.monitor ?? found;
      if (!page.next_page_token) return null;
      offset = page.next_page_token;
    }
  }

  async pipelineByName(name: string): Promise<any | null> {
    const { pipelines } = await this.api("GET", "/pipelines");
    return pipelines.find((p: any) => p.name === name) ?? null;
  }
}
