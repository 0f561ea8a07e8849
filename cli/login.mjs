// `tern login [--url URL] [--token TOKEN]`: checks the server and token against /auth/whoami and saves
// them in the per-user config file that every other command falls back to.
import { TernApi, explain } from "./api.mjs";
import { readConfig, resolveServer, writeConfig } from "./config.mjs";

export async function login(opts, env = process.env) {
  const server = resolveServer(opts, env, readConfig(env));
  const api = new TernApi(server);
  const who = await api.get("/auth/whoami");
  const path = writeConfig({ ...readConfig(env), url: server.url, ...(server.token ? { token: server.token } : {}) }, env);
  const scopes = (who.scopes ?? []).join(", ");
  return `Logged in to ${server.url} as ${who.name} (${who.auth_mode === "open" ? "open mode: no token needed" : `scopes: ${scopes}`}); saved to ${path}`;
}

export function registerLogin(program) {
  program
    .command("login")
    .description("Check a Tern server and API token, and save them for the other commands")
    .option("--url <url>", "Tern's address (else TERN_URL, else the saved one, else http://127.0.0.1:8787)")
    .option("--token <token>", "an API token (else TERN_TOKEN, else the saved one); not needed in open mode")
    .action(async (opts) => {
      try {
        console.log(await login(opts));
      } catch (err) {
        console.error(`tern login: ${explain(err, resolveServer(opts, process.env, {}).url)}; nothing was saved`);
        process.exitCode = 1;
      }
    });
}
