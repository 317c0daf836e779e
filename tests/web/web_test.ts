/// <reference lib="dom" />
// The web edition in a real browser: the page is built into a temp folder, served on 127.0.0.1
// (web/serve.ts) and driven with Debian's Chromium through puppeteer-core, as a learner uses it.
// `?run=1` must print microgpt.py's stdout (the 20 names, `step 1000 / 1000 | loss 2.6497`) and
// draw the loss chart; the page must answer while the Value engine trains; an uploaded text must
// train to microgpt.py's numbers and to the command line's; a checkpoint the command line saved
// must sample the names the command line printed; it must fit a phone's width, work from the
// keyboard and offline once loaded; and no page may log an error or ask another origin for
// anything. Skipped without Chromium, except under CI (`CI` set), where that fails.

import assert from "node:assert/strict";
import { join } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core"; // npm:puppeteer-core@24.43.1 (deno.json)
import { chromiumFlags, findChromium } from "../../lib/notebook/png.ts";
import { build, ROOT } from "../../web/build.ts";
import { type PageServer, servePage } from "../../web/serve.ts";
import { fixture, haveNames } from "../_names.ts";
import { screen } from "./_screen.ts";

const FIXTURES = join(ROOT, "tests", "fixtures");
const TIMEOUT_MS = 120_000;

function chromiumMissing(): boolean {
  if (findChromium()) return false;
  if (Deno.env.get("CI")) throw new Error("the web test must run in CI, but Chromium is missing");
  console.warn("skipping the web test: missing Chromium (apt-get install chromium)");
  return true;
}

// What one page did: its console errors and uncaught exceptions, and every URL it requested.
interface PageLog {
  errors: string[];
  requests: string[];
}

async function openPage(
  browser: Browser,
  url: string,
  options: { width?: number } = {},
): Promise<{ page: Page; log: PageLog }> {
  const page = await browser.newPage();
  const log: PageLog = { errors: [], requests: [] };
  page.on("console", (message) => {
    if (message.type() === "error") log.errors.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (err) => log.errors.push(`page: ${err}`));
  page.on("request", (request) => log.requests.push(request.url()));
  page.on("requestfailed", (request) => log.errors.push(`failed: ${request.url()}`));
  await page.setViewport({ width: options.width ?? 1000, height: 900 });
  await page.goto(url);
  return { page, log };
}

// Everything a page asked for came from the server, and nothing went wrong.
function assertClean(log: PageLog, server: PageServer): void {
  const origin = new URL(server.url).origin;
  const elsewhere = log.requests.filter((u) =>
    !u.startsWith("data:") && new URL(u).origin !== origin
  );
  assert.deepEqual(elsewhere, [], "requests to another origin");
  assert.deepEqual(log.errors, [], "console errors");
}

const logText = (page: Page) => page.$eval("#log", (e) => e.textContent ?? "");

// Waits for the log to show `text` (and to differ from `before`, the log of an earlier run).
async function waitForLog(page: Page, text: string, before = ""): Promise<string> {
  await page.waitForFunction(
    (t, b) => {
      const log = document.querySelector("#log")!.textContent!;
      return log.includes(t) && log !== b;
    },
    { timeout: TIMEOUT_MS, polling: 50 },
    text,
    before,
  );
  return await logText(page);
}

async function runCli(args: string[]): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "lib", "cli", "main.ts"), ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(stdout);
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  return text;
}

async function uploadText(page: Page, selector: string, path: string): Promise<void> {
  const input = await page.$(selector);
  await (input as unknown as { uploadFile(path: string): Promise<void> }).uploadFile(path);
}

Deno.test({
  name: "the web page trains, samples and explains in Chromium, as the command line does",
  ignore: !haveNames() || chromiumMissing(),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "microgpt-web-" });
    const built = await build({ out: join(dir, "dist"), warn: () => {} });
    const server = servePage({ root: built.out, port: 0 });
    const browser = await puppeteer.launch({
      executablePath: findChromium()!,
      args: chromiumFlags(join(dir, "profile")),
    });
    try {
      const reference = fixture<{ samples: string[] }>("microgpt_py_seed42.json");
      const stdout = Deno.readTextFileSync(join(FIXTURES, "microgpt_py_seed42_stdout.txt"));

      await t.step("?run=1 prints microgpt.py's stdout and draws the loss chart", async () => {
        const { page, log } = await openPage(browser, `${server.url}?run=1`);
        const text = await waitForLog(page, "sample 20:");
        assert.equal(text, screen(stdout));
        assert.match(text, /^step 1000 \/ 1000 \| loss 2\.6497$/m);
        const names = await page.$$eval("#samples button", (bs) => bs.map((b) => b.textContent));
        assert.deepEqual(names, reference.samples);
        // The chart: the step losses, their mean and the five rungs of the loss ladder.
        await page.waitForFunction(
          () => document.querySelector("#chart")!.getAttribute("aria-label")!.includes("bigram"),
          { timeout: TIMEOUT_MS },
        );
        const chart = await page.$eval("#chart", (el) => ({
          label: el.getAttribute("aria-label") ?? "",
          traces: el.querySelectorAll(".scatterlayer .trace").length,
          longest: Math.max(
            ...[...el.querySelectorAll(".scatterlayer path.js-line")].map((p) =>
              (p.getAttribute("d") ?? "").length
            ),
          ),
        }));
        assert.match(chart.label, /^Loss chart: step 1000 of 1000; mean of the last 50 steps/);
        assert.equal(chart.traces, 7);
        assert.match(chart.label, /4-gram counts 2\.\d{4}$/);
        assert.ok(chart.longest > 5000, `the loss line has ${chart.longest} characters of path`);

        // The trace of sample 1 spells "kamon", then draws the end.
        await page.click("#samples button");
        await page.waitForSelector("#trace table");
        const trace = await page.$$eval(
          "#trace tbody tr",
          (rows) => rows.map((r) => r.querySelector("td:last-child")!.textContent!.split(",")[0]),
        );
        assert.deepEqual(trace, ["k", "a", "m", "o", "n", "end"]);
        assert.equal(await page.$eval("#samples button", (b) => b.ariaPressed), "true");

        // Attention over "emma": four heads, five positions each.
        await page.click("#attention-button");
        await page.waitForSelector("#attention table.heatmap");
        const heads = await page.$$eval(
          "#attention table.heatmap",
          (tables) => tables.map((table) => table.querySelectorAll("tbody tr").length),
        );
        assert.deepEqual(heads, [5, 5, 5, 5]);

        // Once loaded, it trains offline: names.txt and the engine are in the page already.
        const requests = log.requests.length;
        await page.setOfflineMode(true);
        await page.$eval("[name=seed]", (el) => ((el as HTMLInputElement).value = "7"));
        await page.click("#train");
        const offline = await waitForLog(page, "sample 20:", text);
        assert.match(offline, /^step 1000 \/ 1000 \| loss \d\.\d{4}$/m);
        assert.notEqual(offline, text);
        assert.equal(log.requests.length, requests);
        await page.setOfflineMode(false);
        assertClean(log, server);
        await page.close();
      });

      await t.step(
        "the page answers while the Value engine trains, and restarts cleanly",
        async () => {
          const { page, log } = await openPage(browser, `${server.url}?engine=value&run=1`);
          await page.waitForFunction(
            () => document.querySelector("#status")!.textContent!.startsWith("Training"),
            { timeout: TIMEOUT_MS },
          );
          // A control responds at once: typing a prefix updates the field and the link.
          const typed = performance.now();
          await page.type("[name=prefix]", "ka");
          await page.waitForFunction(() => location.search.includes("prefix=ka"), {
            timeout: 2000,
          });
          const latency = performance.now() - typed;
          // The worker answers between steps: attention over the weights as they are now.
          await page.$eval("#attention-text", (el) => ((el as HTMLInputElement).value = "anna"));
          await page.click("#attention-button");
          await page.waitForSelector("#attention table.heatmap", { timeout: 5000 });
          const status = await page.$eval("#status", (el) => el.textContent!);
          assert.match(status, /^Training with the value engine: step \d+ of 1000/);
          assert.ok(latency < 1000, `typing took ${latency.toFixed(0)} ms`);
          // Train pressed twice more (the prefix cleared) restarts the run: at the end, one clean
          // run's output, with the fast engine's numbers.
          await page.$eval("[name=prefix]", (el) => ((el as HTMLInputElement).value = ""));
          await page.click("#train");
          await page.click("#train");
          await waitForLog(page, "sample 20:");
          await page.waitForFunction(
            () => document.querySelector("#status")!.textContent!.startsWith("Trained"),
            { timeout: TIMEOUT_MS },
          );
          await new Promise((resolve) => setTimeout(resolve, 300)); // anything late would show
          assert.equal(await logText(page), screen(stdout));
          assertClean(log, server);
          await page.close();
        },
      );

      await t.step("Stop keeps the model, to sample from", async () => {
        const { page, log } = await openPage(browser, `${server.url}?engine=value&run=1`);
        await page.waitForFunction(
          () => document.querySelector("#status")!.textContent!.startsWith("Training"),
          { timeout: TIMEOUT_MS },
        );
        await page.click("#stop");
        await page.waitForFunction(
          () => document.querySelector("#status")!.textContent!.startsWith("Stopped after step"),
          { timeout: TIMEOUT_MS },
        );
        await page.$eval("[name=samples]", (el) => ((el as HTMLInputElement).value = "3"));
        await page.click("#sample");
        await page.waitForFunction(() => document.querySelectorAll("#samples button").length === 3);
        assert.doesNotMatch(await logText(page), /inference/);
        assertClean(log, server);
        await page.close();
      });

      await t.step("an uploaded text trains to microgpt.py's numbers", async () => {
        // microgpt.py on tests/fixtures/unicode_names.txt: seed 11, 60 steps, block size 12.
        const unicode = fixture<{ losses: string[]; samples: string[] }>(
          "microgpt_py_seed11_unicode.json",
        );
        const query = "seed=11&steps=60&block_size=12&samples=5&temperature=0.6";
        const { page, log } = await openPage(browser, `${server.url}?${query}`);
        await uploadText(page, "#file", join(FIXTURES, "unicode_names.txt"));
        await page.waitForFunction(() =>
          (document.querySelector("#text") as HTMLTextAreaElement).value.length > 0
        );
        await page.click("#train");
        const text = await waitForLog(page, "sample  5:");
        assert.match(text, /^num docs: 182\nvocab size: 53\nnum params: 4960\n/);
        const last = Number(unicode.losses.at(-1)).toFixed(4);
        assert.match(text, new RegExp(`^step   60 /   60 \\| loss ${last}$`, "m"));
        const names = await page.$$eval("#samples button", (bs) => bs.map((b) => b.textContent));
        assert.deepEqual(names, unicode.samples);
        assertClean(log, server);
        await page.close();
      });

      await t.step("held-out documents print and plot as deno task train prints them", async () => {
        const data = join(FIXTURES, "syllable_names.txt");
        const cli = await runCli([
          "--data",
          data,
          "--engine",
          "fast",
          "--steps",
          "60",
          "--seed",
          "3",
          "--val-split",
          "0.2",
          "--eval-every",
          "20",
        ]);
        const query = "steps=60&seed=3&val_split=0.2&eval_every=20";
        const { page, log } = await openPage(browser, `${server.url}?${query}`);
        await uploadText(page, "#file", data);
        await page.waitForFunction(() =>
          (document.querySelector("#text") as HTMLTextAreaElement).value.length > 0
        );
        await page.click("#train");
        const text = await waitForLog(page, "samples: ");
        assert.equal(text, screen(cli));
        await page.waitForFunction(
          () => {
            const label = document.querySelector("#chart")!.getAttribute("aria-label")!;
            return label.includes("held-out") && label.includes("4-gram");
          },
          { timeout: TIMEOUT_MS },
        );
        const legend = await page.$eval("#chart", (el) => el.querySelector(".legend")!.textContent);
        assert.match(legend!, /held-out loss/);
        assert.match(legend!, /bigram counts: \d\.\d\d/);
        assertClean(log, server);
        await page.close();
      });

      await t.step(
        "a checkpoint saved by the command line samples the names it printed",
        async () => {
          const ck = join(dir, "ck.safetensors");
          const cli = await runCli(["--engine", "fast", "--steps", "20", "--save", ck]);
          const printed = [...cli.matchAll(/^sample +\d+: (.*)$/gm)].map((m) => m[1]);
          assert.equal(printed.length, 20);
          const { page, log } = await openPage(browser, server.url);
          await uploadText(page, "#checkpoint", ck);
          const text = await waitForLog(page, "sample 20:");
          assert.match(
            text,
            /^checkpoint ck\.safetensors: step 20 of 20, vocab size 27, 4192 params$/m,
          );
          const names = await page.$$eval("#samples button", (bs) => bs.map((b) => b.textContent));
          assert.deepEqual(names, printed);
          // and the rest of the page works on it
          await page.click("#samples button:nth-of-type(1)");
          await page.waitForSelector("#trace table");
          assertClean(log, server);
          await page.close();
        },
      );

      await t.step("a phone's width, labels and the keyboard are enough", async () => {
        const { page, log } = await openPage(browser, `${server.url}?steps=50`, { width: 360 });
        // Every control has a name a screen reader reads.
        const unnamed = await page.$$eval(
          "input, textarea, button, select",
          (els) =>
            els.filter((el) => {
              const input = el as HTMLInputElement;
              const named = (input.labels?.length ?? 0) > 0 || el.getAttribute("aria-label") ||
                (el.tagName === "BUTTON" && el.textContent!.trim());
              return !named;
            }).map((el) => el.outerHTML),
        );
        assert.deepEqual(unnamed, []);
        // Tab from the top reaches Train; Enter starts a run.
        let found = false;
        for (let i = 0; i < 40 && !found; i++) {
          await page.keyboard.press("Tab");
          found = await page.evaluate(() => document.activeElement?.id === "train");
        }
        assert.ok(found, "Tab never reached the Train button");
        await page.keyboard.press("Enter");
        await waitForLog(page, "sample 20:");
        await page.waitForFunction(
          () => document.querySelector("#chart")!.getAttribute("aria-label")!.includes("bigram"),
          { timeout: TIMEOUT_MS },
        );
        await page.click("#attention-button");
        await page.waitForSelector("#attention table.heatmap");
        await page.click("#samples button");
        await page.waitForSelector("#trace table");
        // Nothing but the tables' own scroll boxes is wider than the screen.
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(width <= 360, `the page is ${width} px wide`);
        assertClean(log, server);
        await page.close();
      });
    } finally {
      await browser.close();
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
