// Every test file starts from isolated storage: apply the drizzle migrations to its D1 first.
import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
