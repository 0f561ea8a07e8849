import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Page } from "playwright-core";
import { launch } from "./browser";
import { TOKEN_MODE_ADMIN } from "./global-setup";

const baseUrl = inject("tokenBaseUrl");
let browser: Awaited<ReturnType<typeof launch>>;
let page: Page;

beforeAll(async () => {
  browser = await launch();
  page = await browser.context.newPage();
});

afterAll(async () => {
  await browser?.close();
});

describe("the web app against a Tern in token mode", () => {
  it("refuses the API without a token and asks the browser for one", async () => {
    const res = await fetch(`${baseUrl}/api/v1/tokens`);
    expect(res.status).toBe(401);
    await page.goto(baseUrl);
    const alert = page.getByRole("alert").filter({ hasText: "requires an API token" });
    await alert.waitFor();
    expect(await page.getByTestId("open-mode-banner").count()).toBe(0);
    await alert.getByRole("link", { name: "Enter an API token in Settings" }).click();
    await page.waitForURL(`${baseUrl}/settings`);
  });

  it("signs in with a pasted token, creates a read-only token, and limits the UI to what that token may do", async () => {
    await page.getByLabel("API token", { exact: true }).fill(TOKEN_MODE_ADMIN);
    await page.getByRole("button", { name: "Use token" }).click();
    await page.getByText("Signed in with bootstrap admin").waitFor();

    await page.getByLabel("Name").fill("dashboard viewer");
    await page.getByLabel(/write: log runs/).uncheck();
    await page.getByRole("button", { name: "Create token" }).click();
    const secret = (await page.getByTestId("new-token").locator("pre").textContent())!.trim();
    const row = page.getByTestId("token-table").locator("tr", { hasText: "dashboard viewer" });
    expect(await row.locator("td").nth(1).textContent()).toBe("read");

    await page.getByLabel("API token", { exact: true }).fill(secret);
    await page.getByRole("button", { name: "Use token" }).click();
    await page.getByText("Signed in with dashboard viewer").waitFor();
    await page.getByText("Managing tokens needs the admin scope.").waitFor();
    expect(await page.getByTestId("token-table").count()).toBe(0);

    // A read token cannot write, over plain HTTP either.
    const write = await fetch(`${baseUrl}/api/v1/tokens`, {
      method: "POST",
      headers: { Authorization: `Bearer ${secret}`, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "escalate", scopes: ["admin"] }),
    });
    expect(write.status).toBe(403);
  });
});
