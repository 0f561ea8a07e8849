// The HTTP client the `tern` commands share: JSON calls to /api/v1 with the bearer token, errors that
// carry the API's own message and code, and retries of idempotent requests on network failures and 5xx
// (uploads of content-addressed blobs and parts may be sent again safely). Uses undici directly for its
// timeouts (see dispatcher).
import { Agent, fetch } from "undici";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Completing a multipart upload re-reads and hashes the whole file on the server before it answers,
 * which for gigabytes can outlast fetch's default 300 s wait for response headers; so waits are long.
 */
const dispatcher = new Agent({ headersTimeout: 60 * 60 * 1000, bodyTimeout: 10 * 60 * 1000, connections: 32 });

/** A failed call: `status` is the HTTP status (0 when the server could not be reached). */
export class TernApiError extends Error {
  constructor(message, status, code) {
    super(message);
    this.name = "TernApiError";
    this.status = status;
    this.code = code;
  }
}

/** What to tell a person about a failed call, with a hint for the usual causes. */
export function explain(err, url) {
  if (!(err instanceof TernApiError)) return err?.message ?? String(err);
  if (err.status === 0) return `${err.message} (is the server running? set it with --url, TERN_URL or \`tern login\`)`;
  if (err.status === 401) return `${err.message} (pass a token with --token, TERN_TOKEN or \`tern login --url ${url} --token ...\`)`;
  return err.message;
}

export class TernApi {
  constructor({ url, token }) {
    this.url = url.replace(/\/+$/, "");
    this.token = token;
  }

  headers(extra = {}) {
    return { ...(this.token ? { Authorization: `Bearer ${this.token}` } : {}), ...extra };
  }

  async send(method, path, { body, headers = {}, query, signal } = {}) {
    const qs = query ? `?${new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null))}` : "";
    const target = `${this.url}/api/v1${path}${qs}`;
    try {
      return await fetch(target, { method, headers: this.headers(headers), body, signal, dispatcher, ...(body && typeof body.getReader === "function" ? { duplex: "half" } : {}) });
    } catch (err) {
      throw new TernApiError(`cannot reach Tern at ${this.url}: ${err.cause?.code ?? err.cause?.message ?? err.message}`, 0);
    }
  }

  /** The API's error message for a non-2xx response. */
  static async failure(method, path, res) {
    let message = `HTTP ${res.status}`;
    let code;
    try {
      const json = await res.json();
      if (json?.error?.message) {
        message = json.error.message;
        code = json.error.code;
      }
    } catch {
      // not JSON: keep the status line
    }
    return new TernApiError(`${method} ${path.split("?")[0]}: ${message}`, res.status, code);
  }

  /** One JSON call; `retry` for idempotent ones. Resolves to { status, json }. */
  async call(method, path, { json, query, retry = method === "GET" } = {}) {
    const attempts = retry ? 4 : 1;
    for (let i = 0; ; i++) {
      try {
        const res = await this.send(method, path, {
          query,
          body: json === undefined ? undefined : JSON.stringify(json),
          headers: json === undefined ? {} : { "Content-Type": "application/json" },
        });
        if (!res.ok) throw await TernApi.failure(method, path, res);
        return { status: res.status, json: await res.json() };
      } catch (err) {
        if (!retryable(err) || i + 1 >= attempts) throw err;
        await sleep(250 * 2 ** i);
      }
    }
  }

  async get(path, query) {
    return (await this.call("GET", path, { query })).json;
  }

  /** PUTs raw bytes (a Buffer, so Content-Length is exact); retried, since content-addressed PUTs are idempotent. */
  async putBytes(path, bytes, headers = {}) {
    for (let i = 0; ; i++) {
      try {
        const res = await this.send("PUT", path, { body: bytes, headers: { "Content-Type": "application/octet-stream", ...headers } });
        if (!res.ok) throw await TernApi.failure("PUT", path, res);
        return await res.json();
      } catch (err) {
        if (!retryable(err) || i >= 3) throw err;
        await sleep(250 * 2 ** i);
      }
    }
  }

  /** A streaming GET (downloads); the caller reads the body. Non-2xx throws with the API's message. */
  async stream(path, { query, range } = {}) {
    const res = await this.send("GET", path, { query, headers: range ? { Range: range } : {} });
    if (!res.ok) throw await TernApi.failure("GET", path, res);
    return res;
  }
}

export function retryable(err) {
  return err instanceof TernApiError && (err.status === 0 || err.status >= 500);
}
