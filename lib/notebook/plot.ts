// Shows things in the notebook: a figure's MIME bundle (plotly JSON, a PNG for GitHub, text),
// text, and live-updating text, each as a display awaited before the cell ends. The only file
// that talks to `Deno.jupyter`, and only when it exists.
// Inside a kernel one PNG renderer stays open for every plot; elsewhere each plot starts its own.

import type { Figure } from "./figures.ts";
import { missingForPng, PngRenderer, renderPng } from "./png.ts";

function bytesToBase64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}

// The kernel's renderer, started by its first plot. Chromium exits with the kernel.
let kernelRenderer: Promise<PngRenderer> | undefined;

async function pngOf(figure: Figure): Promise<Uint8Array | null> {
  if (!jupyter()) return await renderPng(figure);
  if (missingForPng() !== null) return null;
  let renderer = await (kernelRenderer ??= PngRenderer.launch()).catch((err) => {
    kernelRenderer = undefined;
    throw err;
  });
  if (!renderer.connected) {
    kernelRenderer = PngRenderer.launch();
    renderer = await kernelRenderer;
  }
  return await renderer.render(figure);
}

let warnedNoPng = false;
let liveDisplays = 0;

/**
 * The MIME bundle of a figure: plotly JSON (interactive where a plotly renderer is installed),
 * a PNG of the same figure (what GitHub shows) and a text fallback. Never `text/html`:
 * renderers prefer it, and GitHub strips its scripts, which would leave a blank.
 *
 * @param figure The figure.
 * @returns The bundle; without Chromium, no PNG (a note says so once, on stderr).
 */
export async function mimeBundle(figure: Figure): Promise<Record<string, unknown>> {
  const title = (figure.layout.title as { text?: string } | undefined)?.text ?? "figure";
  const bundle: Record<string, unknown> = {
    "application/vnd.plotly.v1+json": { data: figure.data, layout: figure.layout },
    "text/plain": `<plot: ${title}>`,
  };
  const png = await pngOf(figure);
  if (png) bundle["image/png"] = bytesToBase64(png);
  else if (!warnedNoPng) {
    warnedNoPng = true;
    console.warn(
      `note: plots carry no PNG (GitHub will not show them): install ${missingForPng()}`,
    );
  }
  return bundle;
}

interface Jupyter {
  display(
    obj: unknown,
    options?: { raw?: boolean; update?: boolean; display_id?: string },
  ): Promise<void>;
}

// Deno.jupyter, inside a kernel; elsewhere Deno's getter throws.
function jupyter(): Jupyter | undefined {
  try {
    return (Deno as unknown as { jupyter?: Jupyter }).jupyter;
  } catch {
    return undefined;
  }
}

/**
 * Shows a figure in the notebook; outside Jupyter, prints its text fallback.
 *
 * @param figure The figure.
 */
export async function show(figure: Figure): Promise<void> {
  await showBundle(await mimeBundle(figure));
}

/**
 * Shows a MIME bundle in the notebook as a display of its own; outside Jupyter, prints its
 * `text/plain`. The display is sent before the cell finishes. What a cell prints with
 * `console.log`, or leaves as its value, Deno's kernel can send after it has reported the cell
 * done: a front end then drops it, or, under Run All, shows it under the next cell.
 *
 * @param bundle MIME type to content, with a `text/plain` fallback.
 */
export async function showBundle(bundle: Record<string, unknown>): Promise<void> {
  const kernel = jupyter();
  if (kernel) await kernel.display(bundle, { raw: true });
  else console.log(bundle["text/plain"]);
}

/**
 * Shows text in the notebook as a display of its own (see {@linkcode showBundle}); outside
 * Jupyter, prints it.
 *
 * @param text The text.
 */
export async function showText(text: string): Promise<void> {
  await showBundle({ "text/plain": text });
}

/**
 * A text line that updates in place in the notebook (training progress): the kernel does not
 * capture `\r`, so each update replaces the display instead. Outside Jupyter, prints lines.
 *
 * @param name A name for the display; each call makes a display of its own, so re-running a
 *   cell starts a fresh line instead of updating the cleared one of the previous run.
 * @returns A function that sets the text.
 */
export function liveText(name: string): (text: string) => Promise<void> {
  const id = `${name}-${++liveDisplays}`;
  let shown = false;
  return async (text) => {
    const kernel = jupyter();
    if (!kernel) {
      console.log(text);
      return;
    }
    await kernel.display({ "text/plain": text }, { raw: true, display_id: id, update: shown });
    shown = true;
  };
}
