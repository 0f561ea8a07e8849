/**
 * `tern data` and `tern login` as a user runs them: the real CLI spawned with Node against the dev
 * servers the global setup starts (open mode, and token mode for the 401 path). A file and a directory
 * are added from a git repository, their pointers and .gitignore checked, re-adding uploads nothing, a
 * fresh directory pulls and verifies them, status reports corrupted and missing files that pull then
 * restores, a multipart upload stopped after one part resumes, ls/diff show the versions, and files above
 * the (lowered) streaming threshold are profiled by streaming.
 */
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { runCli, type CliResult } from "./cli";
import { parquetWriteBuffer } from "hyparquet-writer";
import { parse } from "yaml";
import { TOKEN_MODE_ADMIN } from "./global-setup";

const baseUrl = inject("baseUrl");
const tokenBaseUrl = inject("tokenBaseUrl");
const MiB = 1024 * 1024;

let home: string;
const stamp = Date.now().toString(36);
const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");
const md5 = (b: Buffer | string) => createHash("md5").update(b).digest("hex");

/** Runs `tern ...` in `cwd` with its own config and cache directories (the user's are never touched). */
function tern(args: string[], cwd: string, env: Record<string, string | undefined> = {}, cache = "cache"): Promise<CliResult> {
  return runCli(args, cwd, { XDG_CONFIG_HOME: join(home, "config"), XDG_CACHE_HOME: join(home, cache), TERN_URL: baseUrl, TERN_TOKEN: "", ...env });
}

async function api(path: string): Promise<any> {
  const res = await fetch(`${baseUrl}/api/v1${path}`);
  const json = await res.json();
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const pointer = (path: string) => parse(readFileSync(path, "utf8"));
const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, { cwd, encoding: "utf8", env: { ...process.env, GIT_AUTHOR_NAME: "e2e", GIT_AUTHOR_EMAIL: "e2e@example.com", GIT_COMMITTER_NAME: "e2e", GIT_COMMITTER_EMAIL: "e2e@example.com" } }).trim();

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), "tern-data-cli-"));
});

afterAll(() => {
  rmSync(home, { recursive: true, force: true });
});

describe("tern login", () => {
  it("checks the server, saves it in a 0600 config file, and later commands use it", async () => {
    const cwd = mkdtempSync(join(home, "login-"));
    const login = await tern(["login", "--url", baseUrl], cwd, { TERN_URL: undefined });
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain(`Logged in to ${baseUrl} as open mode (open mode: no token needed)`);
    const config = join(home, "config", "tern", "config.json");
    expect(statSync(config).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(config, "utf8"))).toEqual({ url: baseUrl });
    const ls = await tern(["data", "ls"], cwd, { TERN_URL: undefined });
    expect(ls.code, ls.stderr).toBe(0);
    // With nothing listening at the flag's address, the flag wins over the saved config and fails clearly.
    const elsewhere = await tern(["data", "ls", "--url", "http://127.0.0.1:9"], cwd, { TERN_URL: undefined });
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toContain("cannot reach Tern at http://127.0.0.1:9");
  });

  it("in token mode: refuses without a token, keeps nothing for a bad one, and saves a good one", async () => {
    const cwd = mkdtempSync(join(home, "token-"));
    const noToken = await tern(["data", "ls"], cwd, { TERN_URL: tokenBaseUrl });
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain("This Tern requires an API token");
    expect(noToken.stderr).toContain("--token");
    const tokenHome = { XDG_CONFIG_HOME: join(home, "token-config") };
    const bad = await tern(["login", "--url", tokenBaseUrl, "--token", "tern_not_a_real_token"], cwd, { ...tokenHome, TERN_URL: undefined });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("The API token is invalid, expired or revoked");
    expect(bad.stderr).toContain("nothing was saved");
    expect(existsSync(join(home, "token-config", "tern", "config.json"))).toBe(false);
    const good = await tern(["login", "--url", tokenBaseUrl, "--token", TOKEN_MODE_ADMIN], cwd, { ...tokenHome, TERN_URL: undefined });
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toContain("scopes: admin");
    const ls = await tern(["data", "ls"], cwd, { ...tokenHome, TERN_URL: undefined });
    expect(ls.code, ls.stderr).toBe(0);
  });
});

describe("tern data", () => {
  let project: string;
  const prices = `e2e-prices-${stamp}`;
  const images = `e2e-images-${stamp}`;
  const csv1 = "a,b,c\n1,2.5,x\n2,3.5,y\n3,,z\n";
  const csv2 = "a,b,c,d\n1,2.5,x,1\n2,3.5,y,2\n3,4,z,3\n4,1,w,4\n";
  const imageFiles: Record<string, string> = { "train/0001.txt": "cat", "train/0002.txt": "dog", "test/0001.txt": "bird", "README.md": "# images\n" };

  beforeAll(() => {
    project = join(home, "project");
    mkdirSync(join(project, "data"), { recursive: true });
    git(project, "init", "-q", "-b", "main");
    writeFileSync(join(project, "train.py"), "print('train')\n");
    git(project, "add", "train.py");
    git(project, "commit", "-q", "-m", "code");
    writeFileSync(join(project, "data", "prices.csv"), csv1);
    for (const [path, text] of Object.entries(imageFiles)) {
      mkdirSync(join(project, "data", "images", path, ".."), { recursive: true });
      writeFileSync(join(project, "data", "images", path), text);
    }
  });

  it("adds a file: uploads it, commits a version with git commit and a profile, writes the pointer and .gitignore", async () => {
    const r = await tern(["data", "add", "data/prices.csv", "--dataset", prices, "-m", "first cut"], project);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("uploaded 1 file(s)");
    expect(r.stdout).toContain(`${prices} version 1 committed`);
    expect(pointer(join(project, "data", "prices.csv.tern"))).toEqual({ dataset: prices, version: 1, kind: "file", sha256: sha256(csv1), md5: md5(csv1), size: csv1.length, files: 1 });
    expect(readFileSync(join(project, "data", ".gitignore"), "utf8")).toBe("/prices.csv\n");
    const { version } = await api(`/datasets/${prices}/versions/1`);
    expect(version).toMatchObject({ message: "first cut", git_commit: git(project, "rev-parse", "HEAD"), git_branch: "main", file_name: "prices.csv", row_count: 3, profile_source: "client" });
    expect(version.schema).toEqual([{ name: "a", type: "integer" }, { name: "b", type: "number" }, { name: "c", type: "string" }]);
  });

  it("adds a directory as a manifest and keeps one .gitignore entry per path", async () => {
    const r = await tern(["data", "add", "data/images/", "--dataset", images], project);
    expect(r.code, r.stderr).toBe(0);
    const p = pointer(join(project, "data", "images.tern"));
    const size = Object.values(imageFiles).reduce((s, t) => s + t.length, 0);
    expect(p).toMatchObject({ dataset: images, version: 1, kind: "directory", size, files: 4 });
    expect(p.md5).toBeUndefined();
    const manifest = Object.entries(imageFiles)
      .map(([path, text]) => [path, sha256(text), text.length] as const)
      .sort((x, y) => (x[0] < y[0] ? -1 : 1));
    expect(p.sha256).toBe(sha256(JSON.stringify(manifest)));
    expect(readFileSync(join(project, "data", ".gitignore"), "utf8")).toBe("/prices.csv\n/images\n");
    const { files } = await api(`/datasets/${images}/versions/1/files`);
    expect(files.map((f: any) => f.path)).toEqual(manifest.map((m) => m[0]));
  });

  it("re-adding unchanged data uploads and hashes nothing and keeps the version", async () => {
    for (const [path, name] of [
      ["data/prices.csv", prices],
      ["data/images", images],
    ]) {
      const before = readFileSync(join(project, `${path}.tern`), "utf8");
      const r = await tern(["data", "add", path], project);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain("uploaded 0 file(s) (0 B)");
      expect(r.stdout).toMatch(/hashed 0, \d+ unchanged/);
      expect(r.stdout).toContain(`${name} version 1 unchanged`);
      expect(readFileSync(join(project, `${path}.tern`), "utf8")).toBe(before);
    }
    expect(readFileSync(join(project, "data", ".gitignore"), "utf8")).toBe("/prices.csv\n/images\n");
    expect((await api(`/datasets/${images}`)).dataset.latest_version).toBe(1);
  });

  it("pulls into a fresh checkout, verifies hashes, and status and pull repair corrupted and missing files", async () => {
    const clone = join(home, "clone");
    mkdirSync(join(clone, "data"), { recursive: true });
    for (const f of ["prices.csv.tern", "images.tern"]) copyFileSync(join(project, "data", f), join(clone, "data", f));
    const fresh = "clone-cache";

    let st = await tern(["data", "status"], clone, {}, fresh);
    expect(st.code, st.stderr).toBe(0);
    expect(st.stdout).toContain(`data/images (${images}@1): not pulled`);
    expect(st.stdout).toContain(`data/prices.csv (${prices}@1): not pulled`);

    // A leftover side file with wrong bytes makes the resumed download hash wrong: refused, then fixed.
    writeFileSync(join(clone, "data", "prices.csv.tern-partial"), "XYZ");
    const refused = await tern(["data", "pull", "data/prices.csv.tern"], clone, {}, fresh);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`not ${sha256(csv1)}`);
    expect(existsSync(join(clone, "data", "prices.csv"))).toBe(false);
    expect(existsSync(join(clone, "data", "prices.csv.tern-partial"))).toBe(false);

    const pull = await tern(["data", "pull"], clone, {}, fresh);
    expect(pull.code, pull.stderr).toBe(0);
    expect(pull.stdout).toContain("4 downloaded, 0 already up to date");
    expect(readFileSync(join(clone, "data", "prices.csv"), "utf8")).toBe(csv1);
    for (const [path, text] of Object.entries(imageFiles)) expect(readFileSync(join(clone, "data", "images", path), "utf8")).toBe(text);

    st = await tern(["data", "status", "--json"], clone, {}, fresh);
    expect(JSON.parse(st.stdout).map((r: any) => r.state)).toEqual(["up to date", "up to date"]);

    writeFileSync(join(clone, "data", "images", "train", "0001.txt"), "not a cat");
    rmSync(join(clone, "data", "images", "test", "0001.txt"));
    writeFileSync(join(clone, "data", "images", "extra.txt"), "new");
    writeFileSync(join(clone, "data", "prices.csv"), csv1.replace("x", "q"));
    st = await tern(["data", "status"], clone, {}, fresh);
    expect(st.code, st.stderr).toBe(0);
    expect(st.stdout).toContain(`data/images (${images}@1): changed: 1 modified, 1 missing, 1 new`);
    expect(st.stdout).toContain("  modified: train/0001.txt");
    expect(st.stdout).toContain("  missing: test/0001.txt");
    expect(st.stdout).toContain("  new: extra.txt");
    expect(st.stdout).toContain(`data/prices.csv (${prices}@1): changed: 1 modified`);

    const repair = await tern(["data", "pull"], clone, {}, fresh);
    expect(repair.code, repair.stderr).toBe(0);
    expect(repair.stdout).toContain("2 downloaded, 2 already up to date");
    expect(repair.stdout).toContain("1 downloaded, 0 already up to date");
    expect(readFileSync(join(clone, "data", "images", "train", "0001.txt"), "utf8")).toBe("cat");
    expect(readFileSync(join(clone, "data", "prices.csv"), "utf8")).toBe(csv1);
    st = await tern(["data", "status", "--json"], clone, {}, fresh);
    expect(JSON.parse(st.stdout)).toMatchObject([{ state: "changed", modified: [], missing: [], added: ["extra.txt"] }, { state: "up to date" }]);
  }, 180_000);

  it("resumes a multipart upload that stopped after one part, and pull resumes a partial download", async () => {
    const name = `e2e-big-${stamp}`;
    const bytes = randomBytes(12 * MiB + 12345);
    writeFileSync(join(project, "data", "big.bin"), bytes);
    const multipart = { TERN_PART_SIZE: String(5 * MiB) };
    const stopped = await tern(["data", "add", "data/big.bin", "--dataset", name], project, { ...multipart, TERN_TEST_STOP_AFTER_PARTS: "1" });
    expect(stopped.code, stopped.stderr).toBe(75);
    expect(stopped.stderr).toContain("stopped after 1 part(s) of big.bin");
    expect(existsSync(join(project, "data", "big.bin.tern"))).toBe(false);
    const stateFile = join(home, "cache", "tern", "uploads", `${sha256(bytes)}.json`);
    const state = JSON.parse(readFileSync(stateFile, "utf8"));
    const upload = await api(`/blobs/uploads/${state.upload_id}`);
    expect(upload).toMatchObject({ part_count: 3, part_size: 5 * MiB });
    expect(upload.parts.map((p: any) => p.part_number)).toEqual([1]);

    const resumed = await tern(["data", "add", "data/big.bin", "--dataset", name], project, multipart);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain("resuming the upload of big.bin: 1 of 3 parts already uploaded");
    expect(resumed.stdout).toContain(`${name} version 1 committed`);
    expect(existsSync(stateFile)).toBe(false);
    expect(pointer(join(project, "data", "big.bin.tern"))).toMatchObject({ sha256: sha256(bytes), md5: md5(bytes), size: bytes.length });
    expect((await fetch(`${baseUrl}/api/v1/blobs/uploads/${state.upload_id}`)).status).toBe(404);

    const clone = join(home, "big-clone");
    mkdirSync(clone);
    copyFileSync(join(project, "data", "big.bin.tern"), join(clone, "big.bin.tern"));
    writeFileSync(join(clone, "big.bin.tern-partial"), bytes.subarray(0, 3 * MiB));
    const pull = await tern(["data", "pull", "big.bin"], clone, {}, "big-cache");
    expect(pull.code, pull.stderr).toBe(0);
    expect(sha256(readFileSync(join(clone, "big.bin")))).toBe(sha256(bytes));
    expect(readdirSync(clone).sort()).toEqual(["big.bin", "big.bin.tern"]);
  }, 180_000);

  it("lists datasets and versions, and diffs two versions for people and as JSON", async () => {
    writeFileSync(join(project, "data", "prices.csv"), csv2);
    writeFileSync(join(project, "train.py"), "print('train v2')\n");
    git(project, "commit", "-q", "-am", "more code");
    const add = await tern(["data", "add", "data/prices.csv", "-m", "adds column d"], project);
    expect(add.code, add.stderr).toBe(0);
    expect(pointer(join(project, "data", "prices.csv.tern")).version).toBe(2);
    expect((await api(`/datasets/${prices}/versions/2`)).version.parent_version_id).toBe((await api(`/datasets/${prices}/versions/1`)).version.id);

    const ls = await tern(["data", "ls"], project);
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout.split("\n")[0]).toMatch(/^DATASET\s+LATEST\s+UPDATED\s+DESCRIPTION$/);
    expect(ls.stdout).toMatch(new RegExp(`${prices}\\s+2\\s`));
    const versions = await tern(["data", "ls", prices], project);
    expect(versions.code, versions.stderr).toBe(0);
    const lines = versions.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^VERSION\s+CREATED\s+SIZE\s+FILES\s+ROWS\s+MESSAGE\s+AUTHOR\s+COMMIT$/);
    expect(lines[1]).toMatch(/^2\s/);
    expect(lines[1]).toContain("adds column d");
    expect(lines[1]).toContain(git(project, "rev-parse", "HEAD").slice(0, 10));
    expect(lines[1]).toMatch(/\s4\s/);
    expect(lines[2]).toContain("first cut");

    const diff = await tern(["data", "diff", `${prices}@1`, "2"], project);
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.stdout).toContain(`${prices}@1 -> ${prices}@2`);
    expect(diff.stdout).toContain("rows:  3 -> 4 (+1)");
    expect(diff.stdout).toContain("  + d (integer)");
    expect(diff.stdout).toMatch(/ {2}a: count 3 -> 4, max 3 -> 4, mean 2 -> 2.5/);
    expect(diff.stdout).toContain("files: 0 added, 0 removed, 1 changed, 0 unchanged");
    const json = await tern(["data", "diff", `${prices}@1`, `${prices}@latest`, "--json"], project);
    const d = JSON.parse(json.stdout);
    expect(d.row_count).toEqual({ before: 3, after: 4, delta: 1 });
    expect(d.columns.find((c: any) => c.name === "d")).toMatchObject({ change: "added", type_after: "integer" });

    // One file more in the directory: only it is uploaded; the new version diffs by files.
    writeFileSync(join(project, "data", "images", "train", "0003.txt"), "fish");
    const grow = await tern(["data", "add", "data/images"], project);
    expect(grow.code, grow.stderr).toBe(0);
    expect(grow.stdout).toContain("hashed 1, 4 unchanged");
    expect(grow.stdout).toContain("uploaded 1 file(s) (4 B); 4 already stored");
    expect(grow.stdout).toContain(`${images} version 2 committed`);
    const dirDiff = await tern(["data", "diff", `${images}@1`, `${images}@2`], project);
    expect(dirDiff.code, dirDiff.stderr).toBe(0);
    expect(dirDiff.stdout).toContain("file count: 4 -> 5 (+1)");
    expect(dirDiff.stdout).toContain("files: 1 added, 0 removed, 0 changed, 4 unchanged");
    expect(dirDiff.stdout).toContain("  + train/0003.txt (4 B)");
  }, 120_000);

  it("profiles a file above the streaming threshold by streaming, and the version carries the profile", async () => {
    const name = `e2e-streamed-${stamp}`;
    const rows = Array.from({ length: 20_000 }, (_, i) => `${i},${((i * 7919) % 1000) / 10},${["Oslo", "Bergen", "Bodø"][i % 3]}`);
    const csv = `id,price,city\n${rows.join("\n")}\n`;
    writeFileSync(join(project, "data", "streamed.csv"), csv);
    const streaming = { TERN_PROFILE_STREAM_BYTES: "1024" };
    const add = await tern(["data", "add", "data/streamed.csv", "--dataset", name], project, streaming);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain("profiled 20000 row(s), 3 column(s) (streamed; some statistics approximate)");
    const { version } = await api(`/datasets/${name}/versions/1`);
    expect(version).toMatchObject({ row_count: 20_000, profile_source: "client", content_type: "text/csv" });
    expect(version.schema).toEqual([{ name: "id", type: "integer" }, { name: "price", type: "number" }, { name: "city", type: "string" }]);
    const [id, price, city] = version.profile.columns;
    // More values than the exact buffer holds: quantiles come from the sketch, within the declared rank error.
    expect(version.profile.approximate).toBe(true);
    expect(id.quantile_rank_error).toBe(0.01);
    expect(id.numeric).toMatchObject({ min: 0, max: 19_999, mean: 9_999.5 });
    expect(Math.abs(id.numeric.quantiles["0.5"] / 19_999 - 0.5)).toBeLessThanOrEqual(0.01);
    expect(price.numeric.min).toBe(0);
    expect(city).toMatchObject({ distinct: 3, top: [{ value: "Bergen", count: 6667 }, { value: "Oslo", count: 6667 }, { value: "Bodø", count: 6666 }] });

    // The same file again (hash now cached, so profiled by a read of its own) gives the same profile.
    const again = await tern(["data", "add", "data/streamed.csv", "--dataset", `${name}-again`], project, streaming);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/hashed 0, 1 unchanged/);
    expect((await api(`/datasets/${name}-again/versions/1`)).version.profile).toEqual(version.profile);

    // Parquet is streamed a row group and a column at a time through byte-range reads.
    const parquet = parquetWriteBuffer({
      columnData: [
        { name: "x", data: Array.from({ length: 3000 }, (_, i) => i / 2), type: "DOUBLE" },
        { name: "label", data: Array.from({ length: 3000 }, (_, i) => (i % 10 === 0 ? null : `l${i % 4}`)), type: "STRING" },
      ],
      rowGroupSize: 1000,
    });
    writeFileSync(join(project, "data", "part.parquet"), new Uint8Array(parquet));
    const pq = await tern(["data", "add", "data/part.parquet", "--dataset", `${name}-parquet`], project, streaming);
    expect(pq.code, pq.stderr).toBe(0);
    expect(pq.stdout).toContain("profiled 3000 row(s), 2 column(s) (streamed)");
    const pv = (await api(`/datasets/${name}-parquet/versions/1`)).version;
    expect(pv).toMatchObject({ row_count: 3000, content_type: "application/vnd.apache.parquet", schema: [{ name: "x", type: "number" }, { name: "label", type: "string" }] });
    expect(pv.profile.columns[0].numeric).toMatchObject({ min: 0, max: 1499.5, mean: 749.75, quantiles: { "0.5": 749.75 } });
    expect(pv.profile.columns[1]).toMatchObject({ missing: 300, distinct: 4 });

    const bad = await tern(["data", "add", "data/streamed.csv", "--dataset", name], project, { TERN_PROFILE_STREAM_BYTES: "lots" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("TERN_PROFILE_STREAM_BYTES must be a whole number of bytes");
  }, 180_000);

  it("fails clearly on bad input and server errors", async () => {
    const missing = await tern(["data", "add", "data/nope.csv", "--dataset", "x"], project);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("data/nope.csv does not exist");
    const noName = await tern(["data", "add", "train.py"], project);
    expect(noName.code).toBe(2);
    expect(noName.stderr).toContain("--dataset NAME");
    const unknown = await tern(["data", "ls", `no-such-${stamp}`], project);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(`Dataset 'no-such-${stamp}' does not exist`);
    const badRef = await tern(["data", "diff", `${prices}@0`, "2"], project);
    expect(badRef.code).toBe(2);
    expect(badRef.stderr).toContain("positive number");
  });
});
