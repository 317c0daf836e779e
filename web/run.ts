// A training run in the page, as `deno task train` runs one (lib/cli/main.ts's run()): the
// documents shuffled by the seeded generator, the tokenizer built from them, the model's weights
// drawn from the same generator, one document a step with Adam, then names sampled with the same
// generator. Step by step, so the worker can report and listen between steps; and the lines the
// command line prints, so the page's log reads as its terminal does.

import { Adam } from "../lib/adam.ts";
import { createEngine, type Engine, type EngineName } from "../lib/engine.ts";
import { evaluate, type Evaluation, type Split } from "../lib/eval.ts";
import { formatFixed } from "../lib/io/format.ts";
import { DEFAULT_CONFIG, type GptConfig, validateConfig } from "../lib/model.ts";
import type { Random, RandomState } from "../lib/random.ts";
import { Tokenizer } from "../lib/tokenizer.ts";
import { docTokens } from "../lib/train.ts";
import { InputError } from "./config.ts";
import { shuffleDocs } from "./docs.ts";

/** What samples: a model, its tokenizer, and the generator its names are drawn with. */
export interface Sampler {
  /** The model, either engine. */
  readonly engine: Engine;
  /** Its tokenizer. */
  readonly tokenizer: Tokenizer;
  /** The generator; sampling moves it on. */
  readonly rng: Random;
}

/** The settings of a run (the page's {@linkcode WebConfig} without its sampling fields). */
export interface RunOptions {
  seed: number | bigint;
  nLayer: number;
  nEmbd: number;
  nHead: number;
  blockSize: number;
  steps: number;
  lr: number;
  valSplit: number;
  engine: EngineName;
}

/**
 * A run between two steps: the shuffled documents, the model, Adam and the generator.
 *
 * @example Two steps on three names
 * ```ts
 * import { Run } from "./run.ts";
 * import { DEFAULT_WEB_CONFIG } from "./config.ts";
 * import assert from "node:assert/strict";
 *
 * const run = Run.start(["emma", "olivia", "ava"], { ...DEFAULT_WEB_CONFIG, steps: 2 });
 * assert.equal(run.tokenizer.vocabSize, 8);
 * run.trainStep();
 * run.trainStep();
 * assert.ok(run.done);
 * ```
 */
export class Run implements Sampler {
  /** The documents in training order (shuffled), held-out ones last. */
  readonly docs: string[];
  /** The documents trained on and held out. */
  readonly split: Split;
  readonly tokenizer: Tokenizer;
  readonly engine: Engine;
  readonly adam: Adam;
  readonly rng: Random;
  /** The loss of every step taken, step 1 first. */
  readonly losses: number[] = [];

  private constructor(fields: {
    docs: string[];
    split: Split;
    tokenizer: Tokenizer;
    engine: Engine;
    adam: Adam;
    rng: Random;
  }) {
    this.docs = fields.docs;
    this.split = fields.split;
    this.tokenizer = fields.tokenizer;
    this.engine = fields.engine;
    this.adam = fields.adam;
    this.rng = fields.rng;
  }

  /**
   * Starts a run as microgpt.py does: seed, shuffle, tokenizer, model, optimiser.
   *
   * @param docs The documents, in file order (not changed).
   * @param options The settings.
   * @returns The run, before its first step.
   */
  static start(docs: readonly string[], options: RunOptions): Run {
    const { rng, docs: shuffled, split } = shuffleDocs(docs, options);
    const tokenizer = Tokenizer.fromDocs(shuffled);
    let config: GptConfig;
    try {
      config = validateConfig({
        vocabSize: tokenizer.vocabSize,
        nLayer: options.nLayer,
        nEmbd: options.nEmbd,
        blockSize: options.blockSize,
        nHead: options.nHead,
        initStd: DEFAULT_CONFIG.initStd,
      });
    } catch (err) {
      throw new InputError((err as Error).message);
    }
    const engine = createEngine(options.engine, config, { rng });
    const adam = new Adam(engine.numParams, {
      numSteps: options.steps,
      learningRate: options.lr,
    });
    return new Run({ docs: shuffled, split, tokenizer, engine, adam, rng });
  }

  /** The number of steps taken. */
  get step(): number {
    return this.adam.t;
  }

  /** The length of the schedule. */
  get numSteps(): number {
    return this.adam.numSteps;
  }

  /** Whether every step of the schedule is taken. */
  get done(): boolean {
    return this.adam.t >= this.adam.numSteps;
  }

  /**
   * Takes the next step: the next training document (in order, round and round), forward,
   * backward, Adam.
   *
   * @returns Its loss, before the update.
   */
  trainStep(): number {
    const { train } = this.split;
    const step = this.adam.t;
    const doc = train[step % train.length]!;
    const loss = this.engine.trainStep(docTokens(this.tokenizer, doc), this.adam);
    if (!Number.isFinite(loss)) throw this.#lossError(loss, step + 1);
    this.losses.push(loss);
    return loss;
  }

  /**
   * The loss on the held-out documents, as the model stands.
   *
   * @returns The evaluation, or undefined if none are held out.
   */
  evaluate(): Evaluation | undefined {
    if (this.split.val.length === 0) return undefined;
    return evaluate(this.engine, this.tokenizer, this.split.val);
  }

  // A loss that rose and overflowed is the learning rate's doing; a NaN while it was falling,
  // a bug (as lib/cli/main.ts tells them apart).
  #lossError(loss: number, step: number): Error {
    const { losses } = this;
    const rising = losses.length > 1 && Math.max(...losses.slice(-100)) > 2 * losses[0]!;
    if (loss === Infinity || rising) {
      return new InputError(
        `Cannot train: the loss became ${loss} at step ${step} (it diverged); lower lr ` +
          `(now ${this.adam.config.learningRate})`,
      );
    }
    return new Error(`Cannot train: the loss became ${loss} at step ${step} while falling`);
  }
}

/** A sampled name, with the generator's state before it was drawn (to replay its trace). */
export interface Drawn {
  /** The name. */
  text: string;
  /** The generator's state before the draw. */
  state: RandomState;
}

/**
 * Samples names, each with the generator state it started from.
 *
 * @param sampler The model, tokenizer and generator (moved on by the draws).
 * @param options How many (`count`), the `temperature` and a `prefix`.
 * @returns The names.
 */
export function drawSamples(
  sampler: Sampler,
  options: { count: number; temperature: number; prefix: string },
): Drawn[] {
  const { engine, tokenizer, rng } = sampler;
  const { count, temperature, prefix } = options;
  const drawn: Drawn[] = [];
  for (let i = 0; i < count; i++) {
    const state = rng.getState();
    let text: string;
    try {
      text = engine.sample(tokenizer, { rng, temperature, prefix });
    } catch (err) {
      if (err instanceof RangeError) throw new InputError(err.message);
      throw err;
    }
    drawn.push({ text, state });
  }
  return drawn;
}

const pad4 = (n: number) => String(n).padStart(4);

/**
 * The command line's progress line, `step  100 / 1000 | loss 2.8794`.
 *
 * @param step The step (1-based).
 * @param numSteps The schedule's length.
 * @param loss The step's loss.
 * @returns The line (no line break).
 *
 * @example
 * ```ts
 * import { stepLine } from "./run.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(stepLine(1000, 1000, 2.6497), "step 1000 / 1000 | loss 2.6497");
 * ```
 */
export function stepLine(step: number, numSteps: number, loss: number): string {
  return `step ${pad4(step)} / ${pad4(numSteps)} | loss ${formatFixed(loss, 4)}`;
}

/**
 * The command line's held-out loss line, `val loss 2.3080 | perplexity 10.05`.
 *
 * @param name What the loss is (`val loss`, `eval step  100 / 1000 | val loss`).
 * @param loss The loss.
 * @returns The line.
 */
export function lossLine(name: string, loss: number): string {
  return `${name} ${formatFixed(loss, 4)} | perplexity ${formatFixed(Math.exp(loss), 2)}`;
}

/**
 * The label of an evaluation during training, as the command line prints it.
 *
 * @param step The step.
 * @param numSteps The schedule's length.
 * @returns `eval step  100 / 1000 | val loss`.
 */
export function evalName(step: number, numSteps: number): string {
  return `eval step ${pad4(step)} / ${pad4(numSteps)} | val loss`;
}

/**
 * The command line's sample line, `sample  1: kamon`.
 *
 * @param index The sample's number (1-based).
 * @param text The name.
 * @returns The line.
 */
export function sampleLine(index: number, text: string): string {
  return `sample ${String(index).padStart(2)}: ${text}`;
}
