/**
 * Carrying out one attempt of an in-process task kind: noop, branch (decide which downstream tasks
 * follow), wait (sleep until a time, deferring instead of holding the object) and http (call a URL
 * with a bounded response as output). Every outcome is a machine event; nothing here changes state.
 */
import { branchFollow } from "../lib/pipelines/machine";
import type { TaskSpec } from "../lib/pipelines/spec";
import { render, renderString, TemplateError, type TemplateContext } from "../lib/pipelines/template";
import { parseDateTime } from "../lib/pipelines/time";

/**
 * An object a built-in task read or wrote, for the lineage graph: `input` links flow into the run,
 * `output` links flow out of it.
 */
export interface LineageLink {
  kind: "dataset_version" | "monitor" | "model_version";
  key: string;
  edge: string;
  direction: "input" | "output";
}

export type AttemptOutcome =
  | { type: "task_succeeded"; output: unknown; lineage?: LineageLink[] }
  | { type: "task_failed"; error: string; retryable: boolean }
  | { type: "task_deferred"; until: number };

/** Response bodies kept as a task's output (and in the grid mirror). */
export const MAX_OUTPUT_BYTES = 64 * 1024;
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]", "0.0.0.0"]);

/** Whether a URL points at Tern itself (any origin it was reached at; loopback names are one host). */
export function isSelfOrigin(url: URL, selfOrigins: string[]): boolean {
  const norm = (u: URL) => `${u.protocol}//${LOOPBACK.has(u.hostname) ? "loopback" : u.hostname}:${u.port || (u.protocol === "https:" ? "443" : "80")}`;
  const target = norm(url);
  return selfOrigins.some((o) => {
    try {
      return norm(new URL(o)) === target;
    } catch {
      return false;
    }
  });
}

export interface ExecuteContext {
  template: TemplateContext;
  /** When this attempt started (for `wait: {seconds}` and sensor timeouts). */
  startedAt: number;
  /** When the run started (a dataset sensor's default: versions newer than this). */
  runStartedAt: number;
  now: number;
  selfOrigins: string[];
  secret: (name: string) => string | undefined;
  signal?: AbortSignal;
}

export const failed = (error: string, retryable = true): AttemptOutcome => ({ type: "task_failed", error, retryable });

export function templateFailure(err: unknown): AttemptOutcome {
  if (err instanceof TemplateError) return failed(`template: ${err.message}`, false);
  throw err;
}

/** Runs what can be decided without waiting (noop, branch, wait); null for kinds that do I/O. */
export function executeSync(task: TaskSpec, ctx: ExecuteContext): AttemptOutcome | null {
  try {
    switch (task.kind) {
      case "noop":
        return { type: "task_succeeded", output: null };
      case "branch": {
        const value = render(task.value, ctx.template);
        const key = typeof value === "string" ? value : JSON.stringify(value);
        const follow = Object.hasOwn(task.cases, key) ? task.cases[key] : task.default;
        return { type: "task_succeeded", output: { value, follow } };
      }
      case "wait": {
        let until: number;
        if (task.seconds !== undefined) until = ctx.startedAt + task.seconds * 1000;
        else {
          const text = String(renderString(task.until!, ctx.template));
          const t = parseDateTime(text, "UTC");
          if (t === null) return failed(`wait: '${text}' is not a date-time`, false);
          until = t;
        }
        return ctx.now >= until ? { type: "task_succeeded", output: { waited_until: new Date(until).toISOString() } } : { type: "task_deferred", until };
      }
      default:
        return null;
    }
  } catch (err) {
    return templateFailure(err);
  }
}

async function readBounded(res: Response): Promise<{ text: string; truncated: boolean }> {
  if (!res.body) return { text: "", truncated: false };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > MAX_OUTPUT_BYTES) {
      chunks.push(value.subarray(0, MAX_OUTPUT_BYTES - size));
      truncated = true;
      await reader.cancel();
      break;
    }
    chunks.push(value);
    size += value.byteLength;
  }
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return { text: new TextDecoder().decode(all), truncated };
}

type Outbound = Pick<Extract<TaskSpec, { kind: "http" }>, "method" | "url" | "headers" | "body" | "timeout_s">;

/**
 * Renders an outbound request of a task (http, dataset_snapshot): its URL, headers with secrets,
 * body and timeout. Refuses non-http(s) URLs and Tern's own origin, so no task calls Tern over HTTP.
 */
export function prepareRequest(task: Outbound, ctx: ExecuteContext, label: string): { url: URL; init: RequestInit; timeout: AbortSignal } | AttemptOutcome {
  let url: URL;
  let headers: Record<string, string>;
  let body: unknown;
  try {
    url = new URL(String(renderString(task.url, ctx.template)));
    headers = render(task.headers, { ...ctx.template, secret: ctx.secret }) as Record<string, string>;
    body = task.body === undefined ? undefined : render(task.body, ctx.template);
  } catch (err) {
    if (err instanceof TypeError) return failed(`${label}: the url is not a valid URL`, false);
    return templateFailure(err);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return failed(`${label}: only http and https URLs are allowed, not ${url.protocol}`, false);
  if (isSelfOrigin(url, ctx.selfOrigins)) return failed(`${label}: refusing to call Tern's own origin (${url.origin}); use the task kinds instead`, false);
  const init: RequestInit = { method: task.method, headers: { ...headers } };
  if (body !== undefined && task.method !== "GET" && task.method !== "HEAD") {
    if (typeof body === "string") init.body = body;
    else {
      init.body = JSON.stringify(body);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) (init.headers as Record<string, string>)["Content-Type"] = "application/json";
    }
  }
  const timeout = AbortSignal.timeout(task.timeout_s * 1000);
  init.signal = ctx.signal ? AbortSignal.any([timeout, ctx.signal]) : timeout;
  return { url, init, timeout };
}

/** An http attempt: 2xx is success; the (bounded) body, parsed when it is JSON, is the output. */
export async function executeHttp(task: Extract<TaskSpec, { kind: "http" }>, ctx: ExecuteContext): Promise<AttemptOutcome> {
  const prepared = prepareRequest(task, ctx, "http");
  if ("type" in prepared) return prepared;
  const { url, init, timeout } = prepared;
  let res: Response;
  try {
    res = await fetch(url.toString(), init);
  } catch (err) {
    const reason = timeout.aborted ? `no response within ${task.timeout_s} s` : err instanceof Error ? err.message : String(err);
    return failed(`http: ${task.method} ${url.origin}${url.pathname} failed: ${reason}`);
  }
  const { text, truncated } = await readBounded(res);
  if (res.status < 200 || res.status > 299) return failed(`http: ${task.method} ${url.origin}${url.pathname} answered ${res.status}: ${text.slice(0, 300)}`);
  let parsed: unknown = text;
  if (!truncated && /json/i.test(res.headers.get("content-type") ?? "")) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  return { type: "task_succeeded", output: { status: res.status, body: parsed, ...(truncated ? { truncated: true } : {}) } };
}
