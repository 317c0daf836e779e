// What the page and its worker say to each other (web/main.ts and web/worker.ts). The worker
// owns the model: the page asks, the worker answers with plain data, and `out` messages carry
// the command line's output, so the page's log is what `deno task train` would print.

import type { LadderRung } from "../lib/ngram.ts";
import type { TraceStep } from "../lib/sample.ts";
import type { AttentionMaps } from "./attention.ts";
import type { WebConfig } from "./config.ts";

/** A sample, position by position (lib/sample.ts's sampleTrace()). */
export interface Trace {
  /** The name. */
  text: string;
  /** Each drawn position. */
  steps: TraceStep[];
}

/** From the page to the worker. */
export type ToWorker =
  /** Train a new model on a text (names.txt's, or the learner's). */
  | { kind: "train"; config: WebConfig; text: string }
  /** Stop training after the current step; the model stays, to sample from. */
  | { kind: "stop" }
  /** Sample names with the model's generator. */
  | { kind: "sample"; count: number; temperature: number; prefix: string }
  /** Replay sample `index` (0-based, in the order drawn) position by position. */
  | { kind: "trace"; index: number }
  /** The attention weights over a text. */
  | { kind: "attention"; text: string }
  /** Load a checkpoint saved by the command line and sample from it, as `deno task sample`. */
  | {
    kind: "checkpoint";
    bytes: ArrayBuffer;
    name: string;
    engine: WebConfig["engine"];
    count: number;
    temperature: number;
    prefix: string;
  };

/** What a new model is. */
export interface ModelInfo {
  /** How many documents the run has (0 for a checkpoint). */
  numDocs: number;
  /** How many of them are held out. */
  numVal: number;
  vocabSize: number;
  numParams: number;
  /** The schedule's length. */
  numSteps: number;
}

/** From the worker to the page. */
export type FromWorker =
  /** The worker has loaded and listens. */
  | { kind: "ready" }
  /** Text the command line would print (with its `\r` progress lines). */
  | { kind: "out"; text: string }
  /** A run has started at `time` (epoch ms): what its model is. */
  | { kind: "started"; info: ModelInfo; time: number }
  /**
   * Steps `first` to `first + losses.length - 1` are done, the last at `time` (epoch ms, to
   * set against the page's `performance.timeOrigin`); step 1 at `firstTime`.
   */
  | { kind: "progress"; first: number; losses: number[]; time: number; firstTime?: number }
  /** The held-out loss after `step` steps. */
  | { kind: "eval"; step: number; loss: number }
  /** Training ended, after `step` of the schedule's steps, at `time` (epoch ms). */
  | { kind: "trained"; step: number; stopped: boolean; time: number }
  /** Names sampled; `first` is the index of the first among all drawn so far. */
  | { kind: "samples"; first: number; names: string[] }
  /** A sample replayed. */
  | { kind: "trace"; index: number; trace: Trace; temperature: number }
  /** The attention over a text. */
  | { kind: "attention"; text: string; maps: AttentionMaps }
  /** A checkpoint is loaded (its samples follow). */
  | { kind: "loaded"; info: ModelInfo; name: string; step: number }
  /** A request failed: `input` for a mistake in what the learner gave, else a bug. */
  | { kind: "error"; message: string; input: boolean; request: ToWorker["kind"] };

/** From the page to the count models' worker: the run whose loss ladder to compute. */
export interface ToLadder {
  /** Which request this is (the answer echoes it). */
  id: number;
  /** The text the run trains on. */
  text: string;
  seed: number | bigint;
  valSplit: number;
  blockSize: number;
}

/** The loss ladder of a run. */
export interface FromLadder {
  /** The request's `id`. */
  id: number;
  /** Uniform up to 4-gram, scored on held-out names; none if there are too few names. */
  rungs: LadderRung[];
  /** Whether the names scored are held out for the ladder alone (the run holds none out). */
  ownSplit: boolean;
  /** The run's vocabulary size (uniform guessing scores ln of it). */
  vocabSize: number;
  /** A bug's report, if the computation failed. */
  bug?: string;
}
