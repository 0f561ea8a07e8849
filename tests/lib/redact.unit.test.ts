import { describe, expect, it } from "vitest";
import { exceedsJsonDepth } from "../../worker/lib/json-depth";
import { isSecretName, redactLogText, redactSecretFields, redactSecretSource, REDACTED, restoreRedacted, secretValues } from "../../worker/lib/redact";

describe("secret names", () => {
  it.each(["API_KEY", "api-key", "apikey", "HF_TOKEN", "db_password", "PASSWD", "client_secret", "PRIVATE_KEY", "aws_credentials", "Authorization", "cookie"])("%s is a secret name", (name) => {
    expect(isSecretName(name)).toBe(true);
  });
  it.each(["symbol", "EPOCHS", "Content-Type", "X-Trace", "author", "keyboard"])("%s is not", (name) => {
    expect(isSecretName(name)).toBe(false);
  });
});

describe("redactSecretFields", () => {
  it("masks strings under secret names at any depth, keeps the rest and the input untouched", () => {
    const input = { headers: { Authorization: "Bearer abc", Accept: "text/csv" }, env: { HF_TOKEN: "hf_x", N: "3" }, deep: [{ a: { api_key: "k" } }], tokens: 12 };
    const out = redactSecretFields(input);
    expect(out).toEqual({ headers: { Authorization: REDACTED, Accept: "text/csv" }, env: { HF_TOKEN: REDACTED, N: "3" }, deep: [{ a: { api_key: REDACTED } }], tokens: 12 });
    expect(input.headers.Authorization).toBe("Bearer abc");
  });

  it("keeps values that only reference secrets by name", () => {
    const out = redactSecretFields({ Authorization: "Bearer {{ secrets.API }}", "X-Api-Key": "{{secrets.KEY}}", Token: "x{{ secrets.A }}" });
    expect(out).toEqual({ Authorization: "Bearer {{ secrets.API }}", "X-Api-Key": "{{secrets.KEY}}", Token: REDACTED });
  });

  it("walks a value nested 100,000 levels deep without overflowing the stack", () => {
    let v: Record<string, unknown> = { password: "p" };
    for (let i = 0; i < 100_000; i++) v = { a: v };
    expect(() => redactSecretFields(v)).not.toThrow();
  });
});

describe("redactSecretSource", () => {
  it("masks secret values in YAML block and flow mappings and in JSON, keeping templates and other keys", () => {
    const yaml = [
      "headers:",
      '  Authorization: "Bearer abc123"',
      "  X-Api-Key: plain-key-value # comment",
      "  X-Ref: 'Bearer {{ secrets.X }}'",
      "  Accept: text/csv",
      "env: {DB_PASSWORD: hunter2, MODE: fast}",
    ].join("\n");
    expect(redactSecretSource(yaml)).toBe(
      ['headers:', '  Authorization: "***"', '  X-Api-Key: "***"# comment', "  X-Ref: 'Bearer {{ secrets.X }}'", "  Accept: text/csv", 'env: {DB_PASSWORD: "***", MODE: fast}'].join("\n"),
    );
    const json = JSON.stringify({ env: { HF_TOKEN: "hf_\"quoted\"", N: "1" } });
    expect(JSON.parse(redactSecretSource(json))).toEqual({ env: { HF_TOKEN: REDACTED, N: "1" } });
  });
});

describe("redactLogText", () => {
  it("masks Tern tokens, Authorization credentials, Bearer tokens and known values", () => {
    const token = "tern_AbCdEfGhIjKl_0123456789abcdefghijABCDEFGHIJKL";
    const text = `token ${token}\nAuthorization: Basic dXNlcjpwYXNz\nauthorization=Token abcdef\ncurl -H "Bearer eyJhbGciOi.x.y"\nkey=s3cr3t-value\n`;
    expect(redactLogText(text, ["s3cr3t-value", "abc"])).toBe(`token tern_***\nAuthorization: Basic ***\nauthorization=Token ***\ncurl -H "Bearer ***"\nkey=***\n`);
  });

  it("leaves ordinary prose alone", () => {
    const text = "Basic training loop; the token count is 512; tern_short is no token\n";
    expect(redactLogText(text)).toBe(text);
  });

  it("takes known values only from secret names, long enough and not templated", () => {
    expect(secretValues({ API_KEY: "longvalue1", TOKEN: "abc", PASSWORD: "{{ params.p }}", MODE: "production" })).toEqual(["longvalue1"]);
  });
});

describe("restoreRedacted", () => {
  it("puts back the previous value where the mask came back, and only there", () => {
    const previous = { tasks: { a: { headers: { Authorization: "Bearer old", "X-Other": "1" } }, gone: { env: { TOKEN: "t" } } } };
    const next = { tasks: { a: { headers: { Authorization: REDACTED, "X-Other": REDACTED } }, fresh: { env: { TOKEN: REDACTED } } } };
    expect(restoreRedacted(next, previous)).toEqual({ tasks: { a: { headers: { Authorization: "Bearer old", "X-Other": REDACTED } }, fresh: { env: { TOKEN: REDACTED } } } });
  });
});

describe("exceedsJsonDepth", () => {
  it("counts arrays and objects, not brackets in strings or escaped quotes", () => {
    expect(exceedsJsonDepth("[[[]]]", 3)).toBe(false);
    expect(exceedsJsonDepth("[[[[]]]]", 3)).toBe(true);
    expect(exceedsJsonDepth('{"a":{"b":[1]}}', 3)).toBe(false);
    expect(exceedsJsonDepth('{"a":{"b":{"c":[1]}}}', 3)).toBe(true);
    expect(exceedsJsonDepth('["[[[[[[", "\\"[[[[[["]', 1)).toBe(false);
    expect(exceedsJsonDepth('[[1],[2],[3],[4]]', 2)).toBe(false);
  });

  it("ends a string at a quote after an even run of backslashes only", () => {
    expect(exceedsJsonDepth('["a\\\\", [[1]]]', 2)).toBe(true); // "a\\" ends there; [[1]] nests
    expect(exceedsJsonDepth('["a\\\\\\"[[", 1]', 1)).toBe(false); // \\\" is an escaped quote: [[ is inside
    expect(exceedsJsonDepth('["unterminated [[[[', 1)).toBe(false);
  });

  it("agrees with a character-by-character scan on random texts", () => {
    const slow = (text: string, max: number) => {
      let depth = 0;
      let inString = false;
      for (let i = 0; i < text.length; i++) {
        const ch = text[i];
        if (inString) {
          if (ch === "\\") i++;
          else if (ch === '"') inString = false;
        } else if (ch === '"') inString = true;
        else if (ch === "[" || ch === "{") {
          if (++depth > max) return true;
        } else if (ch === "]" || ch === "}") depth--;
      }
      return false;
    };
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const alphabet = ['"', "\\", "[", "]", "{", "}", "a", ","];
    for (let t = 0; t < 2000; t++) {
      const text = Array.from({ length: Math.floor(next() * 40) }, () => alphabet[Math.floor(next() * alphabet.length)]).join("");
      for (const max of [0, 1, 2, 3]) expect(exceedsJsonDepth(text, max), JSON.stringify(text)).toBe(slow(text, max));
    }
  });

  it("scans ten million levels without recursion", () => {
    expect(exceedsJsonDepth("[".repeat(10_000_000), 64)).toBe(true);
  });
});
