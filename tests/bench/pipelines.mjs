#!/usr/bin/env node
// npm run bench:pipelines — pipeline scheduling latency against a running Tern (TERN_URL, default the
// local dev server; one is started on a free port with fresh state when none answers).
//  1. a 100-task fan-out/fan-in DAG of noop tasks (1 root → 98 in parallel → 1 join);
//  2. a 100-task linear chain of noop tasks.
// For each: total wall time from trigger to the run's success as the client sees it, the run's own
// duration, and the hand-off latency of every dependency edge (upstream ended → downstream started, by
// the run's timestamps). Baseline measured in the same run: one round trip to a run's Durable Object
// (GET /api/v1/pipeline-runs/{id}: HTTP, a D1 lookup and one DO call). Environment: TERN_URL, TERN_TOKEN,
// BENCH_REPEAT (3).
import { benchHeaders, benchServer } from "./server.mjs";

const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const headers = benchHeaders;
let base = process.env.TERN_URL ?? "http://127.0.0.1:8787";
let server = null;

async function call(method, path, body) {
  const res = await fetch(`${base}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const ms = (x) => `${x.toFixed(1)} ms`;

function fanOutFanIn() {
  const tasks = { root: { kind: "noop" } };
  for (let i = 0; i < 98; i++) tasks[`w${String(i).padStart(2, "0")}`] = { kind: "noop", depends_on: ["root"] };
  tasks.join = { kind: "noop", depends_on: Object.keys(tasks).filter((t) => t !== "root") };
  return { max_active_tasks: 100, tasks };
}

function chain() {
  const tasks = {};
  for (let i = 0; i < 100; i++) tasks[`t${String(i).padStart(3, "0")}`] = i === 0 ? { kind: "noop" } : { kind: "noop", depends_on: [`t${String(i - 1).padStart(3, "0")}`] };
  return { tasks };
}

/** Hand-offs by the run's timestamps: for each task, its start minus the latest end of its upstream tasks. */
function handOffs(spec, run) {
  const byId = Object.fromEntries(run.tasks.map((t) => [t.task_id, t]));
  const out = [];
  for (const [id, t] of Object.entries(spec.tasks)) {
    if (!t.depends_on?.length) continue;
    const ready = Math.max(...t.depends_on.map((u) => byId[u].ended_at));
    out.push(byId[id].started_at - ready);
  }
  return out;
}

async function runOnce(pipelineId, spec) {
  const t0 = performance.now();
  const { run_id } = await call("POST", `/pipelines/${pipelineId}/runs`, {});
  let run;
  for (;;) {
    run = await call("GET", `/pipeline-runs/${run_id}`);
    if (run.state === "success" || run.state === "failed") break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const wall = performance.now() - t0;
  if (run.state !== "success") throw new Error(`run ${run_id} ended ${run.state}`);
  const cycles = run.tasks.map((t) => t.ended_at - t.started_at);
  return { run_id, wall, duration: run.ended_at - run.started_at, handoffs: handOffs(spec, run), cycles };
}

async function main() {
  server = await benchServer(base);
  base = server.url;
  console.log(`Tern at ${base}; ${REPEAT} runs of each DAG\n`);
  const stamp = Date.now();
  const dags = [
    ["100-task fan-out/fan-in (1 → 98 → 1)", fanOutFanIn()],
    ["100-task linear chain", chain()],
  ];
  const results = [];
  let lastRunId = null;
  for (const [name, spec] of dags) {
    const { pipeline_id } = await call("POST", "/pipelines", { name: `bench-${name.replace(/\W+/g, "-")}-${stamp}`, spec });
    await runOnce(pipeline_id, spec); // warm-up: first Durable Object of the class, first D1 pages
    const runs = [];
    for (let i = 0; i < REPEAT; i++) runs.push(await runOnce(pipeline_id, spec));
    lastRunId = runs.at(-1).run_id;
    const hand = runs.flatMap((r) => r.handoffs);
    const cycles = runs.flatMap((r) => r.cycles);
    results.push({ name, runs, hand, cycles, chain: name.includes("chain") });
  }

  // Baseline: one round trip to a run's Durable Object through the API.
  const rt = [];
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    await call("GET", `/pipeline-runs/${lastRunId}`);
    rt.push(performance.now() - t);
  }
  const baseline = mean(rt);
  console.log(`baseline: one API round trip to a run's Durable Object (GET /pipeline-runs/{id}): mean ${ms(baseline)}, p50 ${ms(pct(rt, 50))}\n`);
  for (const { name, runs, hand, cycles, chain } of results) {
    const duration = mean(runs.map((r) => r.duration));
    console.log(name);
    console.log(`  total wall time (trigger → success seen by the client): mean ${ms(mean(runs.map((r) => r.wall)))}  [${runs.map((r) => Math.round(r.wall)).join(", ")} ms]`);
    console.log(`  run duration (started → ended, server clock):           mean ${ms(duration)}`);
    // The downstream task starts in the same state transition that records its upstream's success.
    console.log(`  upstream done → downstream running, by timestamps (${hand.length} edges): mean ${ms(mean(hand))}, max ${ms(Math.max(...hand))}`);
    console.log(`  one task cycle (noop running → its success applied, state persisted): mean ${ms(mean(cycles))}, p95 ${ms(pct(cycles, 95))}`);
    if (chain) {
      const perHop = duration / 99;
      console.log(`  chain: run duration / 99 hand-offs = ${ms(perHop)} per hand-off = ${(perHop / baseline).toFixed(2)}× the baseline round trip`);
    }
    console.log("");
  }
}

try {
  await main();
} finally {
  server?.stop();
}
