#!/usr/bin/env node
// npm run bench:drift — the whole drift report on 1,000,000 reference and 1,000,000 current rows,
// 20 numeric and 5 categorical columns (generated; every fifth numeric and two categorical columns
// drift), each column's default test plus ks, wasserstein, psi and jensenshannon, with chart data.
//  1. in headless Chromium through the app's Web Worker pool: the built app (app/build, built first
//     if missing) is served by a small static server; a bench page generates the data as typed
//     arrays in the page and hands the columns to DriftPool, whose workers are the built app's
//     drift worker (columns transferred, not copied);
//  2. the same computation in Node in one thread (the baseline), and the ratio.
// Environment: BENCH_ROWS (1000000), CHROMIUM_PATH.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, extname, join, normalize } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { chromium } from "playwright-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const appBuild = join(root, "app", "build");
const workersDir = join(appBuild, "_app", "immutable", "workers");

if (!existsSync(workersDir)) {
  console.log("building the app (npm run app:build) ...");
  const res = spawnSync("npm", ["run", "app:build"], { cwd: root, stdio: "inherit" });
  if (res.status !== 0) process.exit(res.status ?? 1);
}
const workerFile = readdirSync(workersDir).find((f) => /^worker-.*\.js$/.test(f));
if (!workerFile) throw new Error("no drift worker in app/build; run npm run app:build");

const tmp = mkdtempSync(join(tmpdir(), "tern-bench-drift-"));
let server = null;
let browser = null;

async function bundle(entry, platform) {
  const out = await build({ entryPoints: [join(root, "tests", "bench", "drift", entry)], bundle: true, format: "esm", platform, write: false, logLevel: "error" });
  return out.outputFiles[0].text;
}

const TYPES = { ".js": "text/javascript", ".html": "text/html", ".css": "text/css", ".svg": "image/svg+xml", ".json": "application/json" };

function serve(pageJs) {
  return new Promise((resolve) => {
    server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
      if (path === "/bench/") {
        res.writeHead(200, { "Content-Type": "text/html" });
        return res.end('<!doctype html><meta charset="utf-8"><title>drift bench</title><script type="module" src="/bench/page.js"></script>');
      }
      if (path === "/bench/page.js") {
        res.writeHead(200, { "Content-Type": "text/javascript" });
        return res.end(pageJs);
      }
      const file = normalize(join(appBuild, path));
      if (!file.startsWith(appBuild) || !existsSync(file)) {
        res.writeHead(404);
        return res.end();
      }
      res.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream" });
      res.end(readFileSync(file));
    });
    server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${server.address().port}`));
  });
}

/** Worker CPU milliseconds per step, summed over columns. */
function perTest(outcomes) {
  const rows = new Map();
  const add = (name, ms) => rows.set(name, (rows.get(name) ?? 0) + ms);
  for (const o of outcomes) {
    add("clean + sort/count", o.timings.prepare);
    add(`default (${o.result?.method ?? "error"})`, o.timings.main);
    for (const e of o.extra) add(e.method, e.ms);
    add("chart data", o.timings.charts);
  }
  return rows;
}

function verdicts(outcomes) {
  return outcomes.map((o) => [o.column, o.result?.method, o.result?.score, o.result?.drifted, ...o.extra.map((e) => e.result?.score ?? e.error?.code)]);
}

const fmtMs = (ms) => `${(ms / 1000).toFixed(2)} s`;

try {
  const [pageJs, nodeJs] = await Promise.all([bundle("page.ts", "browser"), bundle("node.ts", "node")]);
  const base = await serve(pageJs);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  await page.goto(`${base}/bench/`);
  await page.waitForFunction(() => typeof window.runDriftBench === "function");
  console.log(`drift report: ${ROWS.toLocaleString("en")} reference + ${ROWS.toLocaleString("en")} current rows, 20 numeric + 5 categorical columns, default + ks, wasserstein, psi, jensenshannon`);
  console.log(`data: generated as typed arrays inside the page (not timed), transferred to the pool`);
  const web = await page.evaluate(([rows, url]) => window.runDriftBench(rows, url), [ROWS, `/_app/immutable/workers/${workerFile}`]);
  console.log(`\nChromium, Web Worker pool of ${web.workers} (navigator.hardwareConcurrency): ${fmtMs(web.totalMs)} wall for the whole report  [generation ${fmtMs(web.generateMs)}]`);
  console.log("  worker CPU time per step (summed over columns and workers):");
  for (const [name, ms] of perTest(web.outcomes)) console.log(`    ${name.padEnd(26)} ${fmtMs(ms)}`);
  await browser.close();
  browser = null;

  const nodeFile = join(tmp, "node.mjs");
  writeFileSync(nodeFile, nodeJs);
  const { benchTasks, computeColumn } = await import(pathToFileURL(nodeFile).href);
  const tasks = benchTasks(ROWS);
  const t = performance.now();
  const nodeOutcomes = tasks.map((task) => computeColumn(task));
  const nodeMs = performance.now() - t;
  console.log(`\nNode ${process.version}, one thread, same code and data: ${fmtMs(nodeMs)}`);
  for (const [name, ms] of perTest(nodeOutcomes)) console.log(`    ${name.padEnd(26)} ${fmtMs(ms)}`);

  // Math.log and friends may differ in the last bit between Node's and Chromium's V8, so scores
  // are compared to 1e-12 relative; methods and decisions must be equal.
  const a = verdicts(nodeOutcomes);
  const b = verdicts(web.outcomes);
  let maxRel = 0;
  let same = a.length === b.length;
  for (let i = 0; same && i < a.length; i++) {
    for (let k = 0; k < a[i].length; k++) {
      const x = a[i][k];
      const y = b[i][k];
      if (typeof x === "number" && typeof y === "number") {
        const rel = x === y ? 0 : Math.abs(x - y) / Math.max(Math.abs(x), Math.abs(y));
        maxRel = Math.max(maxRel, rel);
        if (!(rel <= 1e-12)) same = false;
      } else if (x !== y) same = false;
    }
  }
  const drifted = web.outcomes.filter((o) => o.result?.drifted).map((o) => o.column);
  console.log(`\nspeed-up of the pool over one Node thread: ${(nodeMs / web.totalMs).toFixed(2)}x`);
  console.log(`same methods and decisions, scores equal to ${maxRel.toExponential(1)} relative: ${same ? "yes" : "NO"}`);
  console.log(`drifted columns (default tests): ${drifted.length} of ${web.outcomes.length}: ${drifted.join(", ")}`);
  console.log(`bar: whole report under 10 s in the browser: ${web.totalMs < 10_000 ? "met" : "NOT met"} (${fmtMs(web.totalMs)})`);
  if (!same) {
    const i = a.findIndex((row, k) => JSON.stringify(row) !== JSON.stringify(b[k]));
    console.log(`first difference: node ${JSON.stringify(a[i])} vs browser ${JSON.stringify(b[i])}`);
    process.exitCode = 1;
  }
} finally {
  await browser?.close();
  server?.close();
  rmSync(tmp, { recursive: true, force: true });
}
