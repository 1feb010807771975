// Drives headless Chromium against the chat example (examples/chat.rs):
// two pages talk through the server, a 1 MiB message round-trips, and a
// closed page is announced as gone.
//
//   node chat_test.mjs [http://127.0.0.1:8080/]
//
// Environment: CHAT_URL (when no argument), CHROMIUM (default
// /usr/bin/chromium), CHAT_EXPECT_DEFLATE=1 to require permessage-deflate,
// CHAT_SCREENSHOT=path.png to save a screenshot of the second page.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const url = process.argv[2] || process.env.CHAT_URL || "http://127.0.0.1:8080/";
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const TIMEOUT = 15_000;
const BIG = 1 << 20;

let passed = 0;
const ok = (what) => {
  passed += 1;
  console.log(`ok ${passed} - ${what}`);
};

// Waits for `predicate(arg)` to hold in the page, naming what was awaited
// when it does not within the timeout.
async function waitFor(page, what, predicate, arg) {
  try {
    await page.waitForFunction(predicate, arg, { timeout: TIMEOUT, polling: 50 });
  } catch (error) {
    throw new Error(`timed out after ${TIMEOUT / 1000} s waiting for ${what}`, { cause: error });
  }
  ok(what);
}

const hasMessage = ({ type, name, text, length }) =>
  window.chat.messages.some(
    (m) =>
      m.type === type &&
      m.name === name &&
      (text === undefined || m.text === text) &&
      (length === undefined || m.text.length === length),
  );

async function main() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "wsproto-chromium-"));
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      timeout: TIMEOUT,
      viewport: { width: 760, height: 520 },
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    context.setDefaultTimeout(TIMEOUT);
    const errors = [];
    const open = async (label) => {
      const page = await context.newPage();
      page.on("pageerror", (error) => errors.push(`${label}: ${error.message}`));
      await page.goto(url, { timeout: TIMEOUT });
      return page;
    };
    const a = await open("page A");
    const b = await open("page B");
    console.log(`# ${url} in ${executablePath}`);

    for (const [label, page] of [["A", a], ["B", b]]) {
      await waitFor(page, `page ${label} status reads "open"`, () => {
        return document.querySelector("#status").textContent === "open" && window.chat.me !== null;
      });
    }
    const nameA = await a.evaluate(() => window.chat.me);
    const nameB = await b.evaluate(() => window.chat.me);
    console.log(`# page A is ${nameA}, page B is ${nameB}`);

    const extensions = await b.evaluate(() => window.chat.socket.extensions);
    console.log(`# negotiated extensions: ${JSON.stringify(extensions)}`);
    if (process.env.CHAT_EXPECT_DEFLATE) {
      if (!extensions.includes("permessage-deflate")) {
        throw new Error(`expected permessage-deflate, the server answered ${JSON.stringify(extensions)}`);
      }
      ok("permessage-deflate negotiated with Chromium");
    }

    await waitFor(a, `page A sees ${nameB} join`, hasMessage, { type: "join", name: nameB });

    await a.fill("#input", "hello from A");
    await a.press("#input", "Enter");
    await waitFor(b, `"hello from A" (typed, Enter) appears in page B`, hasMessage, {
      type: "message",
      name: nameA,
      text: "hello from A",
    });
    await waitFor(b, `page B's #log shows "hello from A"`, () =>
      document.querySelector("#log").textContent.includes("hello from A"),
    );

    await b.fill("#input", "hello from B");
    await b.click("#send");
    await waitFor(a, `"hello from B" (send button) appears in page A`, hasMessage, {
      type: "message",
      name: nameB,
      text: "hello from B",
    });

    await b.evaluate((n) => window.chat.send("x".repeat(n)), BIG);
    await waitFor(b, `a ${BIG}-character message from B comes back to B`, hasMessage, {
      type: "message",
      name: nameB,
      length: BIG,
    });
    await waitFor(a, `the ${BIG}-character message reaches A`, hasMessage, {
      type: "message",
      name: nameB,
      length: BIG,
    });

    await a.close();
    await waitFor(b, `closing page A announces "${nameA} left" in page B`, (name) => {
      return document.querySelector("#log").textContent.includes(`${name} left`);
    }, nameA);
    const status = await b.textContent("#status");
    if (status !== "open") throw new Error(`page B's status reads ${JSON.stringify(status)}, not "open"`);
    ok("page B is still open");

    if (errors.length) throw new Error(`errors in the pages:\n  ${errors.join("\n  ")}`);
    ok("no script errors in the pages");

    if (process.env.CHAT_SCREENSHOT) {
      await b.evaluate(() => document.activeElement?.blur());
      await b.screenshot({ path: process.env.CHAT_SCREENSHOT });
      console.log(`# screenshot of page B saved to ${process.env.CHAT_SCREENSHOT}`);
    }
  } finally {
    if (context) await context.close().catch(() => {});
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

try {
  await main();
  console.log(`browser test: ${passed} passed, 0 failed`);
} catch (error) {
  console.error(`not ok ${passed + 1} - ${error.message}`);
  if (error.cause) console.error(`# ${String(error.cause.message ?? error.cause).split("\n")[0]}`);
  console.log(`browser test: ${passed} passed, 1 failed`);
  process.exit(1);
}
