#!/usr/bin/env node
// npm run bench:tracking — tracking throughput against a running Tern (TERN_URL, default the local dev
// server; one is started on a free port with fresh state when none answers).
//  1. write: N concurrent clients send full 1000-metric log-batch calls through the MLflow REST route,
//     all into ONE metric of one run, until it holds POINTS points (default 1,000,000);
//  2. read: the whole history back through metrics/get-history (25,000-point pages), N readers;
//  3. the downsampled read of that metric (1000 buckets) vs reading it whole.
// Baselines measured in the same run: one log-metric call per point (what a naive client does) for
// writes, and the full paged read for the downsampled read. Environment: TERN_URL, TERN_TOKEN,
// BENCH_CLIENTS (8), BENCH_POINTS (1000000), BENCH_PARTS (all of "naive,write,read": the log-metric baseline,
// the batched writes, the reads; the reads need the writes).
import { benchHeaders, benchServer } from "./server.mjs";

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 8);
const POINTS = Number(process.env.BENCH_POINTS ?? 1_000_000);
const PARTS = new Set((process.env.BENCH_PARTS ?? "naive,write,read").split(",").map((p) => p.trim()));
const headers = benchHeaders;
let base = process.env.TERN_URL ?? "http://127.0.0.1:8787";
let server = null;

async function post(path, body) {
  const res = await fetch(`${base}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function get(path) {
  const res = await fetch(`${base}${path}`, { headers });
  const json = await res.json();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const seconds = (t0) => (performance.now() - t0) / 1000;
const fmt = (n) => Math.round(n).toLocaleString("en-US");

async function pool(count, worker) {
  await Promise.all(Array.from({ length: count }, (_, i) => worker(i)));
}

async function main() {
  server = await benchServer(base);
  base = server.url;
  console.log(`Tern at ${base}; ${CLIENTS} concurrent clients; ${fmt(POINTS)} points\n`);
  const exp = await post("/api/2.0/mlflow/experiments/create", { name: `bench-${Date.now()}` });
  const newRun = async () => (await post("/api/2.0/mlflow/runs/create", { experiment_id: exp.experiment_id, start_time: Date.now() })).run.info.run_id;

  // Baseline: one log-metric call per point.
  let next = 0;
  let t0 = performance.now();
  let naiveRate = NaN;
  if (PARTS.has("naive")) {
    const naiveRun = await newRun();
    const naivePoints = 2000;
    t0 = performance.now();
    await pool(CLIENTS, async () => {
      for (let i = next++; i < naivePoints; i = next++) {
        await post("/api/2.0/mlflow/runs/log-metric", { run_id: naiveRun, key: "loss", value: Math.random(), timestamp: Date.now(), step: i });
      }
    });
    naiveRate = naivePoints / seconds(t0);
  }
  if (!PARTS.has("write")) return;

  // Writes: full 1000-point batches from N clients into one metric of one run.
  const run = await newRun();
  const batches = Math.ceil(POINTS / 1000);
  next = 0;
  t0 = performance.now();
  await pool(CLIENTS, async () => {
    for (let b = next++; b < batches; b = next++) {
      const metrics = Array.from({ length: 1000 }, (_, i) => {
        const step = b * 1000 + i;
        return { key: "loss", value: Math.sin(step / 5000) + (step === 777_777 ? 50 : 0), timestamp: 1_700_000_000_000 + step, step };
      });
      await post("/api/2.0/mlflow/runs/log-batch", { run_id: run, metrics });
    }
  });
  const writeSeconds = seconds(t0);
  const writeRate = (batches * 1000) / writeSeconds;
  console.log("writes (MLflow log-batch, 1000 metrics per call)");
  console.log(`  ${fmt(batches * 1000)} points in ${writeSeconds.toFixed(1)} s: ${fmt(writeRate)} points/s`);
  if (PARTS.has("naive")) console.log(`  baseline, one log-metric call per point: ${fmt(naiveRate)} points/s  → batch is ${(writeRate / naiveRate).toFixed(0)}× the baseline`);
  if (!PARTS.has("read")) return;

  // Reads: the whole history in 25,000-point pages; readers split the pages by page token order.
  t0 = performance.now();
  let read = 0;
  let token = null;
  do {
    const q = `run_id=${run}&metric_key=loss&max_results=25000${token ? `&page_token=${encodeURIComponent(token)}` : ""}`;
    const page = await get(`/api/2.0/mlflow/metrics/get-history?${q}`);
    read += page.metrics?.length ?? 0;
    token = page.next_page_token ?? null;
  } while (token);
  const fullReadSeconds = seconds(t0);
  const readRate = read / fullReadSeconds;

  // Concurrent readers of the same history (page offsets are independent, so N readers fetch N pages at once).
  const pageCount = Math.ceil(read / 25000);
  next = 0;
  let readConcurrent = 0;
  t0 = performance.now();
  await pool(CLIENTS, async () => {
    for (let p = next++; p < pageCount; p = next++) {
      const tok = Buffer.from(JSON.stringify({ offset: p * 25000 })).toString("base64");
      const page = await get(`/api/2.0/mlflow/metrics/get-history?run_id=${run}&metric_key=loss&max_results=25000${p ? `&page_token=${encodeURIComponent(tok)}` : ""}`);
      readConcurrent += page.metrics?.length ?? 0;
    }
  });
  const readConcurrentRate = readConcurrent / seconds(t0);

  // Downsampled read of the whole metric.
  const times = [];
  let spikeKept = false;
  for (let i = 0; i < 10; i++) {
    t0 = performance.now();
    const res = await get(`/api/v1/metrics/downsample?run_ids=${run}&keys=loss&points=1000`);
    times.push(seconds(t0) * 1000);
    spikeKept = Math.max(...res.series[0].max) > 45;
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];

  console.log("reads (MLflow get-history, 25,000-point pages)");
  console.log(`  one reader: ${fmt(read)} points in ${fullReadSeconds.toFixed(1)} s: ${fmt(readRate)} points/s`);
  console.log(`  ${CLIENTS} readers: ${fmt(readConcurrentRate)} points/s`);
  console.log(`downsampled read of the ${fmt(read)}-point metric into 1000 buckets (median of 10)`);
  console.log(`  ${median.toFixed(1)} ms (min ${times[0].toFixed(1)} ms, max ${times[times.length - 1].toFixed(1)} ms); spike kept: ${spikeKept}`);
  console.log(`  baseline, reading it whole: ${(fullReadSeconds * 1000).toFixed(0)} ms  → ${((fullReadSeconds * 1000) / median).toFixed(0)}× faster`);
}

try {
  await main();
} finally {
  server?.stop();
}
