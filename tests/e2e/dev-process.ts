/**
 * Real `wrangler dev` processes for end-to-end tests that need their own server: each on a free port
 * with its own persisted state directory, in its own process group so a test can kill it as a crash
 * would.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";

export const root = join(import.meta.dirname, "..", "..");
export const wrangler = join(root, "node_modules", ".bin", "wrangler");
export const quiet = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true", NO_COLOR: "1", TERN_DEV_CRON: "off" };
/** wrangler dev on a busy 2-core machine can take minutes to come up. */
export const READY_WITHIN_MS = 240_000;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

/** One wrangler dev process (its own process group) on a persisted state directory. */
export class DevServer {
  private child: ChildProcess | null = null;
  output = "";
  constructor(
    readonly state: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const args = ["dev", "--ip", "127.0.0.1", "--port", String(this.port), "--persist-to", this.state, "--inspector-port", "0", "--var", "AUTH_MODE:open"];
    const child = spawn(wrangler, args, { cwd: root, env: quiet, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    child.stdout!.on("data", (d) => (this.output += d));
    child.stderr!.on("data", (d) => (this.output += d));
    const deadline = Date.now() + READY_WITHIN_MS;
    while (Date.now() < deadline) {
      if (child.exitCode != null) throw new Error(`wrangler dev exited with ${child.exitCode}:\n${this.output}`);
      try {
        if ((await fetch(`${this.url}/api/v1/health`)).ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`wrangler dev did not become ready within ${READY_WITHIN_MS / 1000} s:\n${this.output}`);
  }

  /** Kills the whole process group at once (wrangler and workerd), as a crash or a closed laptop would. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const child = this.child;
    if (!child?.pid || child.exitCode != null || child.signalCode != null) return;
    const exited = new Promise((r) => child.once("exit", r));
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
    await exited;
    this.child = null;
  }
}
