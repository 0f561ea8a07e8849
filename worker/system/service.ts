/**
 * Health of the installation: each binding (D1, R2, every Durable Object namespace) probed and reported
 * as ok/error, plus the scheduler's last tick so a stuck cron is visible.
 */
import type { SystemStore } from "./store";

export type ProbeStatus = { status: "ok"; latency_ms: number } | { status: "error"; error: string; latency_ms: number };

export interface Health {
  status: "ok" | "degraded";
  auth_mode: "open" | "token";
  version: string;
  bindings: { d1: ProbeStatus; r2: ProbeStatus; durable_objects: Record<string, ProbeStatus> };
  scheduler: { last_tick_at: number | null; last_tick_cron: string | null };
}

/** What every Tern Durable Object answers for health checks (see durable-object.ts). */
export interface Pingable {
  ping(): Promise<{ ok: true; class: string }>;
}

export const LAST_TICK_KEY = "scheduler.last_tick";
export const VERSION = "0.1.0";
const PROBE_TIMEOUT_MS = 5_000;

/** The error's message with its causes (drivers wrap the interesting part). */
function describe(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e != null && parts.length < 4; e = e instanceof Error ? e.cause : null) {
    parts.push(e instanceof Error ? e.message : String(e));
  }
  return parts.join(": ");
}

async function probe(run: () => Promise<unknown>): Promise<ProbeStatus> {
  const started = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      run(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
      }),
    ]);
    return { status: "ok", latency_ms: Date.now() - started };
  } catch (err) {
    return { status: "error", error: describe(err), latency_ms: Date.now() - started };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

export interface HealthTargets {
  blobs: R2Bucket;
  durableObjects: Record<string, DurableObjectNamespace>;
  authMode: "open" | "token";
}

/**
 * Every Durable Object namespace among the bindings, found by its runtime class so a new one is probed
 * without edits. (Duck typing does not work: service bindings answer any property name as an RPC.)
 */
export function durableObjectNamespaces(env: object): Record<string, DurableObjectNamespace> {
  const out: Record<string, DurableObjectNamespace> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value && typeof value === "object" && Object.getPrototypeOf(value)?.constructor?.name === "DurableObjectNamespace") {
      out[name] = value as DurableObjectNamespace;
    }
  }
  return out;
}

export class SystemService {
  constructor(
    private readonly store: SystemStore,
    private readonly targets: HealthTargets,
  ) {}

  async health(): Promise<Health> {
    const doEntries = Object.entries(this.targets.durableObjects);
    const [d1, r2, ...dos] = await Promise.all([
      probe(() => this.store.ping()),
      probe(() => this.targets.blobs.head("health-probe")),
      ...doEntries.map(([, ns]) => probe(() => (ns.get(ns.idFromName("health-probe")) as unknown as Pingable).ping())),
    ]);
    const durable_objects = Object.fromEntries(doEntries.map(([name], i) => [name, dos[i]]));
    let tick: { at: number; cron: string } | null = null;
    try {
      const raw = await this.store.get(LAST_TICK_KEY);
      tick = raw ? (JSON.parse(raw) as { at: number; cron: string }) : null;
    } catch {
      tick = null;
    }
    const all = [d1, r2, ...dos];
    return {
      status: all.every((p) => p.status === "ok") ? "ok" : "degraded",
      auth_mode: this.targets.authMode,
      version: VERSION,
      bindings: { d1, r2, durable_objects },
      scheduler: { last_tick_at: tick?.at ?? null, last_tick_cron: tick?.cron ?? null },
    };
  }

  async recordTick(cron: string, at: number): Promise<void> {
    await this.store.set(LAST_TICK_KEY, JSON.stringify({ at, cron }), at);
  }
}
