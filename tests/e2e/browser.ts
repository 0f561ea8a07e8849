/** Headless Chromium for the browser tests (Debian's package; Playwright never downloads a browser). */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export async function launch(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}. The browser tests need it: on Debian/Ubuntu run ` +
        "`sudo apt-get install -y chromium`, or set CHROMIUM_PATH to a Chromium or Chrome binary.",
    );
  }
  const dir = mkdtempSync(join(tmpdir(), "tern-chromium-"));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A fresh browser and one page of it, sized to `viewport` when given, whose uncaught errors and
 * Content-Security-Policy violations are pushed to `errors` (tests assert it stays empty).
 */
export async function openPage(errors: string[], viewport?: { width: number; height: number }): Promise<{ browser: Awaited<ReturnType<typeof launch>>; page: Page }> {
  const browser = await launch();
  const page = await browser.context.newPage();
  if (viewport) await page.setViewportSize(viewport);
  collectErrors(page, errors);
  return { browser, page };
}

/**
 * Pushes a page's uncaught errors to `errors`, and its Content-Security-Policy violations, which are
 * no exception but only a console error.
 */
export function collectErrors(page: Page, errors: string[]): void {
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) errors.push(m.text());
  });
}
