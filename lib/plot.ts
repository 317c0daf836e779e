// Plots for the notebook: small typed builders of plotly figures, a PNG renderer (plotly.js in
// headless Chromium, so GitHub, which runs no scripts, still shows a picture) and the display
// helpers. This is the only file that talks to `Deno.jupyter`, and only when it exists.

import { join } from "node:path";
import type { Value } from "./value.ts";

/** A plotly trace: the fields these builders use. */
export interface Trace {
  type: "scatter" | "bar" | "heatmap";
  name?: string;
  x?: (number | string | null)[];
  y?: (number | string | null)[];
  z?: number[][];
  text?: string[];
  mode?: "lines" | "markers" | "text" | "markers+text" | "lines+markers";
  textposition?: string;
  line?: { width?: number; color?: string };
  marker?: { color?: string | string[]; size?: number };
  opacity?: number;
  colorscale?: string;
  reversescale?: boolean;
  zmin?: number;
  zmax?: number;
  showscale?: boolean;
  xaxis?: string;
  yaxis?: string;
}

/** A plotly figure (data and layout), as plotly.js and Jupyter renderers take it. */
export interface Figure {
  data: Trace[];
  layout: Record<string, unknown> & { width: number; height: number };
}

/** Titles and size shared by the builders. */
export interface FigureOptions {
  title?: string;
  xTitle?: string;
  yTitle?: string;
  width?: number;
  height?: number;
}

function layout(options: FigureOptions, extra: Record<string, unknown> = {}): Figure["layout"] {
  const { title, xTitle, yTitle, width = 720, height = 400 } = options;
  return {
    width,
    height,
    template: "plotly_white",
    margin: { l: 60, r: 20, t: title ? 50 : 20, b: 50 },
    ...(title ? { title: { text: title } } : {}),
    xaxis: { title: { text: xTitle ?? "" } },
    yaxis: { title: { text: yTitle ?? "" } },
    font: { family: "DejaVu Sans, Arial, sans-serif", size: 13 },
    ...extra,
  };
}

/**
 * A line chart of one or more series.
 *
 * @param series Each series' name and y values (x defaults to 1, 2, ...).
 * @param options Titles and size.
 * @returns The figure.
 *
 * @example
 * ```ts
 * import { lineChart } from "@lib/plot.ts";
 * import assert from "node:assert/strict";
 *
 * const fig = lineChart([{ name: "loss", y: [3.3, 2.9, 2.5] }], { title: "Loss" });
 * assert.deepEqual(fig.data[0]!.x, [1, 2, 3]);
 * assert.equal(fig.layout.width, 720);
 * ```
 */
export function lineChart(
  series: { name: string; y: number[]; x?: number[]; width?: number; opacity?: number }[],
  options: FigureOptions = {},
): Figure {
  return {
    data: series.map((s) => ({
      type: "scatter",
      mode: "lines",
      name: s.name,
      x: s.x ?? s.y.map((_, i) => i + 1),
      y: s.y,
      line: { width: s.width ?? 2 },
      ...(s.opacity !== undefined ? { opacity: s.opacity } : {}),
    })),
    layout: layout(options, {
      legend: { x: 0.99, xanchor: "right", y: 0.99, bgcolor: "rgba(255,255,255,0.8)" },
    }),
  };
}

/**
 * A bar chart, one bar per label.
 *
 * @param labels The bars' labels.
 * @param values The bars' heights.
 * @param options Titles and size.
 * @returns The figure.
 */
export function barChart(
  labels: string[],
  values: number[],
  options: FigureOptions = {},
): Figure {
  return {
    data: [{ type: "bar", x: labels, y: values, marker: { color: "#4c78a8" } }],
    layout: layout(options, { xaxis: { title: { text: options.xTitle ?? "" }, type: "category" } }),
  };
}

/**
 * Heatmaps side by side, for example one attention map per head.
 *
 * @param maps Each map's title and values, [rows][cols].
 * @param options Axis labels (shared by all maps), titles and size.
 * @returns The figure.
 */
export function heatmaps(
  maps: { title: string; z: number[][] }[],
  options: FigureOptions & { x?: string[]; y?: string[] } = {},
): Figure {
  const n = maps.length;
  const gap = 0.04;
  const w = (1 - gap * (n - 1)) / n;
  const extra: Record<string, unknown> = { annotations: [] as unknown[] };
  const data: Trace[] = maps.map((m, i) => {
    const suffix = i === 0 ? "" : String(i + 1);
    extra[`xaxis${suffix}`] = {
      domain: [i * (w + gap), i * (w + gap) + w],
      type: "category",
      tickfont: { size: 11 },
      title: { text: options.xTitle ?? "" },
    };
    extra[`yaxis${suffix}`] = {
      type: "category",
      autorange: "reversed",
      tickfont: { size: 11 },
      anchor: `x${suffix}`,
      ...(i === 0 ? { title: { text: options.yTitle ?? "" } } : { showticklabels: false }),
    };
    (extra.annotations as unknown[]).push({
      text: m.title,
      x: i * (w + gap) + w / 2,
      y: 1.02,
      xref: "paper",
      yref: "paper",
      xanchor: "center",
      yanchor: "bottom",
      showarrow: false,
    });
    return {
      type: "heatmap",
      z: m.z,
      x: options.x,
      y: options.y,
      colorscale: "Blues",
      reversescale: true,
      zmin: 0,
      zmax: 1,
      showscale: i === n - 1,
      xaxis: `x${suffix}`,
      yaxis: `y${suffix}`,
    };
  });
  return {
    data,
    layout: layout({ height: 320, ...options }, {
      ...extra,
      margin: { l: 60, r: 20, t: 80, b: 50 },
    }),
  };
}

/**
 * A labelled scatter plot, for example token embeddings projected to 2-D.
 *
 * @param points Each point's label and coordinates.
 * @param options Titles and size.
 * @returns The figure.
 */
export function labelledScatter(
  points: { label: string; x: number; y: number; color?: string }[],
  options: FigureOptions = {},
): Figure {
  return {
    data: [{
      type: "scatter",
      mode: "markers+text",
      x: points.map((p) => p.x),
      y: points.map((p) => p.y),
      text: points.map((p) => p.label),
      textposition: "top center",
      marker: { size: 9, color: points.map((p) => p.color ?? "#4c78a8") },
    }],
    layout: layout({ width: 560, height: 480, ...options }),
  };
}

const CHROMIUM_CANDIDATES = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
];
const PLOTLY_JS = join(import.meta.dirname!, "..", "node_modules", "plotly.js-dist", "plotly.js");

/**
 * Flags for headless Chromium on a machine without network or sandbox privileges: no
 * background connections, a fresh profile.
 *
 * @param profile An empty folder for the browser profile.
 * @returns The flags.
 */
export function chromiumFlags(profile: string): string[] {
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
    `--user-data-dir=${profile}`,
  ];
}

/**
 * What is missing to render PNGs, as an instruction, or null when nothing is.
 *
 * @returns For example "Chromium (apt-get install chromium)".
 */
export function missingForPng(): string | null {
  if (!findChromium()) return "Chromium (apt-get install chromium)";
  try {
    Deno.statSync(PLOTLY_JS);
  } catch {
    return "plotly.js (run deno install, which puts it in node_modules/)";
  }
  return null;
}

/** The Chromium executable to render with, or null when there is none. */
export function findChromium(): string | null {
  const fromEnv = Deno.env.get("CHROMIUM");
  for (const path of fromEnv ? [fromEnv] : CHROMIUM_CANDIDATES) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not here
    }
  }
  return null;
}

function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/**
 * Renders a figure to PNG with plotly.js in headless Chromium (`Plotly.toImage`), so the
 * picture is the same figure a plotly renderer draws.
 *
 * @param figure The figure.
 * @returns The PNG bytes, or null when Chromium or plotly.js is not installed.
 */
export async function renderPng(figure: Figure): Promise<Uint8Array | null> {
  const chromium = findChromium();
  if (!chromium || missingForPng() !== null) return null;
  const dir = await Deno.makeTempDir({ prefix: "microgpt-plot-" });
  try {
    const page = join(dir, "figure.html");
    const { width, height } = figure.layout;
    // The page writes the PNG's data URL into the DOM; --dump-dom prints the DOM once the
    // (virtual) clock has let the render finish.
    await Deno.writeTextFile(
      page,
      `<!doctype html><meta charset="utf-8"><script src="${
        new URL(`file://${PLOTLY_JS}`).href
      }"></script>
<pre id="out"></pre><script>
Plotly.toImage(${JSON.stringify(figure)}, { format: "png", width: ${width}, height: ${height} })
  .then((url) => { document.getElementById("out").textContent = "PNG:" + url; })
  .catch((err) => { document.getElementById("out").textContent = "ERR:" + err; });
</script>`,
    );
    const { stdout, success } = await new Deno.Command(chromium, {
      args: [
        ...chromiumFlags(join(dir, "profile")),
        "--allow-file-access-from-files",
        "--virtual-time-budget=20000",
        "--dump-dom",
        `file://${page}`,
      ],
      stdout: "piped",
      stderr: "null",
    }).output();
    const dom = new TextDecoder().decode(stdout);
    const match = dom.match(/PNG:data:image\/png;base64,([A-Za-z0-9+/=]+)/);
    if (!success || !match) {
      const why = dom.match(/ERR:([^<]*)/)?.[1] ?? "no image in Chromium's output";
      throw new Error(`Cannot render plot to PNG: ${why}`);
    }
    return base64ToBytes(match[1]!);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

function bytesToBase64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}

let warnedNoPng = false;

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
  const png = await renderPng(figure);
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

function jupyter(): Jupyter | undefined {
  return (Deno as unknown as { jupyter?: Jupyter }).jupyter;
}

/**
 * Shows a figure in the notebook; outside Jupyter, prints its text fallback.
 *
 * @param figure The figure.
 */
export async function show(figure: Figure): Promise<void> {
  const bundle = await mimeBundle(figure);
  const kernel = jupyter();
  if (kernel) await kernel.display(bundle, { raw: true });
  else console.log(bundle["text/plain"]);
}

/**
 * A text line that updates in place in the notebook (training progress): the kernel does not
 * capture `\r`, so each update replaces the display instead. Outside Jupyter, prints lines.
 *
 * @param id A display id unique within the notebook.
 * @returns A function that sets the text.
 */
export function liveText(id: string): (text: string) => Promise<void> {
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

/**
 * A picture of a small computation graph: inputs on the left, the output on the right, each
 * node labelled with its value and gradient.
 *
 * @param root The output node.
 * @param labels Names for the nodes to label (others show only their numbers).
 * @param options Titles and size.
 * @returns The figure.
 */
export function graphFigure(
  root: Value,
  labels: Map<Value, string>,
  options: FigureOptions = {},
): Figure {
  // Depth = longest distance from the root; a node is drawn at x = -depth.
  const depth = new Map<Value, number>([[root, 0]]);
  const order: Value[] = [root];
  for (let i = 0; i < order.length; i++) {
    const v = order[i]!;
    for (const c of v.children) {
      const d = depth.get(v)! + 1;
      if (!depth.has(c)) order.push(c);
      depth.set(c, Math.max(depth.get(c) ?? 0, d));
    }
  }
  const maxDepth = Math.max(...depth.values());
  const rows = new Map<number, Value[]>();
  for (const v of order) {
    const d = depth.get(v)!;
    rows.set(d, [...(rows.get(d) ?? []), v]);
  }
  const pos = new Map<Value, [number, number]>();
  for (const [d, vs] of rows) {
    vs.forEach((v, i) => pos.set(v, [maxDepth - d, (vs.length - 1) / 2 - i]));
  }
  const ex: (number | null)[] = [];
  const ey: (number | null)[] = [];
  for (const v of order) {
    for (const c of v.children) {
      const [x0, y0] = pos.get(c)!;
      const [x1, y1] = pos.get(v)!;
      ex.push(x0, x1, null);
      ey.push(y0, y1, null);
    }
  }
  const fmt = (x: number) => Number(x.toPrecision(4)).toString();
  const nodes = [...pos.entries()];
  return {
    data: [
      {
        type: "scatter",
        mode: "lines",
        x: ex as number[],
        y: ey as number[],
        line: { width: 1.5, color: "#999" },
      },
      {
        type: "scatter",
        mode: "markers+text",
        x: nodes.map(([, [x]]) => x),
        y: nodes.map(([, [, y]]) => y),
        text: nodes.map(([v]) =>
          `${labels.get(v) ?? ""}${labels.has(v) ? ": " : ""}data ${fmt(v.data)}<br>grad ${
            fmt(v.grad)
          }`
        ),
        textposition: "top center",
        marker: { size: 14, color: nodes.map(([v]) => (labels.has(v) ? "#f58518" : "#4c78a8")) },
      },
    ],
    layout: layout({ width: 760, height: 360, ...options }, {
      showlegend: false,
      xaxis: { visible: false, range: [-0.5, maxDepth + 0.5] },
      yaxis: { visible: false, range: [-1.8, 1.8] },
    }),
  };
}

/**
 * Projects vectors onto their first two principal components (by power iteration on the
 * covariance, with deflation), for a 2-D picture of embeddings.
 *
 * @param rows The vectors, [n][d].
 * @returns Their coordinates, [n][2].
 */
export function pca2(rows: number[][]): [number, number][] {
  const n = rows.length;
  const d = rows[0]?.length ?? 0;
  const mean = Array.from({ length: d }, (_, j) => rows.reduce((s, r) => s + r[j]!, 0) / n);
  const centered = rows.map((r) => r.map((x, j) => x - mean[j]!));
  const cov = Array.from(
    { length: d },
    (_, a) =>
      Array.from({ length: d }, (_, b) => centered.reduce((s, r) => s + r[a]! * r[b]!, 0) / n),
  );
  const components: number[][] = [];
  for (let k = 0; k < 2; k++) {
    let v = Array.from({ length: d }, (_, j) => 1 / Math.sqrt(d) + j * 1e-3);
    for (let it = 0; it < 500; it++) {
      const w = cov.map((row) => row.reduce((s, c, j) => s + c * v[j]!, 0));
      const norm = Math.hypot(...w) || 1;
      v = w.map((x) => x / norm);
    }
    // Fix the sign so the picture does not flip between runs of different engines.
    const lead = v.reduce((best, x) => (Math.abs(x) > Math.abs(best) ? x : best), 0);
    if (lead < 0) v = v.map((x) => -x);
    const lambda = v.reduce((s, x, a) => s + x * cov[a]!.reduce((t, c, b) => t + c * v[b]!, 0), 0);
    for (let a = 0; a < d; a++) {
      for (let b = 0; b < d; b++) cov[a]![b]! -= lambda * v[a]! * v[b]!;
    }
    components.push(v);
  }
  return centered.map((r) =>
    [0, 1].map((k) => r.reduce((s, x, j) => s + x * components[k]![j]!, 0)) as [number, number]
  );
}
