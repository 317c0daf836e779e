// Plotly figures for the notebook: small typed builders (line, bar, heatmap, scatter, a
// computation graph) and the 2-D projection the embedding picture uses. Plain data, no I/O:
// lib/notebook/png.ts renders a figure to a picture and lib/notebook/plot.ts shows it.

import type { Value } from "../value.ts";

/** A plotly trace: the fields these builders use. */
export interface Trace {
  /** The kind of chart. */
  type: "scatter" | "bar" | "heatmap";
  /** The legend entry. */
  name?: string;
  /** x values (null breaks a line). */
  x?: (number | string | null)[];
  /** y values (null breaks a line). */
  y?: (number | string | null)[];
  /** A heatmap's values, [rows][cols]. */
  z?: number[][];
  /** A label per point. */
  text?: string[];
  /** How a scatter trace draws its points. */
  mode?: "lines" | "markers" | "text" | "markers+text" | "lines+markers";
  /** Where labels sit relative to their points, e.g. "top center". */
  textposition?: string;
  /** Line style. */
  line?: { width?: number; color?: string };
  /** Marker (or bar) style; one colour per point, or one for all. */
  marker?: { color?: string | string[]; size?: number };
  /** Opacity of the whole trace, 0 to 1. */
  opacity?: number;
  /** A heatmap's colour scale by name, e.g. "Blues". */
  colorscale?: string;
  /** Reverses the colour scale. */
  reversescale?: boolean;
  /** The value the colour scale starts at. */
  zmin?: number;
  /** The value the colour scale ends at. */
  zmax?: number;
  /** Shows the colour bar. */
  showscale?: boolean;
  /** The x axis this trace is drawn on ("x", "x2", ...). */
  xaxis?: string;
  /** The y axis this trace is drawn on ("y", "y2", ...). */
  yaxis?: string;
}

/** A plotly figure (data and layout), as plotly.js and Jupyter renderers take it. */
export interface Figure {
  /** The traces, drawn in order. */
  data: Trace[];
  /** Plotly's layout; width and height in pixels are also the PNG's size. */
  layout: Record<string, unknown> & { width: number; height: number };
}

/** Titles and size shared by the builders. */
export interface FigureOptions {
  /** The title above the plot. */
  title?: string;
  /** The x axis title. */
  xTitle?: string;
  /** The y axis title. */
  yTitle?: string;
  /** Width in pixels. */
  width?: number;
  /** Height in pixels. */
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
 * import { lineChart } from "@microgpt-ts/microgpt/notebook";
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
