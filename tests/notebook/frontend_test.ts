// The notebook in a real Jupyter front end, used the way a person uses it: Debian's Jupyter
// Notebook (the classic 6.x UI) serves a copy of the notebook with Deno's kernel, headless
// Chromium (driven by puppeteer-core) opens it, picks Kernel > Restart & Run All, confirms, and
// waits for the last cell. Then, in the page: no error or stderr output, as many outputs as the
// committed notebook has, the reference's 20 names, every plot an image that decoded, the
// training progress at step 1000 / 1000.
// Screenshots of the top of the notebook and of one plot go to a temp folder (paths printed).

import assert from "node:assert/strict";
import { join } from "node:path";
import puppeteer from "puppeteer-core";
import { chromiumFlags, findChromium } from "@lib/notebook/png.ts";
import { fixture } from "../_names.ts";
import { decodePng, inkStats } from "./_png.ts";
import { missingOrFail, NOTEBOOK, type Notebook, ROOT } from "./_notebook.ts";

const missing = missingOrFail("the front-end test", { frontEnd: true });
const RUN_ALL_TIMEOUT_MS = 10 * 60_000;

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function waitForServer(url: string, server: Deno.ChildProcess): Promise<void> {
  let exited = false;
  server.status.then(() => (exited = true));
  for (let i = 0; i < 300; i++) {
    if (exited) throw new Error("jupyter-notebook exited before serving");
    try {
      const response = await fetch(url);
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`jupyter-notebook did not answer at ${url}`);
}

// The page's globals as these tests use them (functions passed to page.evaluate run in the
// page, so they reach them through globalThis).
interface El {
  textContent: string | null;
  naturalWidth: number;
  complete: boolean;
  querySelector(selector: string): El | null;
  querySelectorAll(selector: string): Iterable<El>;
}
interface JupyterCell {
  cell_type: string;
  input_prompt_number: number | string | null | undefined;
  get_text(): string;
  element: El[];
  output_area?: { outputs: unknown[] };
}
interface Page {
  document: El;
  Jupyter?: {
    notebook?: {
      kernel?: { is_connected?(): boolean };
      get_cells(): JupyterCell[];
      select(index: number): void;
      scroll_to_top(): void;
    };
  };
}

// What the page shows once every cell has run.
interface PageReport {
  errors: string[];
  stderr: string[];
  images: { width: number; complete: boolean }[];
  samples: string;
  progress: string;
  /** Per code cell, its first line and how many outputs it shows. */
  outputCounts: [string, number][];
}

Deno.test({
  name:
    "notebook in Jupyter Notebook: Restart & Run All shows every output, the 20 names and every plot",
  ignore: missing !== null,
  // The server, the kernel and the browser are stopped in `finally`; puppeteer's pipe and the
  // server's child process are what the sanitizers would flag while they wind down.
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const work = await Deno.makeTempDir({ prefix: "microgpt-frontend-" });
    const shots = await Deno.makeTempDir({ prefix: "microgpt-screenshots-" });
    // The copy sits beside the original so the kernel finds deno.json's import map; the
    // front end may autosave it, never the committed notebook.
    const name = `frontend-test-${Deno.pid}.ipynb`;
    const copy = join(ROOT, "notebooks", name);
    await Deno.copyFile(NOTEBOOK, copy);
    const token = crypto.randomUUID();
    const port = freePort();
    const server = new Deno.Command("jupyter-notebook", {
      args: [
        "--no-browser",
        "--ip=127.0.0.1",
        `--port=${port}`,
        "--port-retries=0",
        `--NotebookApp.token=${token}`,
        `--notebook-dir=${join(ROOT, "notebooks")}`,
        "--allow-root", // CI runs as root; harmless otherwise
      ],
      env: {
        NO_COLOR: "1",
        JUPYTER_CONFIG_DIR: join(work, "config"),
        JUPYTER_RUNTIME_DIR: join(work, "runtime"),
      },
      stdout: "null",
      stderr: "null",
    }).spawn();
    const browser = await puppeteer.launch({
      executablePath: findChromium()!,
      pipe: true,
      headless: true,
      userDataDir: join(work, "profile"),
      args: chromiumFlags(),
      // A busy page (a long training cell, a busy machine) may hold a poll for minutes.
      protocolTimeout: RUN_ALL_TIMEOUT_MS,
    });
    try {
      await waitForServer(`http://127.0.0.1:${port}/api/status?token=${token}`, server);
      const page = await browser.newPage();
      await page.setViewport({ width: 1200, height: 900 });
      await page.goto(`http://127.0.0.1:${port}/notebooks/${name}?token=${token}`, {
        waitUntil: "load",
      });
      await page.waitForFunction(
        () => (globalThis as unknown as Page).Jupyter?.notebook?.kernel?.is_connected?.() === true,
        { timeout: 120_000 },
      );

      // Kernel > Restart & Run All, then confirm, as a person does.
      await page.click("#kernellink");
      await page.click("#restart_run_all > a");
      const confirm = await page.waitForSelector(".modal-dialog .modal-footer .btn-danger", {
        visible: true,
      });
      assert.match(await confirm!.evaluate((b) => b.textContent ?? ""), /Restart and Run All/);
      await confirm!.click();

      // The run has started when a cell waits ("In [*]"); it is over when every code cell
      // has a number again and the kernel is idle.
      await page.waitForFunction(
        () =>
          (globalThis as unknown as Page).Jupyter!.notebook!.get_cells().some((c) =>
            c.cell_type === "code" && c.input_prompt_number === "*"
          ),
        { timeout: 60_000 },
      );
      await page.waitForFunction(
        () => {
          const { document, Jupyter } = globalThis as unknown as Page;
          const idle = document.querySelector("#kernel_indicator_icon.kernel_idle_icon");
          return idle !== null &&
            Jupyter!.notebook!.get_cells().every((c) =>
              c.cell_type !== "code" || typeof c.input_prompt_number === "number"
            );
        },
        { timeout: RUN_ALL_TIMEOUT_MS, polling: 500 },
      );
      // Deno's kernel can report idle a moment before its last outputs: let them land.
      await new Promise((resolve) => setTimeout(resolve, 1000));

      const report: PageReport = await page.evaluate(() => {
        const { document, Jupyter } = globalThis as unknown as Page;
        const cells = Jupyter!.notebook!.get_cells();
        const outputOf = (marker: string) => {
          const cell = cells.find((c) => c.get_text().includes(marker));
          return cell?.element[0]?.querySelector(".output")?.textContent ?? "";
        };
        return {
          errors: [...document.querySelectorAll(".output_error")].map((e) => e.textContent ?? ""),
          stderr: [...document.querySelectorAll(".output_stderr")].map((e) => e.textContent ?? ""),
          images: [...document.querySelectorAll(".output_png img")].map((img) => ({
            width: img.naturalWidth,
            complete: img.complete,
          })),
          samples: outputOf("20 new names at temperature 0.5"),
          progress: outputOf("Train for 1000 steps"),
          outputCounts: cells.filter((c) => c.cell_type === "code").map((
            c,
          ): [string, number] => [
            c.get_text().split("\n")[0]!,
            c.output_area?.outputs.length ?? -1,
          ]),
        };
      });

      assert.deepEqual(report.errors, [], "error outputs in the page");
      assert.deepEqual(report.stderr, [], "stderr outputs in the page");
      const committed: Notebook = JSON.parse(await Deno.readTextFile(NOTEBOOK));
      // Every output arrived: a front end drops what Deno's kernel sends after it reports a cell
      // done, so printed text that came late would be missing here. Counted over the notebook,
      // not per cell: under Run All the kernel sometimes publishes a cell's value after it has
      // read the next cell's request, and the value shows under that next cell (a displayed
      // output, sent from inside its cell, never moved in these runs).
      const expected = committed.cells.filter((c) => c.cell_type === "code")
        .map((c) => (c.outputs ?? []).length);
      const differing = report.outputCounts.flatMap(([cell, shown], i) =>
        shown === expected[i] ? [] : [`${cell}: ${shown} outputs, committed ${expected[i]}`]
      );
      assert.equal(report.outputCounts.length, expected.length, "code cells in the page");
      const total = (counts: number[]) => counts.reduce((a, b) => a + b, 0);
      assert.equal(
        total(report.outputCounts.map(([, shown]) => shown)),
        total(expected),
        `outputs in the page and in the committed notebook; cells that differ:\n${
          differing.join("\n")
        }`,
      );
      const plots = committed.cells.flatMap((c) =>
        c.outputs ?? []
      ).filter((o) => o.data?.["image/png"]).length;
      assert.ok(plots >= 8, `${plots} plots in the committed notebook`);
      assert.equal(report.images.length, plots, "every plot cell shows an image");
      for (const image of report.images) assert.ok(image.complete && image.width > 0);
      const golden = fixture<{ samples: string[] }>("microgpt_py_seed42.json").samples;
      const shown = [...report.samples.matchAll(/sample +\d+: (\S+)/g)].map((m) => m[1]);
      assert.deepEqual(shown, golden, `the sampling cell shows: ${report.samples}`);
      assert.match(report.progress, /step 1000 \/ 1000 \| loss \d\.\d{4}/);

      // Screenshots: the top of the notebook, and the first plot.
      await page.evaluate(() => {
        const notebook = (globalThis as unknown as Page).Jupyter!.notebook!;
        notebook.select(0);
        notebook.scroll_to_top();
      });
      const top = join(shots, "notebook-top.png");
      await page.screenshot({ path: top });
      const plot = join(shots, "first-plot.png");
      const firstImage = await page.$(".output_png img");
      await firstImage!.scrollIntoView();
      await firstImage!.screenshot({ path: plot });
      for (const shot of [top, plot]) {
        const { inkFraction } = inkStats(await decodePng(await Deno.readFile(shot)));
        assert.ok(inkFraction > 0.02, `blank screenshot ${shot} (${inkFraction})`);
      }
      console.log(`screenshots: ${top} ${plot}`);
    } finally {
      await browser.close().catch(() => {});
      // Shut the kernels down through the server, then the server itself.
      await fetch(`http://127.0.0.1:${port}/api/kernels?token=${token}`)
        .then((r) => r.json())
        .then((kernels: { id: string }[]) =>
          Promise.all(
            kernels.map((k) =>
              fetch(`http://127.0.0.1:${port}/api/kernels/${k.id}?token=${token}`, {
                method: "DELETE",
              }).then((r) => r.body?.cancel())
            ),
          )
        )
        .catch(() => {});
      try {
        server.kill("SIGTERM");
      } catch {
        // already gone
      }
      await server.status;
      await Deno.remove(copy).catch(() => {});
      await Deno.remove(
        join(ROOT, "notebooks", ".ipynb_checkpoints", name.replace(".ipynb", "-checkpoint.ipynb")),
      )
        .catch(() => {});
      await Deno.remove(join(ROOT, "notebooks", ".ipynb_checkpoints")).catch(() => {}); // if empty
      await Deno.remove(work, { recursive: true }).catch(() => {});
    }
  },
});
