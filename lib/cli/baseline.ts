// `deno task baseline`: the loss ladder. How good is a held-out loss of 2.37? This prints what
// simpler models score on the same held-out names: uniform guessing, then count models that
// look back 0, 1, 2 and 3 characters (lib/ngram.ts), then microgpt trained as `deno task train
// --engine fast --val-split 0.1` trains it, and with --big the bigger model. Every row is the
// mean -log p(next character) over the same positions, in nats and in bits per character.

import { Adam } from "../adam.ts";
import { createEngine } from "../engine.ts";
import { evaluate, type Split, splitDocs } from "../eval.ts";
import { loadDataset } from "../io/data.ts";
import { EXIT_BUG, EXIT_USAGE, UserError } from "../io/errors.ts";
import { formatFixed } from "../io/format.ts";
import { DEFAULT_CONFIG, type GptConfig } from "../model.ts";
import { lossLadder } from "../ngram.ts";
import { Random } from "../random.ts";
import { Tokenizer } from "../tokenizer.ts";
import { docTokens } from "../train.ts";

/** The settings of `deno task baseline`. */
export interface BaselineOptions {
  /** The dataset; the default names.txt when unset. */
  data?: string;
  seed: number;
  valSplit: number;
  /** Training steps of the default microgpt (1,000, as `deno task train`). */
  steps: number;
  /** Also train the bigger model ({@linkcode BIG}). */
  big: boolean;
  /** A fixed smoothing k for every count model, instead of choosing it on the training split. */
  k?: number;
  help: boolean;
}

/** The bigger model: the notebook's (keep the two in step). */
export const BIG = { nLayer: 4, nEmbd: 64, steps: 10_000, learningRate: 0.003 } as const;

const USAGE = `Usage: deno task baseline [flags]

The loss ladder on held-out names: uniform, unigram, bigram, trigram and 4-gram count models
(add-k smoothing, k chosen on the training split only), then microgpt trained with the fast engine.

  --data PATH        dataset, one document per line [data/names.txt]
  --seed N           shuffle seed, as deno task train's [42]
  --val-split F      fraction of the shuffled documents held out, 0 < F < 1 [0.1]
  --steps N          training steps of the default microgpt [1000]
  --big              also train the bigger model (${BIG.nLayer} layers, n_embd ${BIG.nEmbd}, ${BIG.steps} steps, lr ${BIG.learningRate})
  --k K              smooth every count model with this k instead of choosing it
  -h, --help         this text
`;

/**
 * Parses the command line of `deno task baseline`.
 *
 * @param args The arguments.
 * @returns The options.
 *
 * @example
 * ```ts
 * import { parseBaselineFlags } from "@lib/cli/baseline.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseBaselineFlags(["--val-split=0.2", "--big"]).valSplit, 0.2);
 * assert.throws(() => parseBaselineFlags(["--steps", "0"]), /--steps/);
 * ```
 */
export function parseBaselineFlags(args: readonly string[]): BaselineOptions {
  const options: BaselineOptions = {
    seed: 42,
    valSplit: 0.1,
    steps: 1000,
    big: false,
    help: false,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    if (flag === "-h" || flag === "--help") options.help = true;
    else if (flag === "--big" && inline === undefined) options.big = true;
    else if (["--data", "--seed", "--val-split", "--steps", "--k"].includes(flag)) {
      const value = inline ?? args[++i];
      if (value === undefined || value === "") {
        throw new UserError(`Cannot parse flags: ${flag} needs a value`);
      }
      const number = Number(value);
      const bad = (what: string) =>
        new UserError(`Cannot parse flags: ${flag} must be ${what}, not ${JSON.stringify(value)}`);
      if (flag === "--data") options.data = value;
      else if (flag === "--seed") {
        if (!Number.isSafeInteger(number)) throw bad("an integer");
        options.seed = number;
      } else if (flag === "--val-split") {
        if (!(number > 0 && number < 1)) throw bad("a fraction between 0 and 1");
        options.valSplit = number;
      } else if (flag === "--steps") {
        if (!Number.isSafeInteger(number) || number < 1) throw bad("a positive integer");
        options.steps = number;
      } else {
        if (!(number > 0) || !Number.isFinite(number)) throw bad("a number above 0");
        options.k = number;
      }
    } else {
      throw new UserError(`Cannot parse flags: unknown flag ${JSON.stringify(arg)}; see --help`);
    }
  }
  return options;
}

/** One row of the ladder. */
export interface BaselineRow {
  model: string;
  /** The count model's smoothing, or NaN. */
  k: number;
  /** Held-out loss in nats per character. */
  loss: number;
}

// Trains microgpt as `deno task train --engine fast --val-split F` does: the shuffle's generator
// draws the initial weights next, one training document a step, in order; then the held-out loss.
function trainGpt(
  docs: readonly string[],
  split: Split,
  options: { seed: number; steps: number; learningRate: number; shape: Partial<GptConfig> },
): number {
  const rng = new Random(options.seed);
  rng.shuffle([...docs]); // leaves rng where the CLI's shuffle leaves it
  const tokenizer = Tokenizer.fromDocs(docs);
  const config = { ...DEFAULT_CONFIG, ...options.shape, vocabSize: tokenizer.vocabSize };
  const engine = createEngine("fast", config, { rng });
  const adam = new Adam(engine.numParams, {
    numSteps: options.steps,
    learningRate: options.learningRate,
  });
  for (let step = 0; step < options.steps; step++) {
    engine.trainStep(docTokens(tokenizer, split.train[step % split.train.length]!), adam);
  }
  return evaluate(engine, tokenizer, split.val).loss;
}

/**
 * Computes the ladder: loads and shuffles the dataset as `deno task train` does, holds out the
 * last `valSplit`, and scores every model on the held-out documents.
 *
 * @param options The settings.
 * @param io `err`, where notices go (a download, progress).
 * @returns The rows, the numbers of documents and the positions scored.
 */
export async function baseline(
  options: BaselineOptions,
  io: { err: (text: string) => void },
): Promise<{ rows: BaselineRow[]; train: number; val: number; positions: number }> {
  const { docs: loaded } = await loadDataset(options.data, { warn: (m) => io.err(`${m}\n`) });
  const docs = [...loaded];
  new Random(options.seed).shuffle(docs);
  const split = splitDocs(docs, options.valSplit);
  if (split.val.length === 0) {
    throw new UserError(
      `Cannot split documents: --val-split ${options.valSplit} of ${docs.length} documents ` +
        "holds out none",
    );
  }
  const tokenizer = Tokenizer.fromDocs(docs);
  const blockSize = DEFAULT_CONFIG.blockSize;
  const rows: BaselineRow[] = lossLadder(tokenizer, split, { blockSize, k: options.k })
    .map(({ name, k, loss }) => ({ model: name, k, loss }));
  const { seed, steps } = options;
  io.err(`training microgpt 1x16 for ${steps} steps\n`);
  const small = trainGpt(loaded, split, { seed, steps, learningRate: 0.01, shape: {} });
  rows.push({
    model: `microgpt 1x16, ${steps.toLocaleString("en-US")} steps`,
    k: NaN,
    loss: small,
  });
  if (options.big) {
    const { nLayer, nEmbd, learningRate } = BIG;
    io.err(`training microgpt ${nLayer}x${nEmbd} for ${BIG.steps} steps\n`);
    const loss = trainGpt(loaded, split, {
      seed,
      steps: BIG.steps,
      learningRate,
      shape: { nLayer, nEmbd },
    });
    const name = `microgpt ${nLayer}x${nEmbd}, ${BIG.steps.toLocaleString("en-US")} steps`;
    rows.push({ model: name, k: NaN, loss });
  }
  // the positions each loss averages over: every name's characters and its end, up to blockSize
  const positions = split.val.reduce((n, doc) => n + Math.min(blockSize, [...doc].length + 1), 0);
  return { rows, train: split.train.length, val: split.val.length, positions };
}

/**
 * The ladder as a table: model, k, held-out nats and bits per character.
 *
 * @param rows The rows.
 * @returns The table's lines.
 *
 * @example
 * ```ts
 * import { formatLadder } from "@lib/cli/baseline.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(formatLadder([{ model: "uniform", k: NaN, loss: Math.log(27) }]), [
 *   "model                            k    nats  bits/char",
 *   "uniform                          -  3.2958     4.7549",
 * ]);
 * ```
 */
export function formatLadder(rows: readonly BaselineRow[]): string[] {
  const line = (model: string, k: string, nats: string, bits: string) =>
    `${model.padEnd(28)} ${k.padStart(5)} ${nats.padStart(7)} ${bits.padStart(10)}`;
  return [
    line("model", "k", "nats", "bits/char"),
    ...rows.map((r) =>
      line(
        r.model,
        Number.isNaN(r.k) ? "-" : String(r.k),
        formatFixed(r.loss, 4),
        formatFixed(r.loss / Math.LN2, 4),
      )
    ),
  ];
}

/**
 * The entry point of `deno task baseline`.
 *
 * @param args The command line.
 * @returns The exit code: 0, 2 for a user's mistake (one line on stderr), 70 for a bug.
 */
export async function main(args: readonly string[]): Promise<number> {
  const out = (text: string) => Deno.stdout.writeSync(new TextEncoder().encode(text));
  const err = (text: string) => Deno.stderr.writeSync(new TextEncoder().encode(text));
  try {
    const options = parseBaselineFlags(args);
    if (options.help) {
      out(USAGE);
      return 0;
    }
    const { rows, train, val, positions } = await baseline(options, { err });
    const split = `--seed ${options.seed} --val-split ${options.valSplit}`;
    const count = (n: number) => n.toLocaleString("en-US");
    out(
      `held out: ${count(val)} names (${count(positions)} predictions); trained on the other ` +
        `${count(train)} (${split})\n`,
    );
    out(formatLadder(rows).join("\n") + "\n");
    const data = options.data === undefined ? "" : ` --data ${options.data}`;
    out(
      `microgpt rows: deno task train --engine fast ${split}${data}` +
        (options.steps === 1000 ? "" : ` --steps ${options.steps}`) + "\n",
    );
    if (options.big) {
      out(
        `  and: deno task train --engine fast ${split}${data} --n-layer ${BIG.nLayer} ` +
          `--n-embd ${BIG.nEmbd} --steps ${BIG.steps} --lr ${BIG.learningRate}\n`,
      );
    }
    out(
      options.k === undefined
        ? "k: chosen on the training names alone (fitted on their first 90%, scored on the rest)\n"
        : `k: fixed at ${options.k} (--k)\n`,
    );
    return 0;
  } catch (e) {
    if (e instanceof UserError) {
      err(`error: ${e.message}\n`);
      return EXIT_USAGE;
    }
    err(`${e instanceof Error ? e.stack : String(e)}\n\nThis is a bug in microgpt-ts.\n`);
    return EXIT_BUG;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
