// Captures the README's monitoring screenshots from a real dev server with real reports:
// docs/images/monitor-dashboard.png (a monitor after six weekly drift reports, with an alert rule
// firing and its webhook delivered) and docs/images/drift-report-dataset.png (the drift report with a
// Tern dataset version as reference and a text column opened).
//
// Every report is computed in headless Chromium by the drift report page, opened from the monitor so
// that its reference dataset version is preselected, on a generated current file for that week, and
// saved to the monitor; the alert's webhook goes to a receiver started here.
//
//   node docs/screenshots/monitoring.mjs       (uses TERN_URL, or starts a dev server with fresh state)
//
// Needs the built app (`npm run app:build`) and Chromium (CHROMIUM_PATH or /usr/bin/chromium).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { benchHeaders, benchServer } from "../../tests/bench/server.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const images = join(root, "docs", "images");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CALM = ["great", "service", "friendly", "staff", "quick", "delivery", "helpful", "support", "easy", "checkout", "clean", "app"];
const ANGRY = ["refund", "broken", "late", "rude", "missing", "parcel", "charged", "twice", "cancelled", "order", "waiting", "weeks"];

/** A churn table; `drift` in [0, 1] moves spend, plan mix, tenure and the reviews' vocabulary. */
function table(rows, seed, drift) {
  const r = rng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const pick = (xs) => xs[Math.floor(r() * xs.length)];
  const lines = ["tenure_months,monthly_spend,plan,region,support_calls,review"];
  for (let i = 0; i < rows; i++) {
    const tenure = Math.max(1, 24 + 10 * normal() - 8 * drift).toFixed(1);
    const spend = (50 + 12 * normal() + 25 * drift).toFixed(2);
    const plan = r() < 0.5 * drift ? "basic" : pick(["basic", "plus", "pro"]);
    const region = pick(["north", "south", "east", "west"]);
    const calls = Math.floor(r() * 4);
    const vocab = r() < 0.6 * drift ? ANGRY : CALM;
    const review = Array.from({ length: 4 + Math.floor(r() * 4) }, () => pick(vocab)).join(" ");
    lines.push(`${tenure},${spend},${plan},${region},${calls},"${review}"`);
  }
  return `${lines.join("\n")}\n`;
}

async function api(base, method, path, body, raw) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: raw !== undefined ? { ...benchHeaders, "Content-Type": "application/octet-stream" } : benchHeaders,
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const server = await benchServer();
const base = server.url;
const tmp = mkdtempSync(join(tmpdir(), "tern-shots-"));
const hooks = [];
const receiver = createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    hooks.push(JSON.parse(body));
    res.writeHead(204).end();
  });
});
await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
const context = await chromium.launchPersistentContext(join(tmp, "profile"), {
  executablePath: CHROMIUM,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  viewport: { width: 1280, height: 900 },
  deviceScaleFactor: 1,
});
try {
  const suffix = Date.now().toString(36).slice(-4);
  const model = `churn-${suffix}`;
  const dataset = `churn-train-${suffix}`;
  await api(base, "POST", "/api/2.0/mlflow/registered-models/create", { name: model });
  const blob = await api(base, "POST", "/api/v1/blobs", undefined, table(3000, 1, 0));
  await api(base, "POST", "/api/v1/datasets", { name: dataset, description: "Training data of the churn model" });
  const version = (await api(base, "POST", `/api/v1/datasets/${dataset}/versions`, { sha256: blob.sha256, file_name: "train.csv", message: "training snapshot" })).version;
  const monitor = (await api(base, "POST", "/api/v1/monitors", { name: "churn-prod", description: "Weekly drift of the production churn model's inputs", model: { name: model, alias: "champion" }, reference_dataset_version: version.id })).monitor;
  const port = receiver.address().port;
  await api(base, "POST", `/api/v1/monitors/${monitor.id}/rules`, {
    name: "half the columns drifted",
    series: "drift_share",
    operator: ">=",
    threshold: 0.5,
    for_checks: 2,
    webhook_url: `http://127.0.0.1:${port}/hook`,
  });

  const page = await context.newPage();
  const weeks = [0, 0.05, 0.1, 0.35, 0.7, 1];
  for (const [i, drift] of weeks.entries()) {
    const file = join(tmp, `week-${45 + i}.csv`);
    writeFileSync(file, table(2000, 100 + i, drift));
    await page.goto(`${base}/monitoring/drift?monitor=${monitor.id}`);
    await page.getByTestId("reference-selected").waitFor({ timeout: 30_000 });
    await page.getByTestId("current-file").setInputFiles(file);
    await page.getByTestId("run").click();
    await page.getByTestId("drift-report").waitFor({ timeout: 120_000 });
    await page.getByTestId("save-summary").click();
    await page.getByTestId("save-message").waitFor();
    console.log(`week ${45 + i}: ${await page.getByTestId("drift-title").textContent()}`);
    if (i === weeks.length - 1) {
      await page.locator('[data-testid=drift-row][data-column="review"]').click();
      await page.getByTestId("text-detail").waitFor();
      await page.screenshot({ path: join(images, "drift-report-dataset.png"), fullPage: true });
    }
    // Points a few seconds apart on the dashboard's time axis.
    await new Promise((r) => setTimeout(r, 3000));
  }
  const deadline = Date.now() + 30_000;
  while (hooks.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  console.log(`webhook deliveries: ${hooks.length} (${hooks.map((h) => `${h.state} at ${h.value}`).join(", ")})`);

  await page.goto(`${base}/monitoring/${monitor.id}`);
  await page.getByTestId("drift-share-chart").locator("canvas").first().waitFor();
  await page.getByTestId("alert-events").locator('tr[data-event-kind="fired"]').waitFor();
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(images, "monitor-dashboard.png"), fullPage: true });
  console.log("wrote docs/images/monitor-dashboard.png and docs/images/drift-report-dataset.png");
} finally {
  await context.close();
  await new Promise((r) => receiver.close(r));
  server.stop();
  rmSync(tmp, { recursive: true, force: true });
}
