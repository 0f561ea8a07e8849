/**
 * Idempotency-Key rules, runtime-free: which keys are acceptable, what identifies a request (its
 * fingerprint), whose key it is, and what a request finds when its key is already taken.
 */
/** Keys and their stored responses are kept this long after the first request. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/**
 * A reservation whose request never finished (its isolate died) may be taken over after this long;
 * until then a retry is told the first request is still running.
 */
export const IN_FLIGHT_LEASE_MS = 5 * 60 * 1000;
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
/** Response bodies up to this size are stored for replay; larger ones are not (see replayOf). */
export const MAX_STORED_RESPONSE_BYTES = 1024 * 1024;
/** Seconds a client is told to wait before retrying a key whose first request is still running. */
export const IN_FLIGHT_RETRY_AFTER_S = 1;

const KEY_PATTERN = /^[\x20-\x7e]+$/;

/** The problem with a presented key, or null when it is acceptable (1-255 printable ASCII characters). */
export function keyProblem(key: string): string | null {
  if (key.length === 0) return "The Idempotency-Key header is empty";
  if (key.length > MAX_IDEMPOTENCY_KEY_LENGTH) return `The Idempotency-Key header is longer than ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`;
  if (!KEY_PATTERN.test(key)) return "The Idempotency-Key header may hold only printable ASCII characters";
  return null;
}

/** Whose keys these are: one namespace per API token; the bootstrap token and open mode have one each. */
export function principalScope(p: { kind: "open" | "token" | "bootstrap"; token_id: string | null }): string {
  return p.kind === "token" && p.token_id ? `token:${p.token_id}` : p.kind;
}

async function sha256Hex(data: BufferSource | string): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** What makes two requests "the same request": method, path with query string, and body bytes. */
export async function requestFingerprint(method: string, pathWithQuery: string, body: BufferSource): Promise<string> {
  return sha256Hex(`${method.toUpperCase()} ${pathWithQuery}\n${await sha256Hex(body)}`);
}

export interface KeyRecord {
  fingerprint: string;
  status: number | null;
  createdAt: number;
}

/**
 * What a request finds when its key is taken: take the key over (the record expired, or its request
 * died holding it), a mismatch (the key was used for a different request), a request still running,
 * or a stored response to replay.
 */
export type KeyState = "take_over" | "mismatch" | "in_flight" | "replay";

export function keyState(record: KeyRecord, fingerprint: string, now: number): KeyState {
  if (record.createdAt + IDEMPOTENCY_TTL_MS <= now) return "take_over";
  if (record.fingerprint !== fingerprint) return "mismatch";
  if (record.status === null) return record.createdAt + IN_FLIGHT_LEASE_MS <= now ? "take_over" : "in_flight";
  return "replay";
}

/** Whether a response is stored for replay: 2xx-4xx yes; a 5xx (or a throw) frees the key for a retry. */
export const storesResponse = (status: number): boolean => status < 500;
