import { describe, expect, it } from "vitest";
import {
  ArtifactPathError,
  MAX_ARTIFACT_PATH_BYTES,
  attachmentDisposition,
  clientFileName,
  guessContentType,
  joinArtifactPath,
  normalizeArtifactPath,
  proxiedArtifactPath,
} from "../../worker/lib/artifact-paths";

const refused = (raw: string, options?: { directory?: boolean }) => {
  try {
    normalizeArtifactPath(raw, options);
  } catch (err) {
    expect(err).toBeInstanceOf(ArtifactPathError);
    return (err as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(raw)}`);
};

describe("normalizeArtifactPath", () => {
  it("keeps clean relative paths and drops '.' segments", () => {
    expect(normalizeArtifactPath("model/MLmodel")).toBe("model/MLmodel");
    expect(normalizeArtifactPath("1/abc/artifacts/./plots/a b.png")).toBe("1/abc/artifacts/plots/a b.png");
    expect(normalizeArtifactPath("données/é.txt")).toBe("données/é.txt");
  });

  it("refuses parent segments, also when percent-encoded once or twice", () => {
    for (const p of ["..", "../x", "a/../b", "a/..", "%2e%2e/x", "a/%252e%252e/b", "..%2fx"]) {
      expect(refused(p), p).toMatch(/parent directory/);
    }
    expect(normalizeArtifactPath("a..b/..c")).toBe("a..b/..c");
  });

  it("refuses absolute paths, backslashes, control characters and '#'", () => {
    expect(refused("/etc/passwd")).toMatch(/absolute/);
    expect(refused("C:/Windows")).toMatch(/absolute/);
    expect(refused("a\\b")).toMatch(/backslash/);
    expect(refused("a%5c..%5cb")).toMatch(/backslash/);
    expect(refused("a\u0000b")).toMatch(/control/);
    expect(refused("a%00b")).toMatch(/control/);
    expect(refused("line\nbreak")).toMatch(/control/);
    expect(refused("a#b")).toMatch(/'#'/);
  });

  it("refuses lone surrogates, which have no UTF-8 form, and keeps paired ones", () => {
    expect(refused("model\ud800.pkl")).toMatch(/lone surrogate/);
    expect(refused("\udfffx")).toMatch(/lone surrogate/);
    expect(refused("a/\udc00\ud800")).toMatch(/lone surrogate/);
    expect(normalizeArtifactPath("plots/🧪 run.png")).toBe("plots/🧪 run.png");
  });

  it("refuses empty segments and empty file paths", () => {
    expect(refused("a//b")).toMatch(/empty segment/);
    expect(refused("a/b/")).toMatch(/empty segment/);
    expect(refused("")).toMatch(/empty/);
    expect(refused(".")).toMatch(/empty/);
  });

  it("treats the empty path as the root and allows one trailing slash for directories", () => {
    expect(normalizeArtifactPath("", { directory: true })).toBe("");
    expect(normalizeArtifactPath(".", { directory: true })).toBe("");
    expect(normalizeArtifactPath("1/abc/artifacts/", { directory: true })).toBe("1/abc/artifacts");
    expect(refused("a//", { directory: true })).toMatch(/empty segment/);
    expect(refused("/", { directory: true })).toMatch(/absolute/);
  });

  it("limits the length in UTF-8 bytes", () => {
    expect(normalizeArtifactPath("a".repeat(MAX_ARTIFACT_PATH_BYTES))).toHaveLength(MAX_ARTIFACT_PATH_BYTES);
    expect(refused("a".repeat(MAX_ARTIFACT_PATH_BYTES + 1))).toMatch(/longer than/);
    // 500 two-byte characters plus one byte is over the limit though only 501 characters long.
    expect(refused("é".repeat(MAX_ARTIFACT_PATH_BYTES / 2) + "x")).toMatch(/longer than/);
  });

  it("leaves a lone percent sign alone when it is not an escape", () => {
    expect(normalizeArtifactPath("100%/done")).toBe("100%/done");
  });
});

describe("proxiedArtifactPath", () => {
  it("reads the path of mlflow-artifacts URIs with and without an authority", () => {
    expect(proxiedArtifactPath("mlflow-artifacts:/0/abc/artifacts")).toBe("0/abc/artifacts");
    expect(proxiedArtifactPath("mlflow-artifacts://tern.example:443/7/r/artifacts")).toBe("7/r/artifacts");
    expect(proxiedArtifactPath("mlflow-artifacts:/")).toBe("");
    expect(proxiedArtifactPath("mlflow-artifacts://host")).toBe("");
  });

  it("reads HTTP URLs of the proxy and refuses other stores", () => {
    expect(proxiedArtifactPath("https://tern.example/api/2.0/mlflow-artifacts/artifacts/3/r/artifacts")).toBe("3/r/artifacts");
    expect(proxiedArtifactPath("http://h/api/2.0/mlflow-artifacts/artifacts/a%20b?x=1")).toBe("a b");
    expect(proxiedArtifactPath("https://tern.example/other")).toBeNull();
    expect(proxiedArtifactPath("s3://bucket/0/abc/artifacts")).toBeNull();
    expect(proxiedArtifactPath("/local/mlruns")).toBeNull();
  });

  it("returns traversal for the caller to refuse", () => {
    const raw = proxiedArtifactPath("mlflow-artifacts:/../../secrets");
    expect(raw).toBe("../../secrets");
    expect(() => normalizeArtifactPath(raw!, { directory: true })).toThrow(ArtifactPathError);
  });
});

describe("names, types and dispositions", () => {
  it("joins paths, skipping the root", () => {
    expect(joinArtifactPath("", "a")).toBe("a");
    expect(joinArtifactPath("a", "")).toBe("a");
    expect(joinArtifactPath("a/b", "c")).toBe("a/b/c");
  });

  it("takes the file name of a client's local path on any platform", () => {
    expect(clientFileName("/tmp/x/model.bin")).toBe("model.bin");
    expect(clientFileName("C:\\Users\\me\\model.bin")).toBe("model.bin");
    expect(clientFileName("model.bin")).toBe("model.bin");
    expect(clientFileName("/tmp/dir/")).toBe("");
  });

  it("guesses Content-Type as MLflow does: text formats as text/plain", () => {
    expect(guessContentType("model/MLmodel")).toBe("text/plain; charset=utf-8");
    expect(guessContentType("a/metrics.JSON")).toBe("text/plain; charset=utf-8");
    expect(guessContentType("script.js")).toBe("text/plain; charset=utf-8");
    expect(guessContentType("plots/roc.png")).toBe("image/png");
    expect(guessContentType("report.html")).toBe("text/html");
    expect(guessContentType("model.pkl")).toBe("application/octet-stream");
    expect(guessContentType(".hidden")).toBe("application/octet-stream");
    expect(guessContentType("noextension")).toBe("application/octet-stream");
  });

  it("builds attachment dispositions, with filename* for names that are not plain ASCII", () => {
    expect(attachmentDisposition("a/roc.png")).toBe('attachment; filename="roc.png"');
    expect(attachmentDisposition("é t.txt")).toBe(`attachment; filename="_ t.txt"; filename*=UTF-8''%C3%A9%20t.txt`);
    expect(attachmentDisposition('q"uote.txt')).toBe(`attachment; filename="q_uote.txt"; filename*=UTF-8''q%22uote.txt`);
  });
});
