// The training progress line. Redirected, it is the reference's, byte for byte
// ("step   12 / 1000 | loss 2.8101\r"); on a terminal it also shows what one document's loss
// cannot: the mean loss of the last 100 steps, the speed and the time left.

import { formatFixed } from "../io/format.ts";

/** How many recent steps the running mean loss averages. */
export const MEAN_WINDOW = 100;

/** A training run's progress, as the terminal's progress line shows it. */
export interface Progress {
  /**
   * Records a step's loss; returns the progress line for it.
   *
   * @param step The step just taken (1-based).
   * @param loss Its loss.
   * @returns The line, ending in "\r".
   */
  line(step: number, loss: number): string;
}

/**
 * The reference's progress line: step and loss.
 *
 * @param step The step just taken (1-based).
 * @param numSteps The steps of the schedule.
 * @param loss The step's loss.
 * @returns The line, ending in "\r".
 *
 * @example
 * ```ts
 * import { stepLine } from "@lib/cli/progress.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(stepLine(12, 1000, 2.81006), "step   12 / 1000 | loss 2.8101\r");
 * ```
 */
export function stepLine(step: number, numSteps: number, loss: number): string {
  const [at, of] = [String(step).padStart(4), String(numSteps).padStart(4)];
  return `step ${at} / ${of} | loss ${formatFixed(loss, 4)}\r`;
}

/**
 * Tracks a run for the progress line: the reference's line, or, on a terminal, the same line
 * followed by the mean loss of the last {@linkcode MEAN_WINDOW} steps, the steps per second
 * and the time left (both from the steps this process has taken).
 *
 * @param schedule `numSteps`, the schedule's steps (as printed); `first` and `last`, the step
 *   this run starts after and the one it stops after.
 * @param options `terminal`: whether stdout is one; `now`: the clock, in milliseconds.
 * @returns The tracker.
 *
 * @example
 * ```ts
 * import { progress } from "@lib/cli/progress.ts";
 * import assert from "node:assert/strict";
 *
 * let ms = 0;
 * const p = progress({ numSteps: 10, first: 0, last: 10 }, { terminal: true, now: () => ms });
 * ms = 500;
 * assert.equal(p.line(1, 3), "step    1 /   10 | loss 3.0000 | mean 3.0000 | 2.0 steps/s | 5 s left\r");
 * ms = 1000;
 * assert.equal(p.line(2, 2), "step    2 /   10 | loss 2.0000 | mean 2.5000 | 2.0 steps/s | 4 s left\r");
 * ```
 */
export function progress(
  schedule: { numSteps: number; first: number; last: number },
  options: { terminal: boolean; now?: () => number },
): Progress {
  const { numSteps, first, last } = schedule;
  if (!options.terminal) return { line: (step, loss) => stepLine(step, numSteps, loss) };
  const now = options.now ?? (() => performance.now());
  const start = now();
  const recent: number[] = [];
  let width = 0;
  return {
    line(step, loss) {
      recent.push(loss);
      if (recent.length > MEAN_WINDOW) recent.shift();
      const mean = recent.reduce((a, b) => a + b, 0) / recent.length;
      const seconds = (now() - start) / 1000;
      const rate = seconds > 0 ? (step - first) / seconds : Infinity;
      const left = (last - step) / rate;
      const text = `${stepLine(step, numSteps, loss).slice(0, -1)} | mean ${formatFixed(mean, 4)}` +
        ` | ${formatRate(rate)} steps/s | ${formatDuration(left)} left`;
      width = Math.max(width, text.length); // a shorter line covers the end of a longer one
      return text.padEnd(width) + "\r";
    },
  };
}

const formatRate = (rate: number) =>
  !Number.isFinite(rate) ? "-" : rate < 100 ? rate.toFixed(1) : String(Math.round(rate));

/**
 * A duration as a person says it: "40 s", "7 min", "1 h 5 min".
 *
 * @param seconds The duration.
 * @returns The text ("0 s" for none, "-" for one not known).
 *
 * @example
 * ```ts
 * import { formatDuration } from "@lib/cli/progress.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatDuration(2.4), "2 s");
 * assert.equal(formatDuration(449), "7 min");
 * assert.equal(formatDuration(3900), "1 h 5 min");
 * ```
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "-";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
