// Loads a TypeScript entry point of the CLI (which imports the pure modules the Worker and the app
// share) in Node 20, which cannot run TypeScript: esbuild bundles it, dependencies included, into the
// user's cache directory, and the bundle is reused while none of its input files changed (size and
// mtime of each, as esbuild's metafile lists them), so most runs skip esbuild altogether. esbuild comes
// with `npm install` of this repository.
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { cacheDir } from "./config.mjs";

async function fresh(meta, root) {
  try {
    for (const [path, want] of Object.entries(meta.inputs)) {
      const st = await stat(resolve(root, path));
      if (st.size !== want.size || st.mtimeMs !== want.mtimeMs) return false;
    }
    return true;
  } catch {
    return false;
  }
}

export async function loadTypeScript(dir, file, command) {
  const entry = resolve(dir, file);
  // The salt changes when the build options do, so bundles built with older options are not reused.
  const key = createHash("sha256").update(`${entry}\0require-banner`).digest("hex").slice(0, 16);
  const out = join(cacheDir(), "bundles", `${basename(file, ".ts")}-${key}.mjs`);
  const metaFile = `${out}.json`;
  try {
    const meta = JSON.parse(await readFile(metaFile, "utf8"));
    if (await fresh(meta, meta.root)) return await import(pathToFileURL(out).href);
  } catch {
    // no usable bundle yet
  }
  let build;
  try {
    ({ build } = await import("esbuild"));
  } catch {
    throw new Error(`${command} compiles its TypeScript with esbuild, a dev dependency: run \`npm install\` in the repository first.`);
  }
  const root = process.cwd();
  // Bundled CommonJS dependencies (yaml) call require() for Node's built-ins, which an ES module lacks.
  const banner = { js: 'import { createRequire as __ternCreateRequire } from "node:module"; const require = __ternCreateRequire(import.meta.url);' };
  const result = await build({ entryPoints: [entry], bundle: true, format: "esm", platform: "node", target: "node20", write: false, metafile: true, logLevel: "error", banner });
  const inputs = {};
  for (const path of Object.keys(result.metafile.inputs)) {
    const st = await stat(resolve(root, path));
    inputs[path] = { size: st.size, mtimeMs: st.mtimeMs };
  }
  const code = result.outputFiles[0].text;
  try {
    await mkdir(join(cacheDir(), "bundles"), { recursive: true });
    await writeFile(`${out}.${process.pid}.tmp`, code);
    await rename(`${out}.${process.pid}.tmp`, out);
    await writeFile(metaFile, JSON.stringify({ root, inputs }));
    return await import(pathToFileURL(out).href);
  } catch {
    // A read-only cache still runs: import from memory.
    return import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`);
  }
}
