/**
 * Idempotency-Key handling for native writes, free of HTTP: begin() reserves the key or says what the
 * key already holds (a response to replay, a request still running, a different request); the request's
 * owner then completes the record with its response or releases it when the request failed.
 */
import { ApiError } from "../http/errors";
import { IDEMPOTENCY_TTL_MS, IN_FLIGHT_RETRY_AFTER_S, keyState } from "../lib/idempotency";
import type { IdempotencyStore, StoredResponse } from "./idempotency-store";

export type { StoredResponse };

export interface KeyedRequest {
  principal: string;
  key: string;
  fingerprint: string;
  method: string;
  path: string;
}

/** The reservation a request holds while it runs. */
export interface Reservation {
  principal: string;
  key: string;
  owner: string;
}

export type Begun = { kind: "execute"; reservation: Reservation } | { kind: "replay"; response: StoredResponse };

/** A reservation may vanish between a failed insert and the read (released or swept): try again. */
const MAX_ATTEMPTS = 3;

export class IdempotencyService {
  constructor(
    private readonly store: IdempotencyStore,
    private readonly now: () => number = Date.now,
  ) {}

  async begin(req: KeyedRequest): Promise<Begun> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const now = this.now();
      const row = { ...req, owner: crypto.randomUUID(), status: null, headers: null, body: null, createdAt: now };
      const reservation = { principal: req.principal, key: req.key, owner: row.owner };
      if (await this.store.reserve(row)) return { kind: "execute", reservation };
      const existing = await this.store.get(req.principal, req.key);
      if (!existing) continue;
      switch (keyState(existing, req.fingerprint, now)) {
        case "take_over":
          if (await this.store.takeOver(existing.owner, row)) return { kind: "execute", reservation };
          continue;
        case "mismatch":
          throw new ApiError(
            "INVALID_PARAMETER_VALUE",
            `This Idempotency-Key was first used for a different request (${existing.method} ${existing.path} with another body); use a new key for a new request`,
          );
        case "in_flight":
          throw new ApiError("INVALID_STATE", "A request with this Idempotency-Key is still being processed; retry shortly to get its response", {
            "Retry-After": String(IN_FLIGHT_RETRY_AFTER_S),
          });
        case "replay":
          if (existing.body === null) {
            throw new ApiError(
              "INVALID_STATE",
              `The first request with this Idempotency-Key was answered with status ${existing.status}, but its response was not kept (larger than 1 MiB, or it carried a secret); read the resource it made instead`,
            );
          }
          return {
            kind: "replay",
            response: { status: existing.status!, headers: existing.headers ? (JSON.parse(existing.headers) as Record<string, string>) : {}, body: existing.body },
          };
      }
    }
    throw new ApiError("INVALID_STATE", "This Idempotency-Key is contended; retry shortly", { "Retry-After": String(IN_FLIGHT_RETRY_AFTER_S) });
  }

  complete(r: Reservation, response: StoredResponse): Promise<void> {
    return this.store.complete(r.principal, r.key, r.owner, response);
  }

  release(r: Reservation): Promise<void> {
    return this.store.release(r.principal, r.key, r.owner);
  }

  /** Drops expired records (the cron job); begin() also ignores them, so the sweep is only housekeeping. */
  sweepExpired(): Promise<number> {
    return this.store.sweep(this.now() - IDEMPOTENCY_TTL_MS);
  }
}
