// `tern agent --queue NAME`: a pull agent for pipeline tasks of kind `agent`. It claims tasks from a
// Tern over HTTP (server and token from --url/--token, TERN_URL/TERN_TOKEN or `tern login`) with a
// lease, runs each command in a shell, streams its stdout and stderr back in chunks, renews the lease
// with heartbeats (stopping the command when Tern says the attempt no longer counts), and reports the
// exit status and, if the command wrote JSON to the file named by $TERN_OUTPUT_FILE, that JSON as the
// task's output.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { serverFor } from "./config.mjs";

const LOG_FLUSH_MS = 1000;
const LOG_CHUNK_BYTES = 256 * 1024;
const KILL_GRACE_MS = 10_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class TernClient {
  constructor(url, token) {
    this.url = url.replace(/\/+$/, "");
    this.token = token;
    this.headers = { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) };
  }

  /** POSTs JSON; retries network failures and 5xx a few times, since agents outlive blips. */
  async post(path, body, attempts = 5) {
    let lastError;
    for (let i = 0; i < attempts; i++) {
      try {
        const res = await fetch(`${this.url}/api/v1${path}`, { method: "POST", headers: this.headers, body: JSON.stringify(body) });
        const json = await res.json().catch(() => null);
        if (res.ok) return json;
        const message = json?.error?.message ?? `HTTP ${res.status}`;
        if (res.status < 500) throw Object.assign(new Error(`${path}: ${message}`), { fatal: true });
        lastError = new Error(`${path}: ${message}`);
      } catch (err) {
        if (err.fatal) throw err;
        lastError = err;
      }
      await sleep(Math.min(8000, 250 * 2 ** i));
    }
    throw lastError;
  }
}

function log(message) {
  console.log(`[tern agent ${new Date().toISOString()}] ${message}`);
}

/** Runs one claimed task to the end and reports it. */
export async function runTask(client, task, { agentId, leaseSeconds }) {
  const attempt = { run_id: task.run_id, task_id: task.task_id, try_number: task.try_number, agent_id: agentId };
  const outDir = mkdtempSync(join(tmpdir(), "tern-task-"));
  const outputFile = join(outDir, "output.json");
  log(`run ${task.run_id} task ${task.task_id} try ${task.try_number}: ${task.command}`);
  const child = spawn("/bin/sh", ["-c", task.command], {
    // The agent's own server and token, so `tern` commands in the task (e.g. `tern run --execute`) reach the same Tern.
    env: { ...process.env, TERN_URL: client.url, ...(client.token ? { TERN_TOKEN: client.token } : {}), ...task.env, TERN_RUN_ID: task.run_id, TERN_TASK_ID: task.task_id, TERN_TRY_NUMBER: String(task.try_number), TERN_OUTPUT_FILE: outputFile },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });

  let buffer = "";
  let sending = Promise.resolve();
  // Sends whole lines (ended by \n, or \r for progress bars) while the command runs, so a token is never
  // split across two chunks (Tern masks tokens per chunk as it stores them); a line longer than a chunk,
  // and whatever is left at the end, go as they are.
  const flush = (final = false) => {
    const lineEnd = Math.max(buffer.lastIndexOf("\n"), buffer.lastIndexOf("\r")) + 1;
    const cut = final || (lineEnd === 0 && buffer.length >= LOG_CHUNK_BYTES) ? buffer.length : lineEnd;
    if (cut === 0) return sending;
    const text = buffer.slice(0, cut);
    buffer = buffer.slice(cut);
    sending = sending.then(() => client.post("/agents/logs", { ...attempt, text }).catch((err) => log(`could not send log: ${err.message}`)));
    return sending;
  };
  const onData = (stream) => (data) => {
    const text = data.toString("utf8");
    stream.write(text);
    buffer += text;
    if (buffer.length >= LOG_CHUNK_BYTES) flush();
  };
  child.stdout.on("data", onData(process.stdout));
  child.stderr.on("data", onData(process.stderr));
  const flusher = setInterval(() => flush(), LOG_FLUSH_MS);

  let stopped = false;
  const stop = (why) => {
    if (stopped || child.exitCode !== null) return;
    stopped = true;
    log(`stopping the command: ${why}`);
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {}
    setTimeout(() => {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
    }, KILL_GRACE_MS).unref();
  };
  const beat = setInterval(async () => {
    try {
      const hb = await client.post("/agents/heartbeat", { ...attempt, lease_seconds: leaseSeconds }, 2);
      if (!hb.keep_running) stop(`Tern says the attempt no longer counts (task is ${hb.state})`);
    } catch (err) {
      log(`heartbeat failed: ${err.message}`);
    }
  }, Math.max(1000, (leaseSeconds * 1000) / 4));

  const exitCode = await new Promise((resolve) => {
    child.on("error", (err) => {
      buffer += `\n[tern agent] could not start the command: ${err.message}\n`;
      resolve(127);
    });
    child.on("close", (code, signal) => resolve(code ?? 128 + (signal === "SIGKILL" ? 9 : signal === "SIGINT" ? 2 : 15)));
  });
  clearInterval(beat);
  clearInterval(flusher);
  await flush(true);

  let output;
  try {
    output = JSON.parse(readFileSync(outputFile, "utf8"));
  } catch {
    output = undefined;
  }
  rmSync(outDir, { recursive: true, force: true });
  if (stopped) {
    log(`task ${task.task_id} stopped (exit ${exitCode}); not reported`);
    return { exitCode, reported: false };
  }
  const res = await client.post("/agents/complete", { ...attempt, exit_code: exitCode, ...(output !== undefined ? { output } : {}) });
  log(`task ${task.task_id} try ${task.try_number} exited ${exitCode}: ${res.accepted ? `task is ${res.state}` : "Tern no longer counted this attempt"}`);
  return { exitCode, reported: res.accepted };
}

/** Claims and runs tasks of one queue, one at a time, until stopped (or `maxTasks` are done). */
export async function runAgent(options) {
  const client = new TernClient(options.url, options.token);
  const agentId = options.agentId;
  let done = 0;
  let stopping = false;
  const onSignal = () => {
    if (stopping) process.exit(130);
    stopping = true;
    log("stopping after the current task (Ctrl-C again to quit now)");
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  log(`agent ${agentId} polling queue '${options.queue}' at ${client.url}`);
  while (!stopping && (options.maxTasks === undefined || done < options.maxTasks)) {
    let claim;
    try {
      claim = await client.post("/agents/claim", { queue: options.queue, agent_id: agentId, lease_seconds: options.leaseSeconds });
    } catch (err) {
      if (err.fatal) throw err;
      log(`claim failed: ${err.message}`);
      await sleep(options.pollSeconds * 1000);
      continue;
    }
    if (!claim.task) {
      await sleep(options.pollSeconds * 1000);
      continue;
    }
    await runTask(client, claim.task, { agentId, leaseSeconds: options.leaseSeconds });
    done++;
  }
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
}

const positiveNumber = (name) => (value) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number`);
  return n;
};

export function registerAgent(program) {
  program
    .command("agent")
    .description("Run pipeline tasks of kind `agent` from a queue on this machine")
    .requiredOption("-q, --queue <name>", "the queue to take tasks from")
    .option("--url <url>", "Tern's address (else TERN_URL, else `tern login`'s, else http://127.0.0.1:8787)")
    .option("--token <token>", "an API token with write scope (else TERN_TOKEN, else `tern login`'s)")
    .option("--agent-id <id>", "how this agent is named in Tern", `${hostname()}-${process.pid}`)
    .option("--poll <seconds>", "how often to ask for work when the queue is empty", positiveNumber("--poll"), 1)
    .option("--lease <seconds>", "lease length; heartbeats renew it every quarter of it", positiveNumber("--lease"), 60)
    .option("--max-tasks <n>", "exit after running this many tasks", positiveNumber("--max-tasks"))
    .action(async (opts) => {
      try {
        const server = serverFor(opts);
        await runAgent({
          queue: opts.queue,
          url: server.url,
          token: server.token,
          agentId: opts.agentId,
          pollSeconds: opts.poll,
          leaseSeconds: Math.round(opts.lease),
          maxTasks: opts.maxTasks,
        });
      } catch (err) {
        console.error(`tern agent: ${err.message}`);
        process.exitCode = 1;
      }
    });
}
