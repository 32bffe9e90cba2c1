import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";

/**
 * Headless Chromium for the browser tests: Debian's `chromium` (installed
 * by packages/sipedge/bootstrap.mjs), driven by playwright-core 1.64.1 —
 * the release built against Chromium 156, Debian's version. Never a browser
 * Playwright downloads (PLATFORM.md, Chromium section).
 */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** PLATFORM.md's flags; without the last one ICE gathers nothing on a loopback-only host. */
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--use-fake-ui-for-media-stream",
  "--use-fake-device-for-media-stream",
  "--allow-loopback-in-peer-connection",
];

/** Playwright gives every launch a fresh temporary profile (--user-data-dir). */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`no Chromium at ${CHROMIUM_PATH}: \`npm test\` as root installs Debian's chromium; otherwise \`sudo apt-get install -y chromium\``);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: FLAGS, timeout: 30_000 });
}

/** A page in its own context (its own localStorage: one "device" per page) with the microphone allowed. */
export async function openPage(browser: Browser, url: string): Promise<Page> {
  const origin = new URL(url).origin;
  const context = await browser.newContext();
  await context.grantPermissions(["microphone"], { origin });
  const page = await context.newPage();
  await page.goto(url);
  return page;
}

/** Collects the page's console errors and uncaught exceptions, for assertions and for failure messages. */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  return errors;
}
