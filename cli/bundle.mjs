// Loads a TypeScript entry point of the CLI (which imports the pure modules the Worker and the app
// share) in Node 20, which cannot run TypeScript: esbuild bundles it in memory and it is imported from
// a data: URL. esbuild comes with `npm install` of this repository.
import { join } from "node:path";

export async function loadTypeScript(dir, file, command) {
  let build;
  try {
    ({ build } = await import("esbuild"));
  } catch {
    throw new Error(`${command} compiles its TypeScript with esbuild, a dev dependency: run \`npm install\` in the repository first.`);
  }
  const out = await build({
    entryPoints: [join(dir, file)],
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    write: false,
    logLevel: "error",
  });
  const code = out.outputFiles[0].text;
  return import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`);
}
