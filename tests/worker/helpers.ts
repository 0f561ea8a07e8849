/**
 * Test helpers for API tests in workerd: call the real Worker (same module instance as the bindings
 * use) with real D1/R2/Durable Objects, in either auth mode.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../worker/index";
import type { WorkerBindings } from "../../worker/env";

export const ADMIN_TOKEN = "bootstrap-admin-secret-for-tests";

export interface CallOptions {
  body?: unknown;
  /** Raw body: sent as is, with whatever content type `headers` says. */
  raw?: BodyInit;
  token?: string;
  headers?: Record<string, string>;
  mode?: "open" | "token";
  env?: Partial<WorkerBindings>;
}

export interface CallResult<T = any> {
  status: number;
  headers: Headers;
  json: T;
  text: string;
}

export async function call<T = any>(method: string, path: string, opts: CallOptions = {}): Promise<CallResult<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  let body: BodyInit | undefined = opts.raw;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers["Content-Type"] ??= "application/json";
  }
  const request = new Request(`https://tern.test${path}`, { method, headers, body });
  const testEnv = { ...env, AUTH_MODE: opts.mode ?? "token", TERN_ADMIN_TOKEN: ADMIN_TOKEN, ...opts.env } as WorkerBindings;
  const ctx = createExecutionContext();
  const res = await worker.fetch(request, testEnv, ctx);
  await waitOnExecutionContext(ctx);
  const text = await res.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** Creates a token through the API with the bootstrap admin token and returns its secret. */
export async function createToken(scopes: string[], name = `token-${scopes.join("-")}`, extra: Record<string, unknown> = {}): Promise<{ id: string; secret: string }> {
  const res = await call("POST", "/api/v1/tokens", { token: ADMIN_TOKEN, body: { name, scopes, ...extra } });
  if (res.status !== 201) throw new Error(`token creation failed: ${res.status} ${res.text}`);
  return { id: res.json.token.id, secret: res.json.secret };
}

/** Asserts the native error shape and returns its code. */
export function errorCode(res: CallResult): string {
  const e = res.json?.error;
  if (!e || typeof e.code !== "string" || typeof e.message !== "string" || typeof e.request_id !== "string") {
    throw new Error(`not an error body: ${res.status} ${res.text}`);
  }
  if (e.request_id !== res.headers.get("x-request-id")) throw new Error("request_id differs from X-Request-Id");
  return e.code;
}
