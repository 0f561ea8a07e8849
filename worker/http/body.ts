/**
 * Request-body guards for JSON APIs: a size limit that answers PAYLOAD_TOO_LARGE, and a content-type
 * check that answers UNSUPPORTED_MEDIA_TYPE instead of silently validating an empty object.
 */
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "../env";
import { ApiError } from "./errors";

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

function hasBody(req: Request): boolean {
  const length = req.headers.get("content-length");
  if (length != null) return Number(length) > 0;
  return req.body != null;
}

/** For methods that carry a body: the body, when there is one, must be JSON. */
export function requireJsonBody(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const m = c.req.method;
    if ((m === "POST" || m === "PUT" || m === "PATCH") && hasBody(c.req.raw)) {
      const type = c.req.header("content-type") ?? "";
      if (!JSON_TYPE.test(type)) {
        throw new ApiError("UNSUPPORTED_MEDIA_TYPE", `Expected 'Content-Type: application/json', got '${type || "none"}'`);
      }
    }
    return next();
  };
}
