// Types of cli/config.mjs, for the TypeScript tests that import it.
export declare const DEFAULT_URL: string;
export type Env = Record<string, string | undefined>;
export interface TernConfig {
  url?: string;
  token?: string;
}
export interface ResolvedServer {
  url: string;
  token: string | undefined;
  urlSource: "flag" | "TERN_URL" | "config" | "default";
  tokenSource: "flag" | "TERN_TOKEN" | "config" | "default";
}
export declare function configDir(env?: Env): string;
export declare function configPath(env?: Env): string;
export declare function cacheDir(env?: Env): string;
export declare function readConfig(env?: Env): TernConfig;
export declare function writeConfig(config: TernConfig, env?: Env): string;
export declare function resolveServer(flags?: { url?: string; token?: string }, env?: Env, config?: TernConfig): ResolvedServer;
export declare function serverFor(flags?: { url?: string; token?: string }, env?: Env): ResolvedServer;
export declare function serverOptions<T>(command: T): T;
