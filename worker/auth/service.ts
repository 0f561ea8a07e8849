/**
 * API tokens: create (shown once), list, revoke, and verify a presented bearer token.
 * Token mode also accepts the bootstrap admin token from the TERN_ADMIN_TOKEN secret.
 */
import { ApiError, notFound } from "../http/errors";
import { constantTimeEqual, generateToken, parseToken, sha256Hex, type Scope } from "../lib/tokens";
import type { TokenRow, TokenStore } from "./store";

export interface TokenInfo {
  id: string;
  name: string;
  scopes: Scope[];
  created_at: number;
  created_by: string | null;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
  status: "active" | "expired" | "revoked";
}

export interface Principal {
  kind: "open" | "token" | "bootstrap";
  token_id: string | null;
  name: string;
  scopes: Scope[];
}

/** last_used_at is written at most this often per token, so reads stay cheap. */
const TOUCH_INTERVAL_MS = 60_000;

function toInfo(row: TokenRow, now: number): TokenInfo {
  const status = row.revokedAt != null ? "revoked" : row.expiresAt != null && row.expiresAt <= now ? "expired" : "active";
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes as Scope[],
    created_at: row.createdAt,
    created_by: row.createdBy,
    expires_at: row.expiresAt,
    last_used_at: row.lastUsedAt,
    revoked_at: row.revokedAt,
    status,
  };
}

export class TokenService {
  constructor(
    private readonly store: TokenStore,
    private readonly bootstrapToken: string | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  async create(input: { name: string; scopes: Scope[]; expires_at?: number | null }, createdBy: Principal): Promise<{ token: string; info: TokenInfo }> {
    const now = this.now();
    if (input.expires_at != null && input.expires_at <= now) {
      throw new ApiError("INVALID_PARAMETER_VALUE", "expires_at must be in the future");
    }
    const t = generateToken();
    const row: TokenRow = {
      id: t.id,
      name: input.name,
      secretHash: await sha256Hex(t.secret),
      scopes: [...new Set(input.scopes)],
      createdAt: now,
      createdBy: createdBy.token_id ?? createdBy.kind,
      expiresAt: input.expires_at ?? null,
      lastUsedAt: null,
      revokedAt: null,
    };
    await this.store.insert(row);
    return { token: t.token, info: toInfo(row, now) };
  }

  async list(): Promise<TokenInfo[]> {
    const now = this.now();
    return (await this.store.list()).map((r) => toInfo(r, now));
  }

  async revoke(id: string): Promise<TokenInfo> {
    const row = await this.store.get(id);
    if (!row) throw notFound(`Token '${id}' does not exist`);
    const now = this.now();
    if (row.revokedAt == null) {
      await this.store.revoke(id, now);
      row.revokedAt = now;
    }
    return toInfo(row, now);
  }

  /**
   * Returns who a bearer token belongs to, or null when it is unknown, revoked, expired or wrong.
   * `touch` receives the write of last_used_at so the caller can run it after the response.
   */
  async verify(presented: string, touch: (p: Promise<unknown>) => void): Promise<Principal | null> {
    if (this.bootstrapToken && (await constantTimeEqual(presented, this.bootstrapToken))) {
      return { kind: "bootstrap", token_id: null, name: "bootstrap admin", scopes: ["admin"] };
    }
    const parsed = parseToken(presented);
    if (!parsed) return null;
    const row = await this.store.get(parsed.id);
    // Hash anyway when the id is unknown, so timing does not tell which ids exist.
    const presentedHash = await sha256Hex(parsed.secret);
    if (!row) return null;
    if (!(await constantTimeEqual(presentedHash, row.secretHash))) return null;
    const now = this.now();
    if (row.revokedAt != null || (row.expiresAt != null && row.expiresAt <= now)) return null;
    if (row.lastUsedAt == null || now - row.lastUsedAt > TOUCH_INTERVAL_MS) touch(this.store.touch(row.id, now));
    return { kind: "token", token_id: row.id, name: row.name, scopes: row.scopes as Scope[] };
  }
}
