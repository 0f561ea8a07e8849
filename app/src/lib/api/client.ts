/**
 * The one typed client of Tern's API for the whole app. It sends the API token kept in this browser
 * (Settings) as a bearer token and turns the API's error body into ApiClientError.
 */

export type Scope = "read" | "write" | "admin";
export type AuthMode = "open" | "token";

export interface Probe {
  status: "ok" | "error";
  latency_ms: number;
  error?: string;
}

export interface Health {
  status: "ok" | "degraded";
  auth_mode: AuthMode;
  version: string;
  bindings: { d1: Probe; r2: Probe; durable_objects: Record<string, Probe> };
  scheduler: { last_tick_at: number | null; last_tick_cron: string | null };
}

export interface TokenInfo {
  id: string;
  name: string;
  scopes: Scope[];
  created_at: number;
  created_by: string | null;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
  status: "active" | "expired" | "revoked";
}

export interface Principal {
  kind: "open" | "token" | "bootstrap";
  token_id: string | null;
  name: string;
  scopes: Scope[];
  auth_mode: AuthMode;
}

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, unknown> };
}

export interface OpenApiOperation {
  summary?: string;
  tags?: string[];
  security?: unknown[];
  parameters?: { name: string; in: string; required?: boolean; schema?: unknown }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>;
}

export class ApiClientError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | null,
  ) {
    super(message);
    this.name = "ApiClientError";
  }
}

const TOKEN_KEY = "tern.token";

export const tokenStorage = {
  get(): string | null {
    return typeof localStorage === "undefined" ? null : localStorage.getItem(TOKEN_KEY);
  },
  set(token: string | null): void {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  },
};

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const token = tokenStorage.get();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok && !(res.status === 503 && path.endsWith("/health"))) {
    const err = (data as { error?: { code?: string; message?: string; request_id?: string } } | null)?.error;
    throw new ApiClientError(res.status, err?.code ?? "HTTP_" + res.status, err?.message ?? res.statusText, err?.request_id ?? res.headers.get("x-request-id"));
  }
  return data as T;
}

export const api = {
  health: () => request<Health>("GET", "/api/v1/health"),
  whoami: () => request<Principal>("GET", "/api/v1/auth/whoami"),
  openapi: () => request<OpenApiDocument>("GET", "/api/v1/openapi.json"),
  tokens: {
    list: () => request<{ tokens: TokenInfo[] }>("GET", "/api/v1/tokens"),
    create: (input: { name: string; scopes: Scope[]; expires_at?: number | null }) =>
      request<{ token: TokenInfo; secret: string }>("POST", "/api/v1/tokens", input),
    revoke: (id: string) => request<{ token: TokenInfo }>("DELETE", `/api/v1/tokens/${encodeURIComponent(id)}`),
  },
};
