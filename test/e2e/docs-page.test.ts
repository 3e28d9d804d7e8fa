/**
 * The /docs page as a person uses it (issue 14 item 5), in a real browser (Debian's headless
 * Chromium, driven by puppeteer-core): opened as `/docs#token=<token>` it is authorized (and
 * the token leaves the address bar), and "Try it out" works with what the page prefills:
 * createNetwork's example body creates my-net, then listNetworks (no filter prefilled) lists it.
 * The screenshot is kept as $TMPDIR/labnet-screenshots/docs-try-it.png for a person to look at.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveOnLoopback } from "../helpers/cli";
import { startTestLabnet, type TestLabnet } from "../helpers/labnet";
import { colourCounts, decodePng } from "../helpers/png";
import { registerTestHost } from "../helpers/test-host";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
if (!CHROMIUM) {
  console.warn(
    "docs e2e: SKIPPED: no chromium (/usr/bin/chromium); infra/local/ensure-deps.sh installs Debian's chromium",
  );
}

let labnet: TestLabnet;
let server: { url: string; close(): Promise<void> } | undefined;
let browser: Browser | undefined;
let profile: string | undefined;

beforeAll(async () => {
  labnet = await startTestLabnet();
  await registerTestHost(labnet.db, { name: "docs-host", netnsPrefix: "dch-" });
  server = await serveOnLoopback((request) => labnet.app.fetch(request));
  if (CHROMIUM) {
    profile = await mkdtemp(path.join(tmpdir(), "labnet-docs-"));
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      userDataDir: profile,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
      ],
    });
  }
});

afterAll(async () => {
  await browser?.close();
  if (profile) {
    await rm(profile, { recursive: true, force: true });
  }
  await server?.close();
  await labnet?.stop();
});

/** Expands an operation, presses Execute (the page opens in Try-it-out mode) and reads the answer. */
async function tryOperation(
  page: Page,
  tag: string,
  operationId: string,
): Promise<{ status: string; body: string }> {
  const block = `#operations-${tag}-${operationId}`;
  await page.waitForSelector(`${block} .opblock-summary`);
  await page.click(`${block} .opblock-summary`);
  await page.waitForSelector(`${block} button.execute`);
  await page.click(`${block} button.execute`);
  const status = `${block} .live-responses-table .response .response-col_status`;
  await page.waitForSelector(status, { timeout: 30_000 });
  return page.$eval(block, (el) => ({
    status:
      el.querySelector(".live-responses-table .response .response-col_status")?.textContent?.trim() ?? "",
    body: el.querySelector(".live-responses-table .response-col_description pre")?.textContent ?? "",
  }));
}

describe("the /docs page in a browser", () => {
  it.skipIf(!CHROMIUM)("authorizes from #token=, and Try it out creates and lists a network", async () => {
    if (!browser || !server) {
      throw new Error("no browser");
    }
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 1600 });
    await page.goto(`${server.url}/docs#token=${labnet.adminToken}`, { waitUntil: "networkidle0" });
    await page.waitForSelector("#operations-networks-listNetworks");

    // Authorized, and the token no longer shows in the address bar.
    const authorized = await page.evaluate(() => {
      const ui = (globalThis as unknown as { ui: { authSelectors: { authorized(): { toJS(): unknown } } } })
        .ui;
      return ui.authSelectors.authorized().toJS();
    });
    expect(authorized).toMatchObject({ bearerAuth: { value: labnet.adminToken } });
    expect(page.url()).toBe(`${server.url}/docs`);

    const created = await tryOperation(page, "networks", "createNetwork");
    expect(created.status, created.body).toMatch(/^20[12]/);
    expect(created.body).toContain('"name": "my-net"');

    const listed = await tryOperation(page, "networks", "listNetworks");
    expect(listed.status, listed.body).toMatch(/^200/);
    expect(listed.body).toContain('"name": "my-net"');
    // And the API agrees: the browser's call made it.
    const mine = await labnet.request("GET", "/v1/networks/my-net");
    expect(mine.status).toBe(200);

    const dir = path.join(tmpdir(), "labnet-screenshots");
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, "docs-try-it.png");
    await page.$eval("#operations-networks-listNetworks", (el) => el.scrollIntoView());
    const png = decodePng(Buffer.from(await page.screenshot({ path: file })));
    console.log(`docs e2e: screenshot ${file} (${png.width}x${png.height})`);
    expect(png.width).toBe(1280);
    expect(colourCounts(png).size, "not one colour").toBeGreaterThan(10);
  });
});
