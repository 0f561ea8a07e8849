/**
 * Restart resume: a pipeline run with a retry waiting for its backoff and a wait task deferred to a
 * later time survives the runtime being killed. A real `wrangler dev` with its own persisted state is
 * killed (its whole process group, no clean shutdown) in the middle of the run and started again on the
 * same state; the run's Durable Object picks up its alarm, the retry happens and the run finishes, with
 * the record of the try made before the kill kept next to the one after.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DevServer, READY_WITHIN_MS, freePort, quiet, root, wrangler } from "./dev-process";

/** A flaky upstream service: answers 500 until told to recover, and records when it was called. */
function flakyService(): Promise<{ server: Server; port: number; calls: number[]; recover: () => void }> {
  const calls: number[] = [];
  let healthy = false;
  const server = createHttpServer((req, res) => {
    calls.push(Date.now());
    res.writeHead(healthy ? 200 : 500, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ healthy }));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, port: (server.address() as { port: number }).port, calls, recover: () => (healthy = true) })));
}

let dev: DevServer;
let state: string;

beforeAll(async () => {
  state = mkdtempSync(join(tmpdir(), "tern-restart-"));
  const migrate = spawnSync(wrangler, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], { cwd: root, env: quiet, encoding: "utf8" });
  if (migrate.status !== 0) throw new Error(`applying migrations failed:\n${migrate.stdout}\n${migrate.stderr}`);
  dev = new DevServer(state, await freePort());
  await dev.start();
}, READY_WITHIN_MS + 60_000);

afterAll(async () => {
  await dev?.kill("SIGTERM");
  rmSync(state, { recursive: true, force: true });
});

async function api(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${dev.url}/api/v1${path}`, { method, headers: body === undefined ? {} : { "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function waitForRun(runId: string, until: (run: any) => boolean, ms: number): Promise<any> {
  const deadline = Date.now() + ms;
  let run: any;
  while (Date.now() < deadline) {
    run = await api("GET", `/pipeline-runs/${runId}`);
    if (until(run)) return run;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`run ${runId} did not get there in ${ms / 1000} s: ${JSON.stringify(run)}`);
}

const task = (run: any, id: string) => run.tasks.find((t: any) => t.task_id === id);

describe("pipeline runs survive a restart of the runtime", () => {
  it("a retry with backoff and a deferred wait continue after wrangler dev is killed and started again, with every try on record", async () => {
    const upstream = await flakyService();
    try {
      const spec = {
        tasks: {
          // Fails now; the next try is due 8 s later, which falls after the kill.
          flaky: { kind: "http", url: `http://127.0.0.1:${upstream.port}/prices`, retries: 3, retry_delay: 8 },
          // Deferred until 10 s after it started.
          pause: { kind: "wait", seconds: 10 },
          report: { kind: "noop", depends_on: ["flaky", "pause"] },
        },
      };
      const { pipeline_id } = await api("POST", "/pipelines", { name: "restart-resume", spec });
      const { run_id } = await api("POST", `/pipelines/${pipeline_id}/runs`, {});
      const before = await waitForRun(run_id, (r) => task(r, "flaky").state === "up_for_retry" && task(r, "pause").state === "running", 20_000);
      expect(task(before, "flaky")).toMatchObject({ try_number: 1, error: expect.stringMatching(/answered 500/) });
      const retryAt = task(before, "flaky").retry_at;
      expect(retryAt).toBeGreaterThan(Date.now());

      await dev.kill("SIGKILL");
      const killedAt = Date.now();
      upstream.recover();
      await dev.start();

      const after = await waitForRun(run_id, (r) => r.state === "success" || r.state === "failed", 90_000);
      expect(after.state, JSON.stringify(after)).toBe("success");
      expect(task(after, "flaky")).toMatchObject({ state: "success", try_number: 2, output: { status: 200, body: { healthy: true } } });
      expect(task(after, "pause")).toMatchObject({ state: "success", try_number: 1 });
      expect(task(after, "report").state).toBe("success");
      // The retry kept its schedule across the restart: not before retry_at, and after the kill.
      expect(upstream.calls).toHaveLength(2);
      expect(upstream.calls[1]).toBeGreaterThanOrEqual(Math.max(retryAt, killedAt));
      expect(task(after, "pause").ended_at).toBeGreaterThanOrEqual(task(after, "pause").started_at + 10_000);
      // The first try's record, written before the kill, is still there next to the second's.
      const attempts = (await api("GET", `/pipeline-runs/${run_id}/tasks/flaky/attempts`)).attempts;
      expect(attempts.map((a: any) => [a.try_number, a.state])).toEqual([
        [2, "success"],
        [1, "up_for_retry"],
      ]);
      expect(attempts[1]).toMatchObject({ started_at: task(before, "flaky").started_at, ended_at: task(before, "flaky").ended_at, error: task(before, "flaky").error });
      expect(attempts[0].started_at).toBeGreaterThanOrEqual(retryAt);
      expect(task(after, "flaky").attempts).toEqual(attempts);
    } finally {
      upstream.server.close();
    }
  }, 420_000);
});
