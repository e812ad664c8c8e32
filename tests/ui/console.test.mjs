// The console at /ui, as a person uses it, in headless Chromium: open it, pick the tutorial
// workflow, start it with its mock test case, see the path taken highlighted on the graph and
// the output, click a state to see its input and output. Screenshots go to SCREENSHOTS
// (default target/ui-screenshots) as test artifacts.
//
// Run: `npm install` here once, then `node --test console.test.mjs` with EXPRESSWAY_BIN naming
// the binary (default ../../target/debug/expressway) and CHROMIUM its browser (/usr/bin/chromium).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, copyFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bin = process.env.EXPRESSWAY_BIN || join(root, "target", "debug", "expressway");
const shots = process.env.SCREENSHOTS || join(root, "target", "ui-screenshots");
let server, base, browser;

before(async () => {
  mkdirSync(shots, { recursive: true });
  const defs = mkdtempSync(join(tmpdir(), "expressway-ui-"));
  copyFileSync(join(root, "benches/workflows/w5_credit.json"), join(defs, "w5_credit.asl.json"));
  copyFileSync(join(root, "benches/workflows/w2_choice.json"), join(defs, "w2_choice.asl.json"));
  server = spawn(bin, ["serve", "--listen", "127.0.0.1:0", "--definitions", defs,
    "--mock-config", join(root, "examples/mock-config.json")], { stdio: ["ignore", "pipe", "pipe"] });
  base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("serve did not start in 30 s")), 30000);
    let seen = "";
    const look = (chunk) => {
      seen += chunk;
      const m = seen.match(/listening on (http:\/\/[0-9.:]+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    };
    server.stdout.on("data", look);
    server.stderr.on("data", look);
    server.on("exit", (code) => reject(new Error("serve exited with " + code + ": " + seen)));
  });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu"] });
});

after(async () => {
  if (browser) await browser.close();
  if (server) server.kill("SIGTERM");
});

test("the tutorial runs from the console, its path and output shown", { timeout: 60000 }, async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(base + "/ui");
  await page.locator('#machines li[data-name="w5_credit"]').click();
  await page.locator('#graph g.node[data-state="Get credit limit"]').waitFor();
  assert.equal(await page.locator("#graph g.node").count(), 12, "Start, 10 states, End");

  const input = JSON.stringify({ name: "Jane Doe", email: "jane@example.com", ssn: "123-45-6789",
    street: "1 Main St", city: "Springfield", state: "IL", zip: "62701", credit_applied: 6000 });
  await page.fill("#input", input);
  await page.fill("#testcase", "HappyPath");
  await page.click("#start");
  await page.locator("#result-status.SUCCEEDED").waitFor({ timeout: 20000 });
  const output = JSON.parse(await page.locator("#result-output").textContent());
  assert.ok(output.credit, "the output carries the credit limit: " + JSON.stringify(output));

  // The path taken: visited states fully drawn with the path colour, the branch not taken faded.
  // Wait for the graph redrawn for this execution (the one shown before it has every node at
  // opacity 1 too, so waiting on the opacity alone raced the redraw).
  await page.locator('#graph g.node[data-state="Auto-approve limit"][opacity="0.5"]').waitFor({ timeout: 10000 });
  await page.locator('#graph g.node[data-state="Wait for human approval"][opacity="1"]').waitFor();
  const taken = await page.locator('#graph g.node[data-state="Wait for human approval"] rect').getAttribute("stroke");
  assert.equal(taken, "#16a34a");
  assert.equal(await page.locator('#graph g.node[data-state="Auto-approve limit"]').getAttribute("opacity"), "0.5");
  await page.screenshot({ path: join(shots, "console-execution.png"), fullPage: true });

  // A state's input and output on click.
  await page.locator('#graph g.node[data-state="Get credit limit"]').click();
  const stateInput = JSON.parse(await page.locator("#state-detail pre.state-input").textContent());
  assert.equal(stateInput.name, "Jane Doe");
  const stateOutput = JSON.parse(await page.locator("#state-detail pre.state-output").textContent());
  assert.ok(stateOutput.credit);

  // The execution is listed, and a failing start shows its error.
  await page.locator("#executions tr.exec").first().waitFor();
  assert.match(await page.locator("#executions").textContent(), /w5_credit\s*SUCCEEDED/);
  await page.fill("#testcase", "NoSuchCase");
  await page.click("#start");
  await page.locator("#result").filter({ hasText: /InvalidArn/ }).waitFor({ timeout: 20000 });
  assert.match(await page.locator("#result").textContent(), /NoSuchCase/);

  // The live chart has drawn something from /metrics.
  await page.locator("#chart-throughput polyline").waitFor({ timeout: 10000 });
  await page.screenshot({ path: join(shots, "console-state.png"), fullPage: true });
  assert.deepEqual(errors, []);
});
