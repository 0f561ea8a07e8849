// Where the `tern` commands find their server and token, and where they keep per-user state. One
// resolver for every command: a flag beats TERN_URL/TERN_TOKEN in the environment, which beat the file
// `tern login` writes (XDG config dir, mode 0600, since it holds a secret), which beats the local default.
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export const DEFAULT_URL = "http://127.0.0.1:8787";

/** $XDG_CONFIG_HOME/tern (or ~/.config/tern). */
export function configDir(env = process.env) {
  return join(env.XDG_CONFIG_HOME || join(homedir(), ".config"), "tern");
}

export function configPath(env = process.env) {
  return join(configDir(env), "config.json");
}

/** $XDG_CACHE_HOME/tern (or ~/.cache/tern): hash caches, manifests, interrupted uploads. Safe to delete. */
export function cacheDir(env = process.env) {
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "tern");
}

/** The saved config, or {} when there is none; a file that is not JSON is an error worth reporting. */
export function readConfig(env = process.env) {
  const path = configPath(env);
  let text;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if (err.code === "ENOENT") return {};
    throw err;
  }
  try {
    const parsed = JSON.parse(text);
    return parsed && typeof parsed === "object" ? parsed : {};
  } catch {
    throw new Error(`${path} is not valid JSON: fix or delete it, then run \`tern login\` again`);
  }
}

/** Writes the config with mode 0600 (created that way, so the token is never readable by others). */
export function writeConfig(config, env = process.env) {
  const path = configPath(env);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
  return path;
}

const clean = (v) => (typeof v === "string" && v.trim() !== "" ? v.trim() : undefined);

/**
 * The server and token a command uses, and where each came from. An empty flag or variable counts as
 * not given, so `TERN_TOKEN=` does not shadow the saved token.
 */
export function resolveServer(flags = {}, env = process.env, config = {}) {
  const pick = (flag, envName, key, fallback) => {
    if (clean(flag) !== undefined) return { value: clean(flag), source: "flag" };
    if (clean(env[envName]) !== undefined) return { value: clean(env[envName]), source: envName };
    if (clean(config[key]) !== undefined) return { value: clean(config[key]), source: "config" };
    return { value: fallback, source: "default" };
  };
  const url = pick(flags.url, "TERN_URL", "url", DEFAULT_URL);
  const token = pick(flags.token, "TERN_TOKEN", "token", undefined);
  return { url: url.value.replace(/\/+$/, ""), token: token.value, urlSource: url.source, tokenSource: token.source };
}

/** resolveServer over the real environment and saved config. */
export function serverFor(flags = {}, env = process.env) {
  return resolveServer(flags, env, readConfig(env));
}

/** Adds --url and --token to a commander command (no defaults: resolveServer supplies them). */
export function serverOptions(command) {
  return command.option("--url <url>", `Tern's address (else TERN_URL, else \`tern login\`'s, else ${DEFAULT_URL})`).option("--token <token>", "API token (else TERN_TOKEN, else `tern login`'s)");
}
