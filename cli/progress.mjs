// Progress bars for hashing, upload and download (cli-progress, on stderr). Drawn only when both stdout
// and stderr are terminals and --quiet is not given, so scripts and pipes see only the result lines.
import cliProgress from "cli-progress";
import { formatBytes } from "./data-files.mjs";

export function showProgress(quiet) {
  return !quiet && Boolean(process.stdout.isTTY) && Boolean(process.stderr.isTTY);
}

/** A bar over a byte total with a file counter; a no-op object when progress is off. */
export function byteBar(enabled, label, totalBytes, totalFiles) {
  if (!enabled) return { add() {}, file() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label.padEnd(11)} {bar} {percentage}% | {done}/{size} | {files}/{totalFiles} files | {rate}/s`,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      etaBuffer: 50,
      fps: 8,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  let bytes = 0;
  let files = 0;
  const payload = () => ({ done: formatBytes(bytes), size: formatBytes(totalBytes), files, totalFiles, rate: formatBytes(Math.round(bytes / Math.max(0.001, (Date.now() - started) / 1000))) });
  bar.start(Math.max(1, totalBytes), 0, payload());
  return {
    add(n) {
      bytes += n;
      bar.update(bytes, payload());
    },
    file() {
      files++;
      bar.update(bytes, payload());
    },
    stop() {
      bar.update(bytes, payload());
      bar.stop();
    },
  };
}
