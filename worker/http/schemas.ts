/** OpenAPI schemas shared by every native route: the error body and its standard responses. */
import { z } from "@hono/zod-openapi";
import { ERROR_CODES } from "./errors";

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES as [string, ...string[]]),
      message: z.string(),
      request_id: z.string(),
    }),
  })
  .openapi("Error");

const errorResponse = (description: string) => ({ description, content: { "application/json": { schema: ErrorSchema } } });

/** The error responses every authenticated JSON route may give. */
export const standardErrors = {
  400: errorResponse("Invalid input (INVALID_PARAMETER_VALUE, MALFORMED_REQUEST)"),
  401: errorResponse("No valid token (UNAUTHENTICATED)"),
  403: errorResponse("The token lacks the needed scope (PERMISSION_DENIED)"),
  413: errorResponse("Body too large (PAYLOAD_TOO_LARGE)"),
  415: errorResponse("Body is not JSON (UNSUPPORTED_MEDIA_TYPE)"),
  429: errorResponse("Too many failed authentication attempts (REQUEST_LIMIT_EXCEEDED)"),
} as const;

export const notFoundError = { 404: errorResponse("No such resource (RESOURCE_DOES_NOT_EXIST)") } as const;

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { "application/json": { schema } },
});

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
