// `npm run bench:profile`: peak memory of the CLI's streaming profile on files too large to read whole.
// Generates (in a temp directory, removed at the end) a CSV of BENCH_CSV_MIB MiB (default 600) with
// integer, float, category, boolean, date and high-cardinality text columns, and a Parquet file of
// BENCH_PARQUET_ROWS rows (default 20 million) in row groups of 1 million, then profiles each in a fresh
// Node process and prints its peak RSS (getrusage maxrss) and time: the streamed profile alone, the
// hash pass that also profiles (what `tern data add` does for a large text file), and for scale a
// whole-file profile of the CSV's first BENCH_WHOLE_MIB MiB (default 64, the default streaming
// threshold). The machine's load average is printed with the numbers: read them as loaded when high.
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync, readSync } from "node:fs";
import { loadavg, tmpdir, cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const MiB = 1024 * 1024;

async function child(mode, path, name) {
  const { loadTypeScript } = await import(pathToFileURL(join(root, "cli", "bundle.mjs")).href);
  const core = await loadTypeScript(join(root, "cli"), "data-core.ts", "bench");
  const size = statSync(path).size;
  const t0 = process.hrtime.bigint();
  let profile;
  if (mode === "stream") {
    profile = await core.profileFileStreaming(path, name, size);
  } else if (mode === "hash+profile") {
    const { hashFile } = await import(pathToFileURL(join(root, "cli", "data-local.mjs")).href);
    const shared = core.sharedProfileFor(name, size, { TERN_PROFILE_STREAM_BYTES: "0" });
    await hashFile(path, () => {}, (chunk) => shared.push(chunk));
    profile = shared.result(size).profile;
  } else {
    const { readFileSync } = await import("node:fs");
    profile = await core.profileBytes(name, new Uint8Array(readFileSync(path)));
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(JSON.stringify({ seconds, maxRssMiB: process.resourceUsage().maxRSS / 1024, rows: profile?.row_count ?? null, columns: profile?.columns.length ?? null, approximate: profile?.approximate ?? false }));
}

function writeCsv(path, mib) {
  const fd = openSync(path, "w");
  const cities = Array.from({ length: 50 }, (_, i) => `city-${i}`);
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
  writeSync(fd, "id,amount,price,city,flag,day,token\n");
  let written = 0;
  let id = 0;
  while (written < mib * MiB) {
    const lines = [];
    for (let i = 0; i < 20_000; i++, id++) {
      const price = rand() < 0.03 ? "" : (rand() * 1000).toFixed(3);
      const day = `2024-${String(1 + Math.floor(rand() * 12)).padStart(2, "0")}-${String(1 + Math.floor(rand() * 28)).padStart(2, "0")}`;
      lines.push(`${id},${Math.floor(rand() * 1e6)},${price},${cities[Math.floor(rand() * rand() * 50)]},${rand() < 0.5},${day},t${Math.floor(rand() * 1e9).toString(36)}`);
    }
    written += writeSync(fd, `${lines.join("\n")}\n`);
  }
  closeSync(fd);
}

async function writeParquet(path, rows) {
  const { ParquetWriter, fileWriter, schemaFromColumnData } = await import("hyparquet-writer");
  const group = 1_000_000;
  const batch = (start, n) => {
    let seed = start + 7;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
    return [
      { name: "id", data: BigInt64Array.from({ length: n }, (_, i) => BigInt(start + i)), type: "INT64" },
      { name: "price", data: Float64Array.from({ length: n }, () => rand() * 1000), type: "DOUBLE" },
      { name: "score", data: Float64Array.from({ length: n }, () => -Math.log(1 - rand())), type: "DOUBLE" },
      { name: "city", data: Array.from({ length: n }, () => (rand() < 0.02 ? null : `city-${Math.floor(rand() * rand() * 50)}`)), type: "STRING" },
      { name: "count", data: Int32Array.from({ length: n }, () => Math.floor(rand() * 1000)), type: "INT32" },
    ];
  };
  const writer = new ParquetWriter({ writer: fileWriter(path), schema: schemaFromColumnData({ columnData: batch(0, 1) }) });
  for (let start = 0; start < rows; start += group) writer.write({ columnData: batch(start, Math.min(group, rows - start)), rowGroupSize: group });
  writer.finish();
}

function copyHead(from, to, mib) {
  const src = openSync(from, "r");
  const buf = Buffer.allocUnsafe(mib * MiB);
  const n = readSync(src, buf, 0, buf.length, 0);
  closeSync(src);
  const end = buf.lastIndexOf(10, n - 1) + 1;
  const dst = openSync(to, "w");
  writeSync(dst, buf, 0, end);
  closeSync(dst);
}

function run(mode, path, name) {
  const load = loadavg()[0];
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--child", mode, path, name], { encoding: "utf8", maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${mode} ${name} failed:\n${r.stderr}`);
  const out = JSON.parse(r.stdout);
  const mib = statSync(path).size / MiB;
  console.log(`${mode.padEnd(13)} ${name.padEnd(12)} ${mib.toFixed(0).padStart(5)} MiB  peak RSS ${out.maxRssMiB.toFixed(0).padStart(5)} MiB  ${out.seconds.toFixed(1).padStart(6)} s  ${String(out.rows).padStart(10)} rows  ${out.approximate ? "approximate" : "exact"}  (load ${load.toFixed(2)} → ${loadavg()[0].toFixed(2)} on ${cpus().length} cores)`);
}

if (process.argv[2] === "--child") {
  await child(process.argv[3], process.argv[4], process.argv[5]);
} else {
  const dir = mkdtempSync(join(tmpdir(), "tern-bench-profile-"));
  try {
    const csv = join(dir, "big.csv");
    const head = join(dir, "head.csv");
    const parquet = join(dir, "big.parquet");
    console.log(`generating files in ${dir} ...`);
    writeCsv(csv, Number(process.env.BENCH_CSV_MIB ?? 600));
    copyHead(csv, head, Number(process.env.BENCH_WHOLE_MIB ?? 64));
    await writeParquet(parquet, Number(process.env.BENCH_PARQUET_ROWS ?? 20_000_000));
    run("whole", head, "head.csv");
    run("stream", head, "head.csv");
    run("stream", csv, "big.csv");
    run("hash+profile", csv, "big.csv");
    run("stream", parquet, "big.parquet");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
