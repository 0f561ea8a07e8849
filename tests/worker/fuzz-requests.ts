/**
 * Generated malformed and adversarial requests for the fuzz suite: for a route (its method, path
 * pattern and, where the OpenAPI document has them, its body and query fields), a request whose path
 * parameters, query, body and headers are drawn from hostile values: wrong types, missing and unknown
 * fields, huge strings, unicode edge cases, NaN/Infinity, SQL- and path-looking strings, deep nesting,
 * duplicate keys and truncated bodies. Everything is drawn from one seeded generator, so a seed and a
 * count name a run exactly.
 */
import { mulberry32 } from "../../worker/lib/random";

export interface RouteShape {
  method: string;
  path: string;
  /** Body field names (from the OpenAPI request schema, or MLflow's usual names). */
  bodyFields: string[];
  queryFields: string[];
}

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** What the generator did, for the failure message. */
  label: string;
}

/** Field names MLflow's REST API uses, for the routes the OpenAPI document does not describe. */
export const MLFLOW_FIELDS = [
  "experiment_id", "experiment_ids", "run_id", "run_uuid", "name", "new_name", "key", "value", "timestamp", "step",
  "metrics", "params", "tags", "filter", "filter_string", "max_results", "order_by", "page_token", "version",
  "stage", "alias", "artifact_location", "start_time", "end_time", "status", "run_view_type", "description",
  "source", "datasets", "inputs", "model_id", "trace_id", "request_id", "archive_existing_versions", "path",
];

const STRINGS = [
  "", " ", "x".repeat(300), "a".repeat(70_000), "\u0000", "nul\u0000inside", "\ud800", "\udfff\ud800", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🧪👩🏽‍🔬",
  "\u202eevil", "ｆｕｌｌ", "e\u0301", "'; DROP TABLE runs; --", "\" OR 1=1 --", "%", "_", "\\", "../../etc/passwd",
  "..\\..\\boot.ini", "/absolute/path", "a/../../b", "%2e%2e%2f", "NaN", "Infinity", "-Infinity", "1e309", "-0", "null",
  "true", "[]", "{}", "<script>alert(1)</script>", "${jndi:ldap://x}", "{{ 7*7 }}", "0x1F", "   padded   ", "\n\r\t",
  "metrics.rmse > 0.5 AND params.lr = '0.1'", "attributes.status = 'FINISHED' OR 1=1", "tags.`x` LIKE '%'",
  "name@latest", "@", "x@0", "models:/m@champion", "1".repeat(40), "ffffffffffffffffffffffffffffffff", "0".repeat(64),
];

/** Percent-encoding that also carries lone surrogates, as the invalid UTF-8 bytes a hostile client would send. */
function encode(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return encodeURIComponent(s.replace(/[\ud800-\udfff]/g, "")) + "%ED%A0%80";
  }
}

const NUMBERS = [0, -1, 1, 2 ** 31, 2 ** 53 + 1, -(2 ** 63), 1e308, -1e308, 5e-324, 0.1, -0.0, 3.14159, 1e21, 999_999_999_999];

export class FuzzGenerator {
  private readonly rand: () => number;

  constructor(seed: number) {
    this.rand = mulberry32(seed);
  }

  private int(n: number): number {
    return Math.floor(this.rand() * n);
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }

  private chance(p: number): boolean {
    return this.rand() < p;
  }

  /** Any JSON-able hostile value, nested at most `depth` levels. */
  value(depth = 2): unknown {
    const k = this.int(depth > 0 ? 9 : 6);
    switch (k) {
      case 0:
        return this.pick(STRINGS);
      case 1:
        return this.pick(NUMBERS);
      case 2:
        return this.chance(0.5);
      case 3:
        return null;
      case 4:
        return this.pick(STRINGS).slice(0, 40) + String(this.int(1000));
      case 5:
        return this.int(100);
      case 6:
        return Array.from({ length: this.int(4) }, () => this.value(depth - 1));
      case 7:
        return Object.fromEntries(Array.from({ length: this.int(4) }, () => [this.pick([...MLFLOW_FIELDS, ...STRINGS.slice(0, 12)]), this.value(depth - 1)]));
      default:
        return this.chance(0.5) ? [this.pick(STRINGS)] : { key: this.pick(STRINGS), value: this.pick(STRINGS) };
    }
  }

  /** A value for a path parameter: plausible ids, hostile text, encoded traversal. */
  private pathValue(): string {
    const v = this.pick([
      "0".repeat(32), "f".repeat(32), "0".repeat(64), "1", "0", "-1", "latest", "x", "a".repeat(600), "..", "%2e%2e", "%00",
      "%ff", "%E2%80%AE", "name@1", "a b", "%20", "😀", "null", "undefined", "1e3", "9".repeat(30),
    ]);
    return /^[\x21-\x7e]*$/.test(v) ? v : encode(v);
  }

  private path(pattern: string): string {
    return pattern.replace(/:([A-Za-z_]+)(\{[^}]*\})?/g, () => this.pathValue()).replace(/\*/g, () => this.pick(["a.txt", "dir/a.txt", "../x", "a/%2e%2e/b", "x".repeat(300), "%00", "."]));
  }

  private query(fields: string[]): string {
    if (!fields.length && this.chance(0.5)) return "";
    const names = [...fields, ...this.pick([[], ["max_results"], ["page_token"], ["filter"], ["x"]])];
    const parts = Array.from({ length: 1 + this.int(3) }, () => {
      const v = this.value(0);
      return `${encode(this.pick(names.length ? names : ["q"]))}=${encode(typeof v === "string" ? v.slice(0, 2000) : JSON.stringify(v))}`;
    });
    return `?${parts.join("&")}`;
  }

  /** A JSON body: the route's fields with hostile values, some missing, some unknown. */
  private jsonBody(fields: string[]): string {
    const names = fields.length ? fields : MLFLOW_FIELDS;
    const obj: Record<string, unknown> = {};
    for (const f of names) if (this.chance(0.6)) obj[f] = this.value();
    if (this.chance(0.2)) obj[this.pick(STRINGS).slice(0, 30) || "extra"] = this.value();
    // An own "__proto__" key, as JSON.parse produces it from hostile text.
    if (this.chance(0.05)) Object.defineProperty(obj, "__proto__", { value: { admin: true }, enumerable: true });
    return JSON.stringify(obj);
  }

  /** A body that is not valid JSON, or valid JSON of a shape no route takes. */
  private rawBody(fields: string[]): { body: string; label: string } {
    const f = fields[0] ?? "name";
    const full = this.jsonBody(fields);
    switch (this.int(10)) {
      case 0:
        return { body: full.slice(0, Math.max(1, this.int(full.length))), label: "truncated JSON" };
      case 1:
        return { body: `{"${f}": 1, "${f}": "dup", "${f}": null}`, label: "duplicate keys" };
      case 2:
        return { body: `{"${f}": NaN, "value": Infinity}`, label: "NaN literal" };
      case 3:
        return { body: "[".repeat(2000) + "]".repeat(2000), label: "deep array" };
      case 4:
        return { body: `{"${f}":` + '{"a":'.repeat(500) + "1" + "}".repeat(501), label: "deep object" };
      case 5:
        return { body: JSON.stringify(this.value()), label: "bare value" };
      case 6:
        return { body: "", label: "empty body" };
      case 7:
        return { body: "\u0000\u0001\u0002binary\uffff", label: "binary" };
      case 8:
        return { body: JSON.stringify({ [f]: "x".repeat(2 * 1024 * 1024) }), label: "2 MiB string" };
      default:
        return { body: `{"${f}": "unterminated`, label: "unterminated string" };
    }
  }

  request(route: RouteShape): FuzzRequest {
    const path = this.path(route.path) + this.query(route.queryFields);
    const headers: Record<string, string> = {};
    if (route.method === "GET" || route.method === "HEAD" || route.method === "DELETE") {
      if (route.method === "DELETE" && this.chance(0.3)) {
        headers["Content-Type"] = "application/json";
        return { method: route.method, path, headers, body: this.jsonBody(route.bodyFields), label: "DELETE with body" };
      }
      return { method: route.method, path, headers, label: "query/path" };
    }
    const mode = this.int(10);
    if (mode < 6) {
      headers["Content-Type"] = "application/json";
      return { method: route.method, path, headers, body: this.jsonBody(route.bodyFields), label: "hostile fields" };
    }
    const raw = this.rawBody(route.bodyFields);
    headers["Content-Type"] = this.pick(["application/json", "application/json; charset=utf-16", "text/plain", "application/x-www-form-urlencoded", "application/octet-stream"]);
    return { method: route.method, path, headers, body: raw.body, label: raw.label };
  }
}

/**
 * Idempotency-Key headers for the fuzz suite's native writes, drawn from a stream of their own so that
 * a seed still names the same requests: mostly fresh valid keys, some reused (a retry, or the same key
 * on another request), and keys the API must refuse (too long, empty, not printable ASCII).
 */
export class IdempotencyKeys {
  private readonly rand: () => number;
  private previous: string | null = null;

  constructor(seed: number) {
    this.rand = mulberry32(seed ^ 0x1de9);
  }

  /** The key for the i-th request, or null for none; only native writes get one. */
  next(i: number, method: string, path: string): string | null {
    if (!path.startsWith("/api/v1/") || !["POST", "PUT", "PATCH", "DELETE"].includes(method)) return null;
    const r = this.rand();
    if (r >= 0.3) return null;
    let key: string;
    if (r < 0.15 || this.previous === null) key = `fuzz-${i}`;
    else if (r < 0.22) key = this.previous;
    else if (r < 0.25) key = "k".repeat(256);
    else if (r < 0.27) key = "tab\there";
    else key = "";
    this.previous = key.length > 0 && key.length <= 255 && !key.includes("\t") ? key : this.previous;
    return key;
  }

  /** Whether to send a keyed request a second time, as a client retrying it would. */
  retry(): boolean {
    return this.rand() < 0.5;
  }
}
