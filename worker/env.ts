/**
 * AppEnv: the one environment type of the Worker. Bindings come from `npm run types`
 * (wrangler types, in bindings.d.ts); secrets and request-scoped variables are added here.
 */
import type { Services } from "./services";
import type { Principal } from "./auth/service";

export interface Secrets {
  /** Bootstrap admin token for token mode (`wrangler secret put TERN_ADMIN_TOKEN`). */
  TERN_ADMIN_TOKEN?: string;
  /** How long beginning an export or import waits for every Worker to see the read-only mode (ms). */
  TERN_MAINTENANCE_GRACE_MS?: string;
}

export type WorkerBindings = Bindings & Secrets;

export interface AppEnv {
  Bindings: WorkerBindings;
  Variables: {
    requestId: string;
    services: Services;
    principal: Principal;
  };
}
