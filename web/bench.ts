// Figures for the web edition: the page built and served locally, opened in headless Chromium
// with an empty cache and `?run=1`, as a first visit. Time from navigation to the first training
// step and to the last of 1,000 (the marks the page sets, in the worker's clock), with either
// engine, median of `--runs N` visits [3]; and the bytes the page fetched, by kind: its own code
// and WebAssembly, plotly.js, names.txt. `deno task web:bench`.

import { join } from "node:path";
import puppeteer from "puppeteer-core";
import { FAST_KERNELS_WASM } from "../lib/fast/_kernels_wasm.ts";
import { chromiumFlags, findChromium } from "../lib/notebook/png.ts";
import { type Build, build } from "./build.ts";
import { servePage } from "./serve.ts";

/** The page's own files: what the 300 KB target counts. */
const PAGE_CODE = ["/", "/style.css", "/main.js", "/worker.js", "/ladder_worker.js"];

interface Visit {
  /** ms from navigation to the end of step 1. */
  firstStep: number;
  /** ms from navigation to the end of the last step. */
  trained: number;
  /** ms from the worker starting the run (data read, model built) to the last step. */
  training: number;
  /** Bytes fetched, by path. */
  fetched: Map<string, number>;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;

async function main(runs: number): Promise<void> {
  const chromium = findChromium();
  if (!chromium) {
    console.error(
      "error: Cannot run the web benchmark: Chromium is missing (apt-get install chromium)",
    );
    Deno.exit(2);
  }
  const dir = await Deno.makeTempDir({ prefix: "microgpt-web-bench-" });
  const built = await build({ out: join(dir, "dist") });
  const server = servePage({ root: built.out, port: 0 });
  const browser = await puppeteer.launch({
    executablePath: chromium,
    args: chromiumFlags(join(dir, "profile")),
  });
  const version = await browser.version();
  try {
    const visits: Record<string, Visit[]> = { fast: [], value: [] };
    for (const engine of ["fast", "value"] as const) {
      for (let i = 0; i < runs; i++) {
        const context = await browser.createBrowserContext(); // an empty cache each time
        const page = await context.newPage();
        const from = server.served.length;
        await page.goto(`${server.url}?run=1&engine=${engine}`);
        await page.waitForFunction(
          () => performance.getEntriesByName("microgpt:trained").length > 0,
          { timeout: 300_000, polling: 20 },
        );
        const marks = await page.evaluate(() =>
          Object.fromEntries(
            performance.getEntriesByType("mark").map((m) => [m.name, m.startTime]),
          )
        );
        const fetched = new Map<string, number>();
        for (const { path, bytes } of server.served.slice(from)) {
          fetched.set(path, (fetched.get(path) ?? 0) + bytes);
        }
        visits[engine]!.push({
          firstStep: marks["microgpt:first-step"]!,
          trained: marks["microgpt:trained"]!,
          training: marks["microgpt:trained"]! - marks["microgpt:started"]!,
          fetched,
        });
        await context.close();
      }
    }
    report({ version, runs, visits, built });
  } finally {
    await browser.close();
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
}

function report(
  r: { version: string; runs: number; visits: Record<string, Visit[]>; built: Build },
) {
  const { version, runs, visits, built } = r;
  console.log(`web edition, ${version} headless, first visits (empty cache), median of ${runs}\n`);
  console.log("| engine | to step 1 | to step 1000 | the run in the worker | steps/s |");
  console.log("| ------ | --------: | -----------: | --------------------: | ------: |");
  for (const [engine, vs] of Object.entries(visits)) {
    const training = median(vs.map((v) => v.training));
    console.log(
      `| ${engine.padEnd(6)} | ${seconds(median(vs.map((v) => v.firstStep)))} | ` +
        `${seconds(median(vs.map((v) => v.trained)))} | ${seconds(training)} | ` +
        `${Math.round(1000 / (training / 1000)).toLocaleString("en-US")} |`,
    );
  }
  const fetched = visits.fast![0]!.fetched;
  const gzip = new Map(built.files.map((f) => [f.name, f.gzipBytes]));
  const fileOf = (path: string) => path === "/" ? "index.html" : path.slice(1);
  const row = (what: string, paths: string[]) => {
    const bytes = paths.reduce((n, p) => n + (fetched.get(p) ?? 0), 0);
    const zipped = paths.reduce((n, p) => n + (gzip.get(fileOf(p)) ?? 0), 0);
    console.log(`| ${what} | ${kb(bytes)} | ${kb(zipped)} |`);
    return bytes;
  };
  console.log(
    "\nbytes fetched by a first visit (gzipped: what a compressing host such as Pages sends)\n",
  );
  console.log("| what | bytes | gzipped |");
  console.log("| ---- | ----: | ------: |");
  const code = row(
    "the page's code and wasm (index.html, style.css, main.js, worker.js, ladder_worker.js)",
    PAGE_CODE,
  );
  const wasm = Math.floor(FAST_KERNELS_WASM.length * 3 / 4);
  console.log(
    `| of which the wasm kernels (${kb(wasm)}, base64 in worker.js) | ${
      kb(FAST_KERNELS_WASM.length)
    } | |`,
  );
  const plotly = row(`plotly.js (${built.plotly})`, ["/plotly.js"]);
  const names = row("names.txt (32,033 names)", ["/names.txt"]);
  const all = [...fetched.values()].reduce((a, b) => a + b, 0);
  console.log(`| total | ${kb(all)} | |`);
  console.log(
    `\nthe page's code and wasm: ${kb(code)} (target: under 300 KB); plotly.js adds ` +
      `${kb(plotly)}, ${(plotly / code).toFixed(0)}x the page; the data ${kb(names)}`,
  );
  const other = [...fetched.keys()].filter((p) =>
    ![...PAGE_CODE, "/plotly.js", "/names.txt"].includes(p)
  );
  if (other.length > 0) console.log(`also fetched: ${other.join(", ")}`);
}

if (import.meta.main) {
  const at = Deno.args.indexOf("--runs");
  const runs = at === -1 ? 3 : Number(Deno.args[at + 1]);
  if (!Number.isInteger(runs) || runs < 1) {
    console.error("error: Cannot run the web benchmark: --runs must be a whole number from 1");
    Deno.exit(2);
  }
  await main(runs);
}
