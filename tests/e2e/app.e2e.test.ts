import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { BrowserContext, Page } from "playwright-core";
import { collectErrors, launch } from "./browser";

const baseUrl = inject("baseUrl");
let browser: Awaited<ReturnType<typeof launch>>;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  browser = await launch();
  context = browser.context;
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseUrl });
  page = await context.newPage();
  collectErrors(page, pageErrors);
});

afterAll(async () => {
  await browser?.close();
});

describe("the web app", () => {
  it("loads, says loudly that it runs open, and shows the health of every binding", async () => {
    await page.goto(baseUrl);
    await expect.poll(() => page.getByRole("heading", { name: "Welcome to Tern" }).isVisible()).toBe(true);
    await page.getByTestId("open-mode-banner").waitFor();
    const health = page.getByTestId("health");
    await health.getByText("Durable Object RATE_LIMITER").waitFor();
    expect(await health.textContent()).toContain("D1 database");
    expect(pageErrors).toEqual([]);
  });

  const sections = [
    { label: "Experiments", path: "/experiments", snippet: "/api/2.0/mlflow/experiments/create" },
    { label: "Models", path: "/models", snippet: "/api/2.0/mlflow/registered-models/create" },
    { label: "Datasets", path: "/datasets", snippet: "/api/v1/datasets" },
    { label: "Studies", path: "/studies", snippet: "/api/v1/studies" },
    { label: "Pipelines", path: "/pipelines", snippet: "/api/v1/pipelines" },
    { label: "Monitoring", path: "/monitoring", snippet: "/api/v1/monitors" },
  ];

  for (const s of sections) {
    it(`navigates to ${s.label} and shows copy-paste snippets in curl and Python`, async () => {
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: s.label }).click();
      await page.waitForURL(`${baseUrl}${s.path}`);
      await page.getByRole("heading", { level: 1, name: s.label }).waitFor();
      // Pages that list something show the snippets behind a "… from code" button once they have data
      // (other test files share this server), and in their empty state otherwise.
      const fromCode = page.getByRole("button", { name: /from code/ });
      await page.getByTestId("empty-state").or(fromCode).first().waitFor();
      let empty = page.getByTestId("empty-state");
      if ((await empty.count()) === 0) {
        await fromCode.first().click();
        empty = page.getByTestId(/-from-code$/);
      }
      // The snippet tabs open on curl; a page may show other code (an example spec) before them.
      const curl = await empty.locator("[role=tabpanel][data-state=active] pre").first().textContent();
      expect(curl).toContain(`curl -sS`);
      expect(curl).toContain(s.snippet);
      await empty.getByRole("tab", { name: /Python/ }).click();
      const python = await empty.locator("[role=tabpanel][data-state=active] pre").first().textContent();
      expect(python).toContain("import json, os, urllib.request");
      expect(python).toContain(baseUrl);
    });
  }

  it("serves deep links to app pages (SPA fallback) and the API reference from the OpenAPI document", async () => {
    await page.goto(`${baseUrl}/api-reference`);
    await page.getByRole("heading", { name: "API reference" }).waitFor();
    await page.getByTestId("operation").filter({ hasText: "/api/v1/tokens" }).first().waitFor();
    expect(await page.getByTestId("operation").count()).toBeGreaterThanOrEqual(4);
  });

  it("creates a token through the UI, shows the secret once, and revokes it", async () => {
    await page.goto(`${baseUrl}/settings`);
    await page.getByRole("heading", { name: "API tokens" }).waitFor();
    await page.getByLabel("Name").fill("browser test token");
    await page.getByLabel(/admin: manage/).check();
    await page.getByRole("button", { name: "Create token" }).click();
    const created = page.getByTestId("new-token");
    await created.waitFor();
    const secret = (await created.locator("pre").textContent())!.trim();
    expect(secret).toMatch(/^tern_[A-Za-z0-9]{12}_[A-Za-z0-9]{32}$/);

    await created.getByRole("button", { name: "Copy" }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);

    // The secret works against the API.
    const who = await fetch(`${baseUrl}/api/v1/auth/whoami`, { headers: { Authorization: `Bearer ${secret}` } });
    expect(who.status).toBe(200);

    await created.getByRole("button", { name: "Done" }).click();
    await created.waitFor({ state: "detached" });
    expect(await page.content()).not.toContain(secret);

    const row = page.getByTestId("token-table").locator("tr", { hasText: "browser test token" });
    expect(await row.textContent()).toContain("active");
    expect(await row.textContent()).toContain("read, write, admin");
    await row.getByRole("button", { name: "Revoke" }).click();
    const dialog = page.getByRole("alertdialog");
    await dialog.getByText("Every client using it loses access").waitFor();
    await dialog.getByRole("button", { name: "Revoke" }).click();
    await expect.poll(() => row.textContent()).toContain("revoked");
    expect(await row.getByRole("button", { name: "Revoke" }).count()).toBe(0);

    const list = (await (await fetch(`${baseUrl}/api/v1/tokens`)).json()) as { tokens: { name: string; status: string }[] };
    expect(list.tokens.find((t) => t.name === "browser test token")?.status).toBe("revoked");
    expect(pageErrors).toEqual([]);
  });
});
