/**
 * The closed error vocabulary of the native API: every failure a client can see is one of these codes,
 * with one HTTP status each, in the body `{"error":{"code","message","request_id"}}`.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";

export const ERROR_STATUS = {
  INVALID_PARAMETER_VALUE: 400,
  MALFORMED_REQUEST: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  RESOURCE_DOES_NOT_EXIST: 404,
  ENDPOINT_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  RESOURCE_ALREADY_EXISTS: 409,
  INVALID_STATE: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  REQUEST_LIMIT_EXCEEDED: 429,
  INTERNAL_ERROR: 500,
  TEMPORARILY_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export type ErrorStatus = (typeof ERROR_STATUS)[ErrorCode];
export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

export interface ErrorBody {
  error: { code: ErrorCode; message: string; request_id: string };
}

/** Thrown by services and middleware; turned into the error body by the app's onError. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: ErrorStatus;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.headers = headers;
  }
}

export const invalid = (message: string) => new ApiError("INVALID_PARAMETER_VALUE", message);
export const notFound = (message: string) => new ApiError("RESOURCE_DOES_NOT_EXIST", message);
export const alreadyExists = (message: string) => new ApiError("RESOURCE_ALREADY_EXISTS", message);

const STATUS_TO_CODE: Record<number, ErrorCode> = {
  400: "MALFORMED_REQUEST",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "ENDPOINT_NOT_FOUND",
  405: "METHOD_NOT_ALLOWED",
  409: "INVALID_STATE",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  429: "REQUEST_LIMIT_EXCEEDED",
  503: "TEMPORARILY_UNAVAILABLE",
};

/** Maps anything thrown to an ApiError; unknown errors become INTERNAL_ERROR without their details. */
export function toApiError(err: unknown): { error: ApiError; unexpected: boolean } {
  if (err instanceof ApiError) return { error: err, unexpected: false };
  // Hono's HTTPException (malformed JSON, body limit, ...) carries a status; keep its message.
  if (err instanceof HTTPException) {
    const code = STATUS_TO_CODE[err.status];
    if (code) return { error: new ApiError(code, err.message || code), unexpected: false };
  }
  return { error: new ApiError("INTERNAL_ERROR", "An internal error occurred"), unexpected: true };
}

export function errorBody(error: ApiError, requestId: string): ErrorBody {
  return { error: { code: error.code, message: error.message, request_id: requestId } };
}

/** The app's onError: one error body for everything; unexpected errors are logged, never leaked. */
export function handleError(err: unknown, c: Context): Response {
  const { error, unexpected } = toApiError(err);
  const id: string = c.get("requestId") ?? crypto.randomUUID();
  if (unexpected) {
    console.error(JSON.stringify({ event: "request.unexpected_error", request_id: id, path: c.req.path, error: String(err) }));
  }
  return c.json(errorBody(error, id), error.status, { ...error.headers, "X-Request-Id": id });
}
