/**
 * Copy-paste snippets shown by each pillar's empty state: curl, and Python with only the standard
 * library. They use the page's own origin, and a token placeholder when the server runs in token mode.
 */

export interface SnippetCall {
  method: "GET" | "POST";
  path: string;
  body?: unknown;
  note?: string;
}

export interface PillarSnippets {
  intro: string;
  calls: SnippetCall[];
  /** Extra shell lines (CLI tools) shown after the HTTP calls. */
  shell?: string;
}

export const PILLAR_SNIPPETS: Record<string, PillarSnippets> = {
  experiments: {
    intro: "Log runs with any MLflow client (set MLFLOW_TRACKING_URI to this server) or over plain HTTP.",
    calls: [
      { method: "POST", path: "/api/2.0/mlflow/experiments/create", body: { name: "daily-spy" } },
      { method: "POST", path: "/api/2.0/mlflow/runs/create", body: { experiment_id: "1", run_name: "ridge-alpha-0.1" } },
      {
        method: "POST",
        path: "/api/2.0/mlflow/runs/log-batch",
        body: { run_id: "RUN_ID", params: [{ key: "alpha", value: "0.1" }], metrics: [{ key: "rmse", value: 0.42, timestamp: 0, step: 1 }] },
      },
    ],
    shell: "export MLFLOW_TRACKING_URI={base}\npython train.py   # mlflow.log_param / log_metric land in Tern",
  },
  models: {
    intro: "Register models from runs, give versions aliases such as champion, and load them by alias.",
    calls: [
      { method: "POST", path: "/api/2.0/mlflow/registered-models/create", body: { name: "spy-direction" } },
      { method: "POST", path: "/api/2.0/mlflow/model-versions/create", body: { name: "spy-direction", source: "runs:/RUN_ID/model", run_id: "RUN_ID" } },
      { method: "POST", path: "/api/2.0/mlflow/registered-models/alias", body: { name: "spy-direction", alias: "champion", version: "1" } },
    ],
  },
  datasets: {
    intro: "Version data immutably and content-addressed; every version records who, when, from which commit.",
    calls: [
      { method: "POST", path: "/api/v1/datasets", body: { name: "prices", description: "Daily closing prices" } },
      { method: "POST", path: "/api/v1/datasets/prices/versions", body: { sha256: "SHA256", file_name: "prices.csv", message: "2026 Q4 snapshot" } },
      { method: "GET", path: "/api/v1/datasets/prices/versions/latest" },
    ],
    shell: "SHA256=$(sha256sum prices.csv | cut -d' ' -f1)\ncurl -sS -X PUT --data-binary @prices.csv \"{base}/api/v1/blobs/$SHA256\"   # upload once, by content hash\n\ntern data add data/prices.csv --dataset prices -m \"2026 Q4 snapshot\"\ngit add data/prices.csv.tern && git commit -m \"prices: new snapshot\"\ntern data pull   # on another machine",
  },
  studies: {
    intro: "Tune hyperparameters from any language with ask/tell over HTTP; many workers share one study.",
    calls: [
      { method: "POST", path: "/api/v1/studies", body: { name: "ridge-tuning", directions: ["minimize"], sampler: { type: "tpe", seed: 42 } } },
      {
        method: "POST",
        path: "/api/v1/studies/STUDY_ID/ask",
        body: { search_space: { alpha: { type: "float", low: 1e-4, high: 10, log: true } } },
      },
      { method: "POST", path: "/api/v1/studies/STUDY_ID/trials/0/tell", body: { values: [0.42] } },
    ],
  },
  pipelines: {
    intro: "Schedule DAGs with cron, retries and backfills; each run records the pipeline version it ran.",
    calls: [
      {
        method: "POST",
        path: "/api/v1/pipelines",
        body: {
          name: "daily-predict",
          spec: {
            schedule: "0 5 * * 1-5",
            timezone: "America/New_York",
            tasks: { fetch: { kind: "http", url: "https://example.com/prices.csv", method: "GET" } },
          },
        },
      },
      { method: "POST", path: "/api/v1/pipelines/PIPELINE_ID/runs", body: { conf: { symbol: "SPY" } } },
    ],
  },
  monitoring: {
    intro: "Compare production data with the training data in your browser; only the summary reaches the server.",
    calls: [{ method: "GET", path: "/api/v1/monitors" }],
    shell: "tern drift reference.csv current.csv --json",
  },
};

const pyLiteral = (value: unknown): string => JSON.stringify(value, null, 4).replace(/\btrue\b/g, "True").replace(/\bfalse\b/g, "False").replace(/\bnull\b/g, "None");

export function curlSnippet(base: string, calls: SnippetCall[], withToken: boolean): string {
  const lines = [`export TERN=${base}`];
  if (withToken) lines.push("export TERN_TOKEN=tern_...   # Settings → API tokens");
  for (const call of calls) {
    const parts = [`curl -sS -X ${call.method} "$TERN${call.path}"`];
    if (withToken) parts.push(`-H "Authorization: Bearer $TERN_TOKEN"`);
    if (call.body !== undefined) parts.push(`-H "Content-Type: application/json"`, `-d '${JSON.stringify(call.body)}'`);
    lines.push("", parts.join(" \\\n  "));
  }
  return lines.join("\n");
}

export function pythonSnippet(base: string, calls: SnippetCall[], withToken: boolean): string {
  const lines = [
    "import json, os, urllib.request",
    "",
    `TERN = os.environ.get("TERN", "${base}")`,
    withToken ? `HEADERS = {"Authorization": "Bearer " + os.environ["TERN_TOKEN"]}` : "HEADERS = {}",
    "",
    "def call(method, path, body=None):",
    "    data = None if body is None else json.dumps(body).encode()",
    "    headers = dict(HEADERS, **({\"Content-Type\": \"application/json\"} if data else {}))",
    "    req = urllib.request.Request(TERN + path, data=data, method=method, headers=headers)",
    "    with urllib.request.urlopen(req) as res:",
    "        return json.load(res)",
  ];
  for (const call of calls) {
    lines.push("", call.body === undefined ? `print(call("${call.method}", "${call.path}"))` : `print(call("${call.method}", "${call.path}", ${pyLiteral(call.body)}))`);
  }
  return lines.join("\n");
}
