/**
 * The drizzle schema: the single source of Tern's D1 tables. `npm run db:generate` turns changes
 * here into a new SQL migration in drizzle/.
 */
import { sqliteTable, text, integer, index } from "drizzle-orm/sqlite-core";

/** API tokens. Only a SHA-256 hash of the secret is stored; the token is shown once at creation. */
export const apiTokens = sqliteTable(
  "api_tokens",
  {
    /** The token's public lookup part: a token reads `tern_<id>_<secret>`. */
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    /** Hex SHA-256 of the secret part, compared in constant time. */
    secretHash: text("secret_hash").notNull(),
    /** JSON array of scopes: "read" | "write" | "admin". */
    scopes: text("scopes", { mode: "json" }).$type<string[]>().notNull(),
    createdAt: integer("created_at").notNull(),
    createdBy: text("created_by"),
    expiresAt: integer("expires_at"),
    lastUsedAt: integer("last_used_at"),
    revokedAt: integer("revoked_at"),
  },
  (t) => [index("api_tokens_created_at").on(t.createdAt)],
);

/** Small key/value facts about the installation itself (e.g. the last cron tick). */
export const systemState = sqliteTable("system_state", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
  updatedAt: integer("updated_at").notNull(),
});
