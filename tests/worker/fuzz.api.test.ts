/**
 * The fuzz suite: generated malformed and adversarial requests (tests/worker/fuzz-requests.ts) sent
 * round-robin to every route the router knows, as an admin, so they reach validation and the services.
 * It fails on any 5xx, any request that does not answer within its time, and any refused request (4xx)
 * that changed data: D1's change counter (SQLite's total_changes(), net of local D1's own count of one
 * per call) and every R2 write are watched around each request.
 * Some native writes carry an Idempotency-Key (valid, reused or invalid). A refused request with a
 * valid key keeps its answer for replay by design: the rows it changes in idempotent_requests are
 * counted apart, and must amount to exactly that request's stored answer; no reservation may ever be
 * left behind.
 * FUZZ_REQUESTS and FUZZ_SEED choose the run (10,000 requests and seed 1 in `npm test`; `npm run fuzz`
 * runs more).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../worker/index";
import { FuzzGenerator, IdempotencyKeys, MLFLOW_FIELDS, type RouteShape } from "./fuzz-requests";
import { call } from "./helpers";

const REQUESTS = Number(env.FUZZ_REQUESTS || 10_000);
const SEED = Number(env.FUZZ_SEED || 1);
const HANG_MS = 30_000;

/**
 * An R2 bucket that records the writes that took effect: objects stored (by a put or a completed
 * multipart upload) and existing objects deleted. A put that R2 refuses (a checksum mismatch) and the
 * deletion of a key that does not exist change nothing and are not recorded.
 */
function recordingBucket(bucket: R2Bucket, log: { stored: string[]; deleted: string[] }): R2Bucket {
  const upload = (u: R2MultipartUpload): R2MultipartUpload =>
    new Proxy(u, {
      get(target, prop) {
        const v = Reflect.get(target, prop, target);
        if (typeof v !== "function") return v;
        if (prop === "complete") return async (...args: unknown[]) => {
          const out = await v.apply(target, args);
          log.stored.push(target.key);
          return out;
        };
        return v.bind(target);
      },
    });
  return new Proxy(bucket, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target);
      if (typeof v !== "function") return v;
      if (prop === "put") return async (key: string, ...rest: unknown[]) => {
        const out = await v.call(target, key, ...rest);
        if (out) log.stored.push(key);
        return out;
      };
      if (prop === "delete") return async (keys: string | string[]) => {
        for (const k of Array.isArray(keys) ? keys : [keys]) if (await target.head(k)) log.deleted.push(k);
        return v.call(target, keys);
      };
      if (prop === "createMultipartUpload") return async (...args: unknown[]) => upload(await v.apply(target, args));
      if (prop === "resumeMultipartUpload") return (...args: unknown[]) => upload(v.apply(target, args));
      return v.bind(target);
    },
  });
}

const IDEMPOTENCY_TABLE = /\bidempotent_requests\b/;

/**
 * A D1 database that counts its calls. Local D1 adds one to SQLite's total_changes() for every call
 * (a batch is one call), so the rows a request changed are the counter's growth minus its calls.
 * Rows changed by statements on idempotent_requests (all run with run()) are also counted apart.
 */
function countingDb(db: D1Database, counter: { calls: number; idempotency: number }): D1Database {
  const targets = new WeakMap<object, D1PreparedStatement>();
  const statement = (stmt: D1PreparedStatement, sql: string): D1PreparedStatement => {
    const proxy = new Proxy(stmt, {
      get(target, prop) {
        const v = Reflect.get(target, prop, target);
        if (typeof v !== "function") return v;
        if (prop === "bind") return (...args: unknown[]) => statement(v.apply(target, args), sql);
        if (prop === "run" && IDEMPOTENCY_TABLE.test(sql)) {
          return async (...args: unknown[]) => {
            counter.calls++;
            const r = (await v.apply(target, args)) as D1Result;
            counter.idempotency += r.meta.changes;
            return r;
          };
        }
        if (prop === "first" || prop === "all" || prop === "run" || prop === "raw") return (...args: unknown[]) => (counter.calls++, v.apply(target, args));
        return v.bind(target);
      },
    });
    targets.set(proxy, stmt);
    return proxy;
  };
  return new Proxy(db, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target);
      if (typeof v !== "function") return v;
      if (prop === "prepare") return (sql: string) => statement(v.call(target, sql), sql);
      if (prop === "batch") return (stmts: D1PreparedStatement[]) => (counter.calls++, v.call(target, stmts.map((x) => targets.get(x) ?? x)));
      if (prop === "exec") return (sql: string) => (counter.calls++, v.call(target, sql));
      return v.bind(target);
    },
  });
}

/**
 * What a keyed request may have done to idempotent_requests: nothing (refused before or by the key
 * check, or replayed); stored its own answer under its key (a reservation and its completion); or,
 * for an unknown endpoint, whose 404 is raised past the middleware, reserved the key and released it
 * again (no row is left). Never may it leave a reservation behind.
 */
async function idempotencyProblem(key: string, res: { status: number; json: any }, changes: number): Promise<string | null> {
  const pending = await env.DB.prepare("SELECT COUNT(*) AS n FROM idempotent_requests WHERE status IS NULL").first<{ n: number }>();
  if (Number(pending?.n) !== 0) return `left ${pending?.n} reservation(s) behind`;
  if (changes === 0) return null;
  if (changes !== 2) return `changed ${changes} idempotent_requests rows`;
  const row = await env.DB.prepare("SELECT status FROM idempotent_requests WHERE principal = 'open' AND key = ?").bind(key).first<{ status: number }>();
  if (row) return row.status === res.status ? null : `kept status ${row.status} for its key but answered ${res.status}`;
  return res.json?.error?.code === "ENDPOINT_NOT_FOUND" ? null : "reserved its key and released it, yet answered neither a 5xx nor an unknown endpoint";
}

async function totalChanges(): Promise<number> {
  return Number((await env.DB.prepare("SELECT total_changes() AS n").first<{ n: number }>())?.n);
}

/** Body and query field names per route from the OpenAPI document; MLflow's names elsewhere. */
async function routeShapes(): Promise<RouteShape[]> {
  const doc = (await call("GET", "/api/v1/openapi.json", { mode: "open" })).json;
  const resolve = (s: any): any => (s?.$ref ? doc.components.schemas[s.$ref.split("/").pop()] : s);
  const seen = new Set<string>();
  const shapes: RouteShape[] = [];
  for (const r of app.routes) {
    const key = `${r.method} ${r.path}`;
    if (r.method === "ALL" || seen.has(key)) continue;
    seen.add(key);
    const op = doc.paths[r.path.replace(/:([A-Za-z_]+)(\{[^}]*\})?/g, "{$1}")]?.[r.method.toLowerCase()];
    const schema = resolve(op?.requestBody?.content?.["application/json"]?.schema);
    const bodyFields = Object.keys(resolve(schema)?.properties ?? {});
    const queryFields = (op?.parameters ?? []).map(resolve).filter((p: any) => p?.in === "query").map((p: any) => p.name);
    shapes.push({ method: r.method, path: r.path, bodyFields: op ? bodyFields : MLFLOW_FIELDS, queryFields });
  }
  return shapes;
}

describe("the fuzz suite", () => {
  it(`sends ${REQUESTS} hostile requests (seed ${SEED}): no 5xx, no hang, no refused request changes data`, async () => {
    const routes = await routeShapes();
    expect(routes.length).toBeGreaterThan(150);
    const gen = new FuzzGenerator(SEED);
    const r2 = { stored: [] as string[], deleted: [] as string[] };
    const BLOBS = recordingBucket(env.BLOBS, r2);
    const d1 = { calls: 0, idempotency: 0 };
    const keys = new IdempotencyKeys(SEED);
    let keyed = 0;
    let replayed = 0;
    const DB = countingDb(env.DB, d1);
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    for (let i = 0; i < REQUESTS && failures.length < 20; i++) {
      const route = routes[i % routes.length];
      const req = gen.request(route);
      const changesBefore = await totalChanges();
      r2.stored.length = 0;
      r2.deleted.length = 0;
      const callsBefore = d1.calls;
      const idempotencyBefore = d1.idempotency;
      const key = keys.next(i, req.method, req.path);
      if (key !== null) keyed++;
      const headers = key === null ? req.headers : { ...req.headers, "Idempotency-Key": key };
      let timer: ReturnType<typeof setTimeout> | undefined;
      const hung = new Promise<"hung">((resolve) => (timer = setTimeout(() => resolve("hung"), HANG_MS)));
      const res = await Promise.race([call(req.method, req.path, { mode: "open", headers, raw: req.body, env: { BLOBS, DB, TERN_MAINTENANCE_GRACE_MS: "0" } }), hung]);
      clearTimeout(timer);
      // Beginning an export or import makes the instance read-only on purpose: end it, so later writes are fuzzed too.
      if (res !== "hung" && res.status < 300 && /^\/api\/v1\/admin\/(export|import)\/begin/.test(req.path)) await call("POST", "/api/v1/admin/maintenance/end", { mode: "open" });
      const what = `#${i} ${req.method} ${req.path.slice(0, 160)} (${req.label}${key === null ? "" : `, Idempotency-Key ${JSON.stringify(key.slice(0, 40))}`})`;
      if (res === "hung") {
        failures.push(`${what}: no answer within ${HANG_MS} ms`);
        continue;
      }
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status >= 500) failures.push(`${what} → ${res.status}: ${res.text.slice(0, 300)}`);
      else if (res.status >= 400) {
        // One for each call the request made and one for this reading itself.
        const keptAnswer = d1.idempotency - idempotencyBefore;
        const changed = (await totalChanges()) - changesBefore - (d1.calls - callsBefore) - 1 - keptAnswer;
        // An object stored and removed again within the request (a staging key) is no change.
        const left = (await Promise.all(r2.stored.map(async (k) => ((await env.BLOBS.head(k)) ? k : null)))).filter((k) => k !== null);
        const removed = r2.deleted.filter((k) => !r2.stored.includes(k));
        if (changed !== 0 || left.length || removed.length) {
          failures.push(`${what} → ${res.status} but changed ${changed} D1 rows, left ${left.join(", ") || "no"} R2 objects and deleted ${removed.join(", ") || "none"}`);
        }
        if (res.json?.error?.code === undefined && res.json?.error_code === undefined && req.method !== "HEAD") failures.push(`${what} → ${res.status} without an error body: ${res.text.slice(0, 200)}`);
      }
      if (key !== null && res.status < 500) {
        if (res.headers.get("idempotent-replayed") === "true") replayed++;
        const problem = await idempotencyProblem(key, res, d1.idempotency - idempotencyBefore);
        if (problem) failures.push(`${what} → ${res.status}: ${problem}`);
        // A retry of a request whose answer was kept gets that answer back and changes nothing at all.
        const kept = await env.DB.prepare("SELECT status FROM idempotent_requests WHERE principal = 'open' AND key = ?").bind(key).first<{ status: number }>();
        const answerKept = kept?.status === res.status && (d1.idempotency - idempotencyBefore === 2 || res.headers.get("idempotent-replayed") === "true");
        if (!problem && answerKept && keys.retry()) {
          const before = await totalChanges();
          const calls = d1.calls;
          r2.stored.length = 0;
          r2.deleted.length = 0;
          const again = await call(req.method, req.path, { mode: "open", headers, raw: req.body, env: { BLOBS, DB, TERN_MAINTENANCE_GRACE_MS: "0" } });
          const changed = (await totalChanges()) - before - (d1.calls - calls) - 1;
          if (again.headers.get("idempotent-replayed") === "true") replayed++;
          if (again.status !== res.status || again.text !== res.text || again.headers.get("idempotent-replayed") !== "true" || changed !== 0 || r2.stored.length || r2.deleted.length) {
            failures.push(`${what} → ${res.status}, retried → ${again.status} (replayed: ${again.headers.get("idempotent-replayed")}), changed ${changed} D1 rows, R2 writes ${r2.stored.length + r2.deleted.length}`);
          }
        }
      }
    }
    const summary = [...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(" ");
    console.info(`fuzz: ${REQUESTS} requests, seed ${SEED}, ${routes.length} routes; statuses ${summary}; ${keyed} with an Idempotency-Key, ${replayed} replayed`);
    expect(failures).toEqual([]);
  }, 1_800_000);
});
