/**
 * Request-body guards for JSON APIs: a size limit that answers PAYLOAD_TOO_LARGE, and a content-type
 * check that answers UNSUPPORTED_MEDIA_TYPE instead of silently validating an empty object.
 */
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "../env";
import { ApiError } from "./errors";
import { exceedsJsonDepth, MAX_JSON_DEPTH } from "../lib/json-depth";

export const DEFAULT_JSON_LIMIT = 1024 * 1024;

export function limitBody(maxSize: number = DEFAULT_JSON_LIMIT): MiddlewareHandler<AppEnv> {
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new ApiError("PAYLOAD_TOO_LARGE", `The request body exceeds the limit of ${maxSize} bytes`);
    },
  });
}

const JSON_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;

/** Whether the request's body is empty; a body of unknown length (chunked) is read to find out. */
async function emptyBody(req: Request): Promise<boolean> {
  if (req.body == null) return true;
  const length = req.headers.get("content-length");
  if (length != null) return Number(length) === 0;
  return (await req.clone().arrayBuffer()).byteLength === 0;
}

/** The same request with no body and no headers describing one. */
function withoutBody(req: Request): Request {
  const headers = new Headers(req.headers);
  headers.delete("content-type");
  headers.delete("content-length");
  return new Request(req.url, { method: req.method, headers });
}

/**
 * For methods that carry a body: the body, when there is one, must be JSON. An empty body counts as
 * none whatever its Content-Type says (curl -d '', clients that always send a JSON header), so routes
 * whose body is optional read it as absent instead of failing to parse "".
 */
export function requireJsonBody(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const m = c.req.method;
    if (m === "POST" || m === "PUT" || m === "PATCH") {
      if (await emptyBody(c.req.raw)) {
        if (c.req.raw.body != null || c.req.header("content-type")) c.req.raw = withoutBody(c.req.raw);
      } else {
        const type = c.req.header("content-type") ?? "";
        if (!JSON_TYPE.test(type)) {
          throw new ApiError("UNSUPPORTED_MEDIA_TYPE", `Expected 'Content-Type: application/json', got '${type || "none"}'`);
        }
      }
    }
    return next();
  };
}

/**
 * Refuses JSON bodies nested deeper than MAX_JSON_DEPTH with 400, before any handler parses them.
 * Runs after limitBody (the text it reads is bounded) and reads the body through Hono's cache, so the
 * handler's own c.req.json()/text() gets the same text without a second read.
 */
export function limitJsonDepth(max: number = MAX_JSON_DEPTH): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const m = c.req.method;
    if ((m === "POST" || m === "PUT" || m === "PATCH" || m === "DELETE") && c.req.raw.body != null && JSON_TYPE.test(c.req.header("content-type") ?? "")) {
      assertJsonDepth(await c.req.text(), max);
    }
    return next();
  };
}

/** Throws INVALID_PARAMETER_VALUE when `text` nests deeper than `max`. */
export function assertJsonDepth(text: string, max: number = MAX_JSON_DEPTH): void {
  if (exceedsJsonDepth(text, max)) throw new ApiError("INVALID_PARAMETER_VALUE", `The JSON body nests deeper than ${max} levels`);
}
