// Renders plotly figures to PNG: plotly.js draws the figure in headless Chromium
// (`Plotly.toImage`), so the picture GitHub shows (it runs no scripts) is the figure a plotly
// renderer draws. Starting Chromium and loading plotly.js take about 3 s; a renderer kept open
// draws each further figure in tens of milliseconds, which is what the notebook's kernel does.

import { join } from "../io/paths.ts";
// deno-lint-ignore no-import-prefix -- a by-path import from elsewhere has no import map
import type { Browser, Page } from "npm:puppeteer-core@24.43.1";
import type { Figure } from "./figures.ts";

const CHROMIUM_CANDIDATES = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
];
const PROFILE_PREFIX = "microgpt-chromium-";

/**
 * Flags for headless Chromium on a machine without network or sandbox privileges: no
 * background connections, no first-run work.
 *
 * @param profile An empty folder for the browser profile, when the caller manages one.
 * @returns The flags.
 *
 * @example
 * ```ts
 * import { chromiumFlags } from "@microgpt-ts/microgpt/notebook";
 * import assert from "node:assert/strict";
 *
 * assert.ok(chromiumFlags("/tmp/p").includes("--user-data-dir=/tmp/p"));
 * ```
 */
export function chromiumFlags(profile?: string): string[] {
  return [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    ...(profile === undefined ? [] : [`--user-data-dir=${profile}`]),
  ];
}

/**
 * The Chromium executable to render with: `$CHROMIUM` when set, else the usual install paths.
 *
 * @returns Its path, or null when there is none.
 */
export function findChromium(): string | null {
  const fromEnv = Deno.env.get("CHROMIUM");
  return firstFile(fromEnv ? [fromEnv] : CHROMIUM_CANDIDATES);
}

// plotly.js's browser bundle: in this project's node_modules (or, imported from elsewhere, in
// the importing project's).
function findPlotly(): string | null {
  const roots = import.meta.dirname
    ? [join(import.meta.dirname, "..", ".."), Deno.cwd()]
    : [Deno.cwd()];
  return firstFile(roots.map((root) => join(root, "node_modules", "plotly.js-dist", "plotly.js")));
}

// The first of the paths that is a file, or null.
function firstFile(paths: string[]): string | null {
  for (const path of paths) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * What is missing to render PNGs, as an instruction, or null when nothing is.
 *
 * @returns For example "Chromium (apt-get install chromium)".
 */
export function missingForPng(): string | null {
  if (!findChromium()) return "Chromium (apt-get install chromium)";
  if (!findPlotly()) return "plotly.js (run deno install, which puts it in node_modules/)";
  return null;
}

// Whether a process is running: /proc when readable (Deno asks for --allow-all there), else
// `kill -0`; when neither can tell, it counts as running, so its files are kept.
function processExists(pid: string): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
  }
  try {
    const probe = new Deno.Command("kill", { args: ["-0", pid], stdout: "null", stderr: "null" });
    return probe.outputSync().success;
  } catch {
    return true;
  }
}

// The profile folders of renderers whose process has exited without closing (a kernel that
// was shut down): removed by the next renderer.
async function removeStaleProfiles(tmp: string): Promise<void> {
  for await (const entry of Deno.readDir(tmp)) {
    const pid = entry.name.startsWith(PROFILE_PREFIX) ? entry.name.split("-")[2] : undefined;
    if (!pid || pid === String(Deno.pid) || processExists(pid)) continue;
    await Deno.remove(join(tmp, entry.name), { recursive: true }).catch(() => {});
  }
}

/**
 * One headless Chromium with plotly.js loaded, drawing figures to PNG until closed. Chromium
 * is driven over a pipe, so it exits with the process that started it, however that ends.
 *
 * @example
 * ```ts ignore
 * import { PngRenderer } from "@microgpt-ts/microgpt/notebook";
 * import { lineChart } from "@microgpt-ts/microgpt/notebook";
 *
 * const renderer = await PngRenderer.launch();
 * try {
 *   const png = await renderer.render(lineChart([{ name: "loss", y: [3, 2, 1] }]));
 *   console.log(png.length);
 * } finally {
 *   await renderer.close();
 * }
 * ```
 */
export class PngRenderer {
  #browser: Browser;
  #page: Page;
  #profile: string;

  private constructor(browser: Browser, page: Page, profile: string) {
    this.#browser = browser;
    this.#page = page;
    this.#profile = profile;
  }

  /**
   * Starts Chromium and loads plotly.js into a blank page.
   *
   * @param options `tempDir`, where the browser profile goes (default: `$TMPDIR` or /tmp).
   * @returns The renderer; close it when done.
   * @throws {Error} When Chromium or plotly.js is missing (see {@link missingForPng}).
   */
  static async launch(options: { tempDir?: string } = {}): Promise<PngRenderer> {
    const chromium = findChromium();
    const plotly = findPlotly();
    if (!chromium || !plotly) {
      throw new Error(`Cannot render plots to PNG: install ${missingForPng()}`);
    }
    const tmp = await Deno.realPath(options.tempDir ?? Deno.env.get("TMPDIR") ?? "/tmp");
    await removeStaleProfiles(tmp);
    const profile = await Deno.makeTempDir({ dir: tmp, prefix: `${PROFILE_PREFIX}${Deno.pid}-` });
    try {
      // Imported here, when a renderer starts: importing this file stays cheap.
      // deno-lint-ignore no-import-prefix
      const { default: puppeteer } = await import("npm:puppeteer-core@24.43.1");
      const browser = await puppeteer.launch({
        executablePath: chromium,
        pipe: true,
        headless: true,
        userDataDir: profile,
        args: chromiumFlags(),
      });
      try {
        const page = await browser.newPage();
        await page.addScriptTag({ path: plotly });
        return new PngRenderer(browser, page, profile);
      } catch (err) {
        await browser.close();
        throw err;
      }
    } catch (err) {
      await Deno.remove(profile, { recursive: true }).catch(() => {});
      throw err;
    }
  }

  /** Whether Chromium is still there to draw (false after close() or a crash). */
  get connected(): boolean {
    return this.#browser.connected;
  }

  /**
   * Draws a figure.
   *
   * @param figure The figure; its layout's width and height are the picture's size.
   * @returns The PNG bytes.
   */
  async render(figure: Figure): Promise<Uint8Array> {
    const { width, height } = figure.layout;
    const url = await this.#page.evaluate(
      (fig: Figure, w: number, h: number) =>
        (globalThis as unknown as {
          Plotly: { toImage(f: Figure, o: Record<string, unknown>): Promise<string> };
        }).Plotly.toImage(fig, { format: "png", width: w, height: h }),
      figure,
      width,
      height,
    );
    const match = url.match(/^data:image\/png;base64,([A-Za-z0-9+/=]+)$/);
    if (!match) {
      throw new Error(`Cannot render plot to PNG: plotly.js returned ${url.slice(0, 40)}`);
    }
    return Uint8Array.from(atob(match[1]!), (ch) => ch.charCodeAt(0));
  }

  /** Closes Chromium and removes its profile. */
  async close(): Promise<void> {
    try {
      await this.#browser.close();
    } finally {
      await Deno.remove(this.#profile, { recursive: true }).catch(() => {});
    }
  }
}

/**
 * Renders one figure to PNG in a Chromium started for it and closed after.
 *
 * @param figure The figure.
 * @returns The PNG bytes, or null when Chromium or plotly.js is not installed.
 */
export async function renderPng(figure: Figure): Promise<Uint8Array | null> {
  if (missingForPng() !== null) return null;
  const renderer = await PngRenderer.launch();
  try {
    return await renderer.render(figure);
  } finally {
    await renderer.close();
  }
}
