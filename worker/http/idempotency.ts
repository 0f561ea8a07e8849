/**
 * The Idempotency-Key middleware of the native API's writes (POST/PUT/PATCH/DELETE). A request that
 * carries the header reserves its key before it runs; a retry with the same key, method, path and
 * body gets the first response back with `Idempotent-Replayed: true` and changes nothing. A retry
 * while the first is still running gets 409 INVALID_STATE with Retry-After; the same key on a
 * different request gets 400 INVALID_PARAMETER_VALUE. A 5xx, or an error raised past this middleware
 * (only an unknown endpoint's 404 is), frees the key; 2xx-4xx answers are kept for 24 hours. Without
 * the header nothing changes.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { readAtMost } from "../lib/bounded-read";
import { keyProblem, MAX_STORED_RESPONSE_BYTES, principalScope, requestFingerprint, storesResponse } from "../lib/idempotency";
import type { StoredResponse } from "../system/idempotency-service";
import { limitBody } from "./body";
import { invalid } from "./errors";

export const IDEMPOTENCY_KEY_HEADER = "Idempotency-Key";
export const REPLAYED_HEADER = "Idempotent-Replayed";
const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);
/** Response headers a replay repeats; the rest (X-Request-Id, CORS) belong to the retry itself. */
const KEPT_HEADERS = ["content-type", "location"];
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

export interface IdempotencyOptions {
  /** Requests the header does not apply to: raw streaming uploads and POSTs that only read. */
  skip: (c: Context<AppEnv>) => boolean;
  /** Routes whose success carries a secret: its status is kept (so the write is not repeated), never its body. */
  secretResponses: readonly RegExp[];
  /** Bodies are buffered to be hashed: the largest JSON body any of these routes takes. */
  maxBody: number;
}

/** A response body as UTF-8 text when it is at most `limit` bytes of valid UTF-8; else null. */
async function boundedText(res: Response, limit: number): Promise<string | null> {
  if (!res.body) return "";
  const bytes = await readAtMost(res.body, limit);
  if (bytes === null) return null;
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return null;
  }
}

async function capture(res: Response, keepBody: boolean): Promise<StoredResponse> {
  const headers: Record<string, string> = {};
  for (const h of KEPT_HEADERS) {
    const v = res.headers.get(h);
    if (v !== null) headers[h] = v;
  }
  const body = keepBody ? await boundedText(res.clone(), MAX_STORED_RESPONSE_BYTES) : null;
  return { status: res.status, headers, body };
}

const hasCachedBody = (c: Context<AppEnv>): boolean => Object.keys(c.req.bodyCache).length > 0;

export function idempotency(opts: IdempotencyOptions): MiddlewareHandler<AppEnv> {
  const keyed = async (c: Context<AppEnv>, next: () => Promise<void>): Promise<void> => {
    const key = c.req.header(IDEMPOTENCY_KEY_HEADER)!;
    // A body an earlier middleware read (the JSON depth check) comes from Hono's cache; an unread one is
    // read from a copy, so the route's own middleware and handler still get the stream.
    const body = hasCachedBody(c) ? await c.req.arrayBuffer() : c.req.raw.body ? await c.req.raw.clone().arrayBuffer() : new ArrayBuffer(0);
    const url = new URL(c.req.url);
    const path = url.pathname + url.search;
    const service = c.var.services.idempotency;
    const begun = await service.begin({
      principal: principalScope(c.var.principal),
      key,
      fingerprint: await requestFingerprint(c.req.method, path, body),
      method: c.req.method,
      path: url.pathname.slice(0, 1000),
    });
    if (begun.kind === "replay") {
      const r = begun.response;
      const headers = { ...r.headers, [REPLAYED_HEADER]: "true" };
      c.res = NULL_BODY_STATUSES.has(r.status) ? c.body(null, r.status as never, headers) : c.body(r.body ?? "", r.status as never, headers);
      return;
    }
    try {
      await next();
    } catch (err) {
      await service.release(begun.reservation);
      throw err;
    }
    // c.error is set for a thrown 4xx too, so the status decides: only a 5xx frees the key.
    if (!storesResponse(c.res.status)) {
      await service.release(begun.reservation);
      return;
    }
    // Only a success carries the secret; a refusal's error body is kept like any other.
    const keepBody = c.res.status >= 300 || !opts.secretResponses.some((r) => r.test(c.req.path));
    try {
      await service.complete(begun.reservation, await capture(c.res, keepBody));
    } catch (err) {
      // The write happened: answer it. The key stays reserved, so retries wait (409) until the
      // reservation's lease runs out instead of running the write again at once.
      console.error(JSON.stringify({ event: "idempotency.complete_failed", request_id: c.get("requestId"), error: String(err) }));
    }
  };
  return async (c, next) => {
    if (!WRITE_METHODS.has(c.req.method) || opts.skip(c)) return next();
    const key = c.req.header(IDEMPOTENCY_KEY_HEADER);
    if (key === undefined) return next();
    const problem = keyProblem(key);
    if (problem) throw invalid(problem);
    // A body an earlier middleware already read (the JSON depth check, behind the API's own size limit)
    // is in Hono's cache and bounded; an unread one is bounded here before it is buffered for hashing.
    if (hasCachedBody(c)) return keyed(c, next);
    return limitBody(opts.maxBody)(c, () => keyed(c, next));
  };
}
