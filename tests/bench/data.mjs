// `npm run bench:data`: `tern data add` through the real CLI on a 1 GiB file and on a directory of
// 10,000 small files, then again with nothing changed. Each is printed next to a baseline measured in
// the same run on the same bytes: a plain sequential read + sha256 in Node (what any tool must at least
// do once), so the ratios say what uploading, md5, requests and the commit cost on top. Temp files and a
// dev server started here are removed at the end. BENCH_BIG_MIB and BENCH_SMALL_FILES shrink the run.
import { spawn } from "node:child_process";
import { createHash, randomFillSync } from "node:crypto";
import { createReadStream, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync, closeSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { benchServer } from "./server.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CLI = join(root, "cli", "tern.mjs");
const MiB = 1024 * 1024;
const BIG_MIB = Number(process.env.BENCH_BIG_MIB ?? 1024);
const SMALL_FILES = Number(process.env.BENCH_SMALL_FILES ?? 10_000);

const seconds = (t0) => Number(process.hrtime.bigint() - t0) / 1e9;
const fmt = (x, d = 1) => x.toFixed(d);

function tern(args, env) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("close", (code) => (code === 0 ? resolve({ seconds: seconds(t0), out }) : reject(new Error(`tern ${args.join(" ")} exited ${code}:\n${out}`))));
  });
}

function writeBigFile(path, mib) {
  const chunk = Buffer.allocUnsafe(16 * MiB);
  const fd = openSync(path, "w");
  for (let written = 0; written < mib; written += 16) {
    randomFillSync(chunk);
    writeSync(fd, chunk, 0, Math.min(16, mib - written) * MiB);
  }
  closeSync(fd);
}

function writeSmallFiles(dir, count) {
  const paths = [];
  const buf = Buffer.allocUnsafe(4096);
  for (let i = 0; i < count; i++) {
    const sub = join(dir, `shard-${String(i % 100).padStart(2, "0")}`);
    if (i < 100) mkdirSync(sub, { recursive: true });
    const size = 256 + ((i * 2654435761) % 3840);
    randomFillSync(buf, 0, size);
    const path = join(sub, `file-${String(i).padStart(5, "0")}.bin`);
    const fd = openSync(path, "w");
    writeSync(fd, buf, 0, size);
    closeSync(fd);
    paths.push(path);
  }
  return paths;
}

/** The baseline: one sequential pass of read + sha256 over the same bytes. */
async function baselineBig(path) {
  const t0 = process.hrtime.bigint();
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * MiB })) h.update(chunk);
  h.digest("hex");
  return seconds(t0);
}

function baselineSmall(paths) {
  const t0 = process.hrtime.bigint();
  for (const p of paths) createHash("sha256").update(readFileSync(p)).digest("hex");
  return seconds(t0);
}

const server = await benchServer();
const work = mkdtempSync(join(tmpdir(), "tern-bench-data-"));
const env = { TERN_URL: server.url, XDG_CACHE_HOME: join(work, "cache"), XDG_CONFIG_HOME: join(work, "config") };
const run = Date.now().toString(36);
try {
  console.log(`server ${server.url}; load average at start ${loadavg().map((x) => fmt(x, 2)).join(" ")}`);
  const big = join(work, "big.bin");
  const small = join(work, "small");
  writeBigFile(big, BIG_MIB);
  const paths = writeSmallFiles(small, SMALL_FILES);
  const smallBytes = paths.reduce((s, p) => s + readFileSync(p).length, 0);
  console.log(`generated ${BIG_MIB} MiB in one file and ${SMALL_FILES} files of ${fmt(smallBytes / MiB)} MiB in all`);

  const baseBig = await baselineBig(big);
  const baseSmall = baselineSmall(paths);
  const bigAdd = await tern(["data", "add", big, "--dataset", `bench-big-${run}`], env);
  const bigAgain = await tern(["data", "add", big], env);
  const smallAdd = await tern(["data", "add", small, "--dataset", `bench-small-${run}`], env);
  const smallAgain = await tern(["data", "add", small], env);

  const rows = [
    ["measure", "tern data add", "baseline read+sha256", "ratio (add / baseline time)"],
    [`1 file, ${BIG_MIB} MiB`, `${fmt(bigAdd.seconds)} s = ${fmt(BIG_MIB / bigAdd.seconds)} MB/s`, `${fmt(baseBig, 2)} s = ${fmt(BIG_MIB / baseBig)} MB/s`, fmt(bigAdd.seconds / baseBig)],
    [`${SMALL_FILES} small files`, `${fmt(smallAdd.seconds)} s = ${fmt(SMALL_FILES / smallAdd.seconds, 0)} files/s`, `${fmt(baseSmall, 2)} s = ${fmt(SMALL_FILES / baseSmall, 0)} files/s`, fmt(smallAdd.seconds / baseSmall)],
    ["re-add big, unchanged", `${fmt(bigAgain.seconds, 2)} s`, `${fmt(baseBig, 2)} s`, fmt(bigAgain.seconds / baseBig, 2)],
    ["re-add small, unchanged", `${fmt(smallAgain.seconds, 2)} s`, `${fmt(baseSmall, 2)} s`, fmt(smallAgain.seconds / baseSmall, 2)],
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join("  "));
  for (const [what, r] of [
    ["re-add big", bigAgain],
    ["re-add small", smallAgain],
  ]) {
    if (!/hashed 0,/.test(r.out) || !/uploaded 0 file\(s\)/.test(r.out)) throw new Error(`${what} hashed or uploaded something:\n${r.out}`);
  }
  console.log(`\ntern's own summary of the first small-file add:\n${smallAdd.out.trim()}`);
  console.log(`load average at end ${loadavg().map((x) => fmt(x, 2)).join(" ")}`);
} finally {
  rmSync(work, { recursive: true, force: true });
  await server.stop();
}
