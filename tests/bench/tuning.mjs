#!/usr/bin/env node
// npm run bench:tuning — tuning quality and speed against a running Tern (TERN_URL, default the local dev
// server; one is started on a free port with fresh state when none answers).
//  a) quality: test functions over continuous, log-scaled, integer, stepped, categorical and conditional
//     spaces plus a noisy objective; BENCH_TRIALS (100) trials × BENCH_SEEDS (10) seeds per sampler, all
//     through HTTP ask/suggest/tell. Prints the mean regret per function and sampler, and TPE / random.
//  b) speed: median ask latency over HTTP with 100, 1000 and 2000 completed trials in a 6-D space, against
//     the same TPE call in-process in Node on the same trials, measured in the same run (the baseline: the
//     difference is HTTP and storage overhead), with ratios, and ask+tell throughput from 16 concurrent
//     clients. Beside each, a read round trip (one trial) and the two writes of a trial without sampling
//     (an ask without a search space, which stores a trial, and its tell), so the overhead can be split
//     into the runtime's request cost, the cost of storing the ask and the tell, and the rest.
// Environment: TERN_URL, TERN_TOKEN, BENCH_TRIALS, BENCH_SEEDS, BENCH_SAMPLERS (tpe,random, or every
// registered type), BENCH_CHECKPOINTS (100,1000,2000), BENCH_ASKS (40 timed asks per checkpoint),
// BENCH_CLIENTS (16), BENCH_THROUGHPUT_TRIALS (400), BENCH_PARALLEL (6 studies at a time), BENCH_SKIP
// (quality or speed).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { benchHeaders, benchServer } from "./server.mjs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const env = process.env;
const TRIALS = Number(env.BENCH_TRIALS ?? 100);
const SEEDS = Number(env.BENCH_SEEDS ?? 10);
const CHECKPOINTS = (env.BENCH_CHECKPOINTS ?? "100,1000,2000").split(",").map(Number);
const ASKS = Number(env.BENCH_ASKS ?? 40);
const CLIENTS = Number(env.BENCH_CLIENTS ?? 16);
const THROUGHPUT_TRIALS = Number(env.BENCH_THROUGHPUT_TRIALS ?? 400);
const PARALLEL = Number(env.BENCH_PARALLEL ?? 6);
const SKIP = new Set((env.BENCH_SKIP ?? "").split(",").filter(Boolean));
const headers = benchHeaders;
let base = env.TERN_URL ?? "http://127.0.0.1:8787";
let server = null;

async function request(method, path, body) {
  const res = await fetch(`${base}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}
const post = (path, body) => request("POST", path, body);
const get = (path) => request("GET", path);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const ms = (x) => `${x.toFixed(1)} ms`;

async function pool(count, worker) {
  await Promise.all(Array.from({ length: count }, (_, i) => worker(i)));
}

/** Runs `tasks` with at most `limit` in flight. */
async function limited(tasks, limit) {
  let next = 0;
  const out = new Array(tasks.length);
  await pool(Math.min(limit, tasks.length), async () => {
    for (let i = next++; i < tasks.length; i = next++) out[i] = await tasks[i]();
  });
  return out;
}

/** A small deterministic generator for the noisy objective (independent of the samplers' streams). */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const float = (low, high, extra = {}) => ({ type: "float", low, high, ...extra });

// ---------------------------------------------------------------------------------------------------------
// Test functions: `space` is asked at once; `conditional` ones are define-by-run through suggest.
// Each `f` returns {observed, truth}; regret = truth(best observed trial) − optimum.

const FUNCTIONS = [
  {
    name: "sphere-6d (continuous)",
    optimum: 0,
    space: Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`x${i}`, float(-5, 5)])),
    f: (p) => {
      const v = Object.values(p).reduce((a, x) => a + x * x, 0);
      return { observed: v, truth: v };
    },
  },
  {
    name: "rosenbrock-2d (continuous)",
    optimum: 0,
    space: { x: float(-2, 2), y: float(-1, 3) },
    f: ({ x, y }) => {
      const v = 100 * (y - x * x) ** 2 + (1 - x) ** 2;
      return { observed: v, truth: v };
    },
  },
  {
    name: "log-scaled-3d (lr, weight decay, batch)",
    optimum: 0,
    space: { lr: float(1e-6, 1, { log: true }), wd: float(1e-8, 1e-1, { log: true }), batch: { type: "int", low: 8, high: 1024, log: true } },
    f: ({ lr, wd, batch }) => {
      const v = (Math.log10(lr) + 3) ** 2 + 0.5 * (Math.log10(wd) + 5) ** 2 + 0.25 * (Math.log2(batch) - 6) ** 2;
      return { observed: v, truth: v };
    },
  },
  {
    name: "branin (stepped float, int)",
    optimum: 0.397887,
    space: { x1: float(-5, 10, { step: 0.25 }), x2: { type: "int", low: 0, high: 15 } },
    f: ({ x1, x2 }) => {
      const b = 5.1 / (4 * Math.PI ** 2);
      const c = 5 / Math.PI;
      const v = (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x1) + 10;
      return { observed: v, truth: v };
    },
  },
  {
    name: "categorical-conditional (define-by-run)",
    optimum: 0,
    conditional: true,
    async run(suggest) {
      const model = await suggest("model", { type: "categorical", choices: ["linear", "tree", "net"] });
      let v;
      if (model === "linear") {
        const c = await suggest("c", float(1e-4, 1e2, { log: true }));
        v = 0.5 + 0.1 * Math.log10(c) ** 2;
      } else if (model === "tree") {
        const depth = await suggest("depth", { type: "int", low: 1, high: 16 });
        const criterion = await suggest("criterion", { type: "categorical", choices: ["gini", "entropy", "log_loss"] });
        v = 0.2 + 0.02 * (depth - 9) ** 2 + (criterion === "entropy" ? 0 : 0.15);
      } else {
        const layers = await suggest("layers", { type: "int", low: 1, high: 6 });
        const dropout = await suggest("dropout", float(0, 0.5, { step: 0.05 }));
        v = 0.05 * (layers - 3) ** 2 + 4 * (dropout - 0.2) ** 2;
      }
      return { observed: v, truth: v };
    },
  },
  {
    name: "noisy sphere-4d (σ = 0.5)",
    optimum: 0,
    noisy: true,
    space: Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`x${i}`, float(-3, 3)])),
    f: (p, rand) => {
      const truth = Object.values(p).reduce((a, x) => a + x * x, 0);
      // Box–Muller from the objective's own generator.
      const noise = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
      return { observed: truth + 0.5 * noise, truth };
    },
  },
];

async function optimise(fn, sampler, seed) {
  const { study_id: id } = await post("/studies", { name: `bench-${fn.name}-${sampler}-${seed}-${Date.now()}-${Math.random()}`, sampler: { type: sampler, seed } });
  const rand = mulberry32(seed * 7919 + 17);
  let best = null;
  for (let i = 0; i < TRIALS; i++) {
    let n;
    let result;
    if (fn.conditional) {
      n = (await post(`/studies/${id}/ask`, {})).trial_number;
      result = await fn.run(async (name, distribution) => (await post(`/studies/${id}/trials/${n}/suggest`, { name, distribution })).value);
    } else {
      const asked = await post(`/studies/${id}/ask`, { search_space: fn.space });
      n = asked.trial_number;
      result = fn.f(asked.params, rand);
    }
    await post(`/studies/${id}/trials/${n}/tell`, { value: result.observed });
    if (!best || result.observed < best.observed) best = result;
  }
  await request("DELETE", `/studies/${id}`);
  return best.truth - fn.optimum;
}

async function quality(samplers) {
  console.log(`(a) quality: ${TRIALS} trials × ${SEEDS} seeds per sampler, mean regret (lower is better)\n`);
  const rows = [];
  for (const fn of FUNCTIONS) {
    const row = { name: fn.name };
    const t0 = performance.now();
    for (const sampler of samplers) {
      const regrets = await limited(
        Array.from({ length: SEEDS }, (_, s) => () => optimise(fn, sampler, s + 1)),
        PARALLEL,
      );
      row[sampler] = mean(regrets);
    }
    rows.push(row);
    const cells = samplers.map((s) => `${s} ${row[s].toPrecision(4)}`).join("   ");
    const ratio = row.tpe !== undefined && row.random ? `   tpe/random ${(row.tpe / row.random).toFixed(3)}` : "";
    console.log(`  ${fn.name.padEnd(42)} ${cells}${ratio}   (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  if (samplers.includes("tpe") && samplers.includes("random")) {
    const ratios = rows.map((r) => r.tpe / r.random).filter(Number.isFinite);
    const wins = rows.filter((r) => r.tpe < r.random).length;
    console.log(`  tpe beats random on ${wins} of ${rows.length} functions; median tpe/random ${median(ratios).toFixed(3)}`);
  }
  console.log();
}

// ---------------------------------------------------------------------------------------------------------
// Speed

async function loadTuningLib() {
  const out = await build({
    stdin: {
      contents: 'export { createSampler } from "./worker/lib/tuning/sampler.ts"; export { Rng } from "./worker/lib/tuning/random.ts"; export { parseDistribution } from "./worker/lib/tuning/distributions.ts";',
      resolveDir: root,
      loader: "ts",
    },
    bundle: true,
    format: "esm",
    platform: "node",
    write: false,
  });
  const dir = mkdtempSync(join(tmpdir(), "tern-bench-lib-"));
  const file = join(dir, "tuning.mjs");
  const { writeFileSync } = await import("node:fs");
  writeFileSync(file, out.outputFiles[0].text);
  const mod = await import(pathToFileURL(file).href);
  rmSync(dir, { recursive: true, force: true });
  return mod;
}

const SPEED_SPACE = {
  a: float(-5, 5),
  b: float(1e-5, 1, { log: true }),
  c: { type: "int", low: 1, high: 64 },
  d: float(0, 1, { step: 0.05 }),
  e: { type: "categorical", choices: ["relu", "gelu", "tanh", "silu"] },
  f: { type: "int", low: 16, high: 4096, log: true },
};

function speedObjective(p) {
  return p.a * p.a + (Math.log10(p.b) + 2) ** 2 + (p.c - 20) ** 2 / 100 + (p.d - 0.3) ** 2 + (p.e === "gelu" ? 0 : 0.5) + (Math.log2(p.f) - 8) ** 2 / 10;
}

function randomParams(rand) {
  const pick = (xs) => xs[Math.floor(rand() * xs.length)];
  return {
    a: -5 + 10 * rand(),
    b: 10 ** (-5 + 5 * rand()),
    c: 1 + Math.floor(rand() * 64),
    d: Math.round(rand() * 20) * 0.05,
    e: pick(["relu", "gelu", "tanh", "silu"]),
    f: Math.round(2 ** (4 + 8 * rand())),
  };
}

async function speed(lib) {
  console.log(`(b) speed: 6-D space (float, log float, int, stepped float, categorical, log int), TPE\n`);
  const { study_id: id } = await post("/studies", { name: `bench-speed-${Date.now()}`, sampler: { type: "tpe", seed: 7 } });
  const rand = mulberry32(99);
  const space = Object.fromEntries(Object.entries(SPEED_SPACE).map(([k, v]) => [k, lib.parseDistribution(v).distribution]));
  const sampler = lib.createSampler({ type: "tpe" }, ["minimize"]);
  let done = 0;
  console.log("  completed   HTTP ask (median)   in-process TPE (median)   overhead (HTTP − in-process)   HTTP ÷ in-process   read round trip (median)   ask without sampling (median)   tell (median)");
  const rows = [];
  for (const target of CHECKPOINTS) {
    // Seed the study up to `target` completed trials: enqueue fixed params, ask (nothing to sample), tell.
    const need = target - done;
    let next = 0;
    await pool(CLIENTS, async () => {
      for (let i = next++; i < need; i = next++) {
        const params = randomParams(rand);
        await post(`/studies/${id}/enqueue`, { params });
        const asked = await post(`/studies/${id}/ask`, { search_space: SPEED_SPACE });
        await post(`/studies/${id}/trials/${asked.trial_number}/tell`, { value: speedObjective(asked.params) });
      }
    });
    done = target;
    // The in-process baseline samples from exactly the trials the study holds now.
    const trials = [];
    let token = null;
    do {
      const page = await get(`/studies/${id}/trials?max_results=500${token ? `&page_token=${token}` : ""}`);
      for (const t of page.trials) {
        const distributions = Object.fromEntries(Object.entries(t.distributions).map(([k, v]) => [k, lib.parseDistribution(v).distribution]));
        trials.push({ number: t.number, state: t.state, value: t.values ? t.values[0] : null, values: t.values, params: t.params, distributions, intermediateValues: {} });
      }
      token = page.next_page_token;
    } while (token);
    const local = [];
    const rng = lib.Rng.seeded(1);
    // Untimed warm-up, so the baseline is the sampler's steady speed (the server's isolate is warm too).
    for (let i = -3; i < ASKS; i++) {
      const number = trials.length;
      const ctx = { trials: [...trials, { number, state: "RUNNING", params: {}, distributions: {} }], directions: ["minimize"], rng, trialNumber: number, studyName: "bench" };
      const t0 = performance.now();
      sampler.sampleSearchSpace(ctx, space);
      if (i >= 0) local.push(performance.now() - t0);
    }
    // Timed HTTP asks, one at a time, each told right after so the study stays at `target` + a few.
    const remote = [];
    for (let i = 0; i < ASKS; i++) {
      const t0 = performance.now();
      const asked = await post(`/studies/${id}/ask`, { search_space: SPEED_SPACE });
      remote.push(performance.now() - t0);
      await post(`/studies/${id}/trials/${asked.trial_number}/tell`, { value: speedObjective(asked.params) });
      done += 1;
    }
    // The runtime's floor, measured alongside: the same route stack and study object, reading one trial
    // (no sampling, no write), so the ask's overhead can be told apart from the cost of any round trip.
    const reads = [];
    for (let i = 0; i < ASKS; i++) {
      const t0 = performance.now();
      await get(`/studies/${id}/trials/${i % target}`);
      reads.push(performance.now() - t0);
    }
    // Writes without sampling: an ask with no search space stores one RUNNING trial, and its tell stores
    // the result. Each round trip minus the read's is what storing that change costs on this runtime.
    const writes = [];
    const tells = [];
    for (let i = 0; i < ASKS; i++) {
      let t0 = performance.now();
      const asked = await post(`/studies/${id}/ask`);
      writes.push(performance.now() - t0);
      t0 = performance.now();
      await post(`/studies/${id}/trials/${asked.trial_number}/tell`, { state: "FAIL" });
      tells.push(performance.now() - t0);
    }
    const w = median(writes);
    const tl = median(tells);
    const r = median(remote);
    const l = median(local);
    const f = median(reads);
    rows.push({ target, r, l, f, w, tl });
    console.log(
      `  ${String(target).padStart(9)}   ${ms(r).padStart(17)}   ${ms(l).padStart(23)}   ${ms(r - l).padStart(28)}   ${`${(r / l).toFixed(2)}×`.padStart(17)}   ${ms(f).padStart(24)}   ${ms(w).padStart(29)}   ${ms(tl).padStart(13)}`,
    );
  }
  const base = rows[0];
  for (const { target, r, l } of rows.slice(1)) {
    console.log(`  ${target} vs ${base.target} completed trials: HTTP ×${(r / base.r).toFixed(2)}, in-process ×${(l / base.l).toFixed(2)}`);
  }
  const at1000 = rows.find((x) => x.target === 1000);
  if (at1000) {
    const storage = at1000.w - at1000.f + (at1000.tl - at1000.f);
    console.log(
      `  bars at 1000 trials: HTTP ask ${ms(at1000.r)} (bar 14 ms, ${(at1000.r / 14).toFixed(2)} of it); ` +
        `ask+tell storage overhead ${ms(storage)} (bar 5 ms, ${(storage / 5).toFixed(2)} of it: what the ask and the tell ` +
        `cost beyond two read round trips to the same study object)\n` +
        `  the ask's whole overhead beyond in-process sampling: ${ms(at1000.r - at1000.l)}, of which a read round trip ` +
        `(the runtime's request floor) is ${ms(at1000.f)}`,
    );
  }
  await request("DELETE", `/studies/${id}`);

  // Throughput: CLIENTS clients loop ask(search space) + tell on one fresh study.
  const { study_id: tid } = await post("/studies", { name: `bench-throughput-${Date.now()}`, sampler: { type: "tpe", seed: 3 } });
  let next = 0;
  const t0 = performance.now();
  await pool(CLIENTS, async () => {
    for (let i = next++; i < THROUGHPUT_TRIALS; i = next++) {
      const asked = await post(`/studies/${tid}/ask`, { search_space: SPEED_SPACE });
      await post(`/studies/${tid}/trials/${asked.trial_number}/tell`, { value: speedObjective(asked.params) });
    }
  });
  const secs = (performance.now() - t0) / 1000;
  const study = (await get(`/studies/${tid}`)).study;
  console.log(
    `\n  throughput: ${CLIENTS} clients, ${THROUGHPUT_TRIALS} ask+tell on one study (TPE, 0 → ${THROUGHPUT_TRIALS} trials): ` +
      `${(THROUGHPUT_TRIALS / secs).toFixed(1)} trials/s (${((2 * THROUGHPUT_TRIALS) / secs).toFixed(1)} calls/s); COMPLETE ${study.state_counts.COMPLETE}`,
  );
  await request("DELETE", `/studies/${tid}`);
}

async function main() {
  server = await benchServer(base);
  base = server.url;
  console.log(`Tern at ${base}\n`);
  const samplers = (env.BENCH_SAMPLERS ?? "tpe,random").split(",").filter(Boolean);
  if (!SKIP.has("quality")) await quality(samplers);
  if (!SKIP.has("speed")) await speed(await loadTuningLib());
}

try {
  await main();
} finally {
  server?.stop();
}
