/// <reference lib="dom" />
// The live loss chart (plotly.js, loaded by the page as its own script): the loss of every step,
// its running mean, the held-out loss at each evaluation, and the rungs of the loss ladder (what
// counting characters achieves on held-out names) as dashed lines. Redrawn at most a few times a
// second, from a few thousand points at most, so a long run does not slow the page.

import { formatFixed } from "../lib/io/format.ts";
import type { ModelInfo } from "./protocol.ts";

/** A reference loss drawn across the chart. */
export interface Baseline {
  /** Its legend entry. */
  name: string;
  /** The loss. */
  loss: number;
}

/** The part of plotly.js the page uses. */
export interface Plotly {
  react(
    element: HTMLElement,
    data: Record<string, unknown>[],
    layout: Record<string, unknown>,
    config: Record<string, unknown>,
  ): Promise<unknown>;
}

/** How many steps the running mean covers. */
export const MEAN_OF = 50;
/** The most points a line is drawn with; longer runs are averaged in buckets. */
const MAX_POINTS = 2000;
/** The least time between two redraws. */
const REDRAW_MS = 200;

/** The loss chart of one run. */
export class LossChart {
  #element: HTMLElement;
  #plotly: Promise<Plotly>;
  #losses: number[] = [];
  #means: number[] = [];
  #sum = 0;
  #evals: { step: number; loss: number }[] = [];
  #baselines: Baseline[] = [];
  #numSteps = 0;
  #pending = false;
  #lastDraw = 0;
  /** Resolves when the chart has drawn what it was given last (for tests and the benchmark). */
  drawn: Promise<void> = Promise.resolve();

  /**
   * Creates the chart.
   *
   * @param element Where it is drawn.
   * @param plotly plotly.js, once loaded.
   */
  constructor(element: HTMLElement, plotly: Promise<Plotly>) {
    this.#element = element;
    this.#plotly = plotly;
  }

  /**
   * Starts over, for a new model (the baselines stay: they are set for the run separately).
   *
   * @param info The model's schedule.
   */
  reset(info: ModelInfo): void {
    this.#losses = [];
    this.#means = [];
    this.#sum = 0;
    this.#evals = [];
    this.#numSteps = info.numSteps;
    this.#schedule();
  }

  /**
   * Sets the reference losses drawn across the chart.
   *
   * @param baselines Their names and losses (none to clear them).
   */
  setBaselines(baselines: Baseline[]): void {
    this.#baselines = baselines;
    this.#schedule();
  }

  /**
   * Adds the losses of steps `first`, `first + 1`, ...
   *
   * @param first The first step's number (1-based).
   * @param losses Their losses.
   */
  addLosses(first: number, losses: readonly number[]): void {
    if (first !== this.#losses.length + 1) return; // a stale message from a stopped run
    for (const loss of losses) {
      this.#losses.push(loss);
      this.#sum += loss;
      const n = this.#losses.length;
      if (n > MEAN_OF) this.#sum -= this.#losses[n - 1 - MEAN_OF]!;
      this.#means.push(this.#sum / Math.min(n, MEAN_OF));
    }
    this.#schedule();
  }

  /**
   * Adds a held-out loss.
   *
   * @param step After this many steps.
   * @param loss The loss.
   */
  addEval(step: number, loss: number): void {
    this.#evals.push({ step, loss });
    this.#schedule();
  }

  /** What the chart shows, in words (its accessible name). */
  get summary(): string {
    const n = this.#losses.length;
    if (n === 0) return "Loss chart: no steps yet";
    const parts = [
      `Loss chart: step ${n} of ${this.#numSteps}`,
      `mean of the last ${Math.min(n, MEAN_OF)} steps ${formatFixed(this.#means[n - 1]!, 4)}`,
    ];
    const lastEval = this.#evals.at(-1);
    if (lastEval) parts.push(`held-out loss ${formatFixed(lastEval.loss, 4)}`);
    for (const b of this.#baselines) parts.push(`${b.name} ${formatFixed(b.loss, 4)}`);
    return parts.join("; ");
  }

  #schedule(): void {
    if (this.#pending) return;
    this.#pending = true;
    const wait = Math.max(0, this.#lastDraw + REDRAW_MS - performance.now());
    this.drawn = new Promise((resolve) => {
      setTimeout(() => {
        requestAnimationFrame(() => {
          this.#pending = false;
          this.#lastDraw = performance.now();
          this.#draw().then(resolve, (err) => {
            console.error(err);
            resolve();
          });
        });
      }, wait);
    });
  }

  async #draw(): Promise<void> {
    const plotly = await this.#plotly;
    const steps = Math.max(this.#numSteps, 1);
    const raw = bucketed(this.#losses);
    const mean = bucketed(this.#means);
    const data: Record<string, unknown>[] = [
      {
        type: "scatter",
        mode: "lines",
        name: "loss of the step's name",
        x: raw.x,
        y: raw.y,
        line: { width: 1, color: "rgba(120, 130, 140, 0.55)" },
      },
      {
        type: "scatter",
        mode: "lines",
        name: `mean of the last ${MEAN_OF} steps`,
        x: mean.x,
        y: mean.y,
        line: { width: 2.5, color: "#0b5cad" },
      },
    ];
    if (this.#evals.length > 0) {
      data.push({
        type: "scatter",
        mode: "lines+markers",
        name: "held-out loss",
        x: this.#evals.map((e) => e.step),
        y: this.#evals.map((e) => e.loss),
        line: { width: 2.5, color: "#b3261e" },
        marker: { size: 7 },
      });
    }
    const dashes = ["dot", "dash", "dashdot", "longdash", "longdashdot"];
    this.#baselines.forEach((b, i) => {
      data.push({
        type: "scatter",
        mode: "lines",
        name: `${b.name}: ${formatFixed(b.loss, 2)}`,
        x: [1, steps],
        y: [b.loss, b.loss],
        line: { width: 1.5, color: "#4d5560", dash: dashes[i % dashes.length] },
        hoverinfo: "name",
      });
    });
    const narrow = this.#element.clientWidth < 560; // a phone: the legend takes more rows
    const layout = {
      autosize: true,
      height: narrow ? 520 : 420,
      margin: { l: 48, r: 12, t: 8, b: 40 },
      xaxis: { title: { text: "step" }, range: [0, steps], zeroline: false },
      yaxis: { title: { text: "loss" }, zeroline: false },
      legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" }, // above the plot
      font: { family: "system-ui, DejaVu Sans, sans-serif", size: 12, color: "#1b1f24" },
      paper_bgcolor: "#ffffff",
      plot_bgcolor: "#ffffff",
    };
    await plotly.react(this.#element, data, layout, {
      responsive: true,
      displayModeBar: false,
      displaylogo: false,
    });
    this.#element.setAttribute("aria-label", this.summary);
  }
}

// A series' points, step 1 first, averaged in buckets when there are too many to draw.
function bucketed(ys: readonly number[]): { x: number[]; y: number[] } {
  const size = Math.ceil(ys.length / MAX_POINTS);
  if (size <= 1) return { x: ys.map((_, i) => i + 1), y: [...ys] };
  const x: number[] = [];
  const y: number[] = [];
  for (let start = 0; start < ys.length; start += size) {
    const end = Math.min(start + size, ys.length);
    let total = 0;
    for (let i = start; i < end; i++) total += ys[i]!;
    x.push((start + end + 1) / 2);
    y.push(total / (end - start));
  }
  return { x, y };
}
