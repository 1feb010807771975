// Loads one page in headless Chromium (a fresh profile, the certificate
// of the test server accepted) and waits until the page's title says how
// its WebSocket went: "echoed" (exit 0) or "error" / nothing within the
// timeout (exit 1). tests/browser/h2_run.sh runs it against the h2_echo
// example's page and reads, in the server's log, how the WebSocket came.
//
//   node h2_test.mjs URL [CHROMIUM_SWITCH...]
//
// Environment: CHROMIUM (default /usr/bin/chromium).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const [url, ...switches] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const TIMEOUT = 15_000;

async function main() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "wsproto-chromium-"));
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      timeout: TIMEOUT,
      ignoreHTTPSErrors: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", ...switches],
    });
    const page = context.pages()[0] || (await context.newPage());
    await page.goto(url, { timeout: TIMEOUT });
    await page.waitForFunction(() => document.title === "echoed" || document.title === "error", null, {
      timeout: TIMEOUT,
      polling: 50,
    });
    const title = await page.title();
    const log = await page.textContent("#log");
    console.log(`${url}: ${log}`);
    return title === "echoed" ? 0 : 1;
  } finally {
    if (context) await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`${url}: ${error.message}`);
    process.exit(1);
  },
);
