/// <reference lib="dom" />
// The page's tables: a sample's generation trace (each position's likeliest next characters
// and the one drawn) and the attention heatmaps (one table per head, each cell's weight as its
// colour and, for screen readers, as text).

import { formatFixed } from "../lib/io/format.ts";
import type { AttentionMaps } from "./attention.ts";
import type { Trace } from "./protocol.ts";

type Candidate = Trace["steps"][number]["drawn"];

/**
 * Makes an element.
 *
 * @param tag The tag name.
 * @param props Properties to set (`className`, `textContent`, ...).
 * @param children Elements or text to append.
 * @returns The element.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> = {},
  children: (Node | string)[] = [],
): HTMLElementTagNameMap[K] {
  const element = Object.assign(document.createElement(tag), props);
  element.append(...children);
  return element;
}

const percent = (p: number) => `${formatFixed(100 * p, 1)}%`;

/**
 * The generation trace of a sample, as a table: at each drawn position, the text so far, the
 * likeliest next characters and the one drawn ("end" for BOS).
 *
 * @param trace The trace.
 * @param options The sample's `index` (1-based) and `temperature`.
 * @returns The table, in a horizontally scrolling box.
 */
export function traceTable(trace: Trace, options: { index: number; temperature: number }): Node {
  const shown = (c: Candidate) => c.char === "" ? "end" : c.char;
  const rows = trace.steps.map((step) => {
    const drawn = step.drawn;
    const inTop = step.candidates.some((c) => c.id === drawn.id);
    const top = step.candidates.map((c) =>
      h("span", {
        className: c.id === drawn.id ? "candidate drawn mono" : "candidate mono",
        textContent: `${shown(c)} ${percent(c.prob)}`,
      })
    );
    return h("tr", {}, [
      h("td", { textContent: String(step.position) }),
      h("td", { className: "mono", textContent: step.context || "(start)" }),
      h("td", {}, [h("span", { className: "candidates" }, top)]),
      h("td", {
        className: "mono",
        textContent: `${shown(drawn)}, ${percent(drawn.prob)}${inTop ? "" : " (not in the top)"}`,
      }),
    ]);
  });
  const table = h("table", { className: "trace" }, [
    h("caption", {
      textContent: `How sample ${options.index} (“${trace.text}”) was drawn, at temperature ` +
        `${options.temperature}`,
    }),
    h("thead", {}, [
      h("tr", {}, [
        h("th", { scope: "col", textContent: "position" }),
        h("th", { scope: "col", textContent: "so far" }),
        h("th", { scope: "col", textContent: "likeliest next" }),
        h("th", { scope: "col", textContent: "drawn" }),
      ]),
    ]),
    h("tbody", {}, rows),
  ]);
  return h("div", { className: "scroll" }, [table]);
}

/**
 * The attention heatmaps: one table per layer and head; row t is position t, column u how much
 * it attends to position u (u <= t).
 *
 * @param maps The tokens and weights.
 * @returns The tables.
 */
export function attentionTables(maps: AttentionMaps): Node {
  const label = (char: string | null) => char ?? "BOS";
  const heads: Node[] = [];
  maps.weights.forEach((layer, li) => {
    layer.forEach((head, hi) => {
      const header = h("tr", {}, [
        h("td", {}),
        ...maps.tokens.map((t) => h("th", { scope: "col", textContent: label(t) })),
      ]);
      const rows = head.map((weights, t) =>
        h("tr", {}, [
          h("th", { scope: "row", textContent: label(maps.tokens[t]!) }),
          ...maps.tokens.map((_, u) => {
            const w = weights[u];
            if (w === undefined) return h("td", { className: "future" });
            const cell = h("td", {
              title: `${label(maps.tokens[t]!)} → ${label(maps.tokens[u]!)}: ${percent(w)}`,
            }, [
              h("span", { className: "visually-hidden", textContent: percent(w) }),
            ]);
            cell.style.background = `rgba(11, 92, 173, ${w.toFixed(3)})`;
            return cell;
          }),
        ])
      );
      const table = h("table", { className: "heatmap" }, [
        h("caption", { textContent: `layer ${li + 1}, head ${hi + 1}` }),
        h("thead", {}, [header]),
        h("tbody", {}, rows),
      ]);
      heads.push(h("div", { className: "scroll" }, [table]));
    });
  });
  return h("div", { className: "heads" }, heads);
}
