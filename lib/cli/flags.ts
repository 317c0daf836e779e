// The command line's grammar: which flags `deno task train` and `deno task sample` take, what
// each value must be, and the usage text. Parsing only reads the arguments; lib/cli/main.ts runs
// the command and lib/cli/launcher.ts works out the permissions it needs from the same options.

import { DEFAULT_ADAM } from "../adam.ts";
import { UserError } from "../io/errors.ts";
import { DEFAULT_CONFIG } from "../model.ts";
import type { EngineName } from "../engine.ts";
import { resolve } from "../io/paths.ts";

/** Everything a training run needs to know. */
export interface TrainOptions {
  data?: string;
  /** Any integer, as Python's `random.seed` takes it (a `bigint` past 2^53). */
  seed: number | bigint;
  steps: number;
  nLayer: number;
  nEmbd: number;
  nHead: number;
  blockSize: number;
  lr: number;
  temperature: number;
  /** Sample only from the k likeliest tokens; all of them when unset (the reference). */
  topK?: number;
  samples: number;
  json?: string;
  engine: EngineName;
  save?: string;
  load?: string;
  stopAt?: number;
  saveEvery?: number;
  /** Fraction of the shuffled documents held out for evaluation (the last ones); 0 if unset. */
  valSplit?: number;
  /** Evaluate on the held-out documents every N steps (and after the last). */
  evalEvery?: number;
  help: boolean;
}

/** Options of `deno task eval`. */
export interface EvalOptions {
  checkpoint?: string;
  data?: string;
  help: boolean;
}

/** Options of `deno task sample`. */
export interface SampleOptions {
  checkpoint?: string;
  samples: number;
  temperature: number;
  /** Sample only from the k likeliest tokens; all of them when unset. */
  topK?: number;
  seed?: number | bigint;
  prefix: string;
  /** Print each position's likeliest candidates and the one drawn. */
  trace: boolean;
  help: boolean;
}

type Kind = "seed" | "count" | "posnumber" | "fraction" | "path" | "text" | "bool" | "engine";
interface FlagSpec {
  key: string;
  kind: Kind;
  help: string;
  /** For counts: the largest value that can run (sizes beyond it cannot fit in memory). */
  max?: number;
}

/** The largest number of training steps or samples a run may ask for. */
export const MAX_STEPS = 1_000_000_000;
/** The largest width, depth and context a model may have (and still fit in memory). */
export const MAX_SIZE = { nLayer: 256, nEmbd: 8192, blockSize: 65536 } as const;

// The sampling flags train and sample share.
const SAMPLING_FLAGS: Record<string, FlagSpec> = {
  "--temperature": { key: "temperature", kind: "posnumber", help: "sampling temperature [0.5]" },
  "--top-k": {
    key: "topK",
    kind: "count",
    max: MAX_STEPS,
    help: "sample only from the K likeliest characters [all]",
  },
};

const TRAIN_FLAGS: Record<string, FlagSpec> = {
  "--data": { key: "data", kind: "path", help: "dataset, one document per line [data/names.txt]" },
  "--seed": { key: "seed", kind: "seed", help: "random seed, any integer [42]" },
  "--steps": { key: "steps", kind: "count", max: MAX_STEPS, help: "training steps [1000]" },
  "--n-layer": {
    key: "nLayer",
    kind: "count",
    max: MAX_SIZE.nLayer,
    help: "transformer layers [1]",
  },
  "--n-embd": { key: "nEmbd", kind: "count", max: MAX_SIZE.nEmbd, help: "embedding width [16]" },
  "--n-head": {
    key: "nHead",
    kind: "count",
    max: MAX_SIZE.nEmbd,
    help: "attention heads, must divide n-embd [4]",
  },
  "--block-size": {
    key: "blockSize",
    kind: "count",
    max: MAX_SIZE.blockSize,
    help: "context length [16]",
  },
  "--lr": { key: "lr", kind: "posnumber", help: "Adam learning rate, decays linearly to 0 [0.01]" },
  ...SAMPLING_FLAGS,
  "--samples": {
    key: "samples",
    kind: "count",
    max: MAX_STEPS,
    help: "names to sample after training [20]",
  },
  "--json": { key: "json", kind: "path", help: "also write losses and samples to this JSON file" },
  "--engine": {
    key: "engine",
    kind: "engine",
    help: "value (scalar autograd, the lesson) or fast (flat arrays) [value]",
  },
  "--save": { key: "save", kind: "path", help: "write a checkpoint here at the end of the run" },
  "--save-every": {
    key: "saveEvery",
    kind: "count",
    max: MAX_STEPS,
    help: "with --save: also every N steps",
  },
  "--stop-at": {
    key: "stopAt",
    kind: "count",
    max: MAX_STEPS,
    help: "stop after step N of the --steps schedule",
  },
  "--load": { key: "load", kind: "path", help: "resume the run saved in this checkpoint" },
  "--val-split": {
    key: "valSplit",
    kind: "fraction",
    help: "hold out this fraction of the documents (the last, after the shuffle) [0]",
  },
  "--eval-every": {
    key: "evalEvery",
    kind: "count",
    max: MAX_STEPS,
    help: "with --val-split: print the held-out loss every N steps",
  },
  "--help": { key: "help", kind: "bool", help: "show this help" },
};

const EVAL_FLAGS: Record<string, FlagSpec> = {
  "--checkpoint": { key: "checkpoint", kind: "path", help: "the checkpoint to evaluate" },
  "--data": { key: "data", kind: "path", help: "its dataset [data/names.txt]" },
  "--help": { key: "help", kind: "bool", help: "show this help" },
};

const SAMPLE_FLAGS: Record<string, FlagSpec> = {
  "--checkpoint": { key: "checkpoint", kind: "path", help: "the checkpoint to sample from" },
  "--samples": { key: "samples", kind: "count", max: MAX_STEPS, help: "how many to generate [20]" },
  ...SAMPLING_FLAGS,
  "--seed": { key: "seed", kind: "seed", help: "seed [the checkpoint's generator state]" },
  "--prefix": { key: "prefix", kind: "text", help: "start every sample with this text" },
  "--trace": {
    key: "trace",
    kind: "bool",
    help: "show each position's likeliest characters and the one drawn",
  },
  "--help": { key: "help", kind: "bool", help: "show this help" },
};

// Flags that describe the run a checkpoint already fixes.
const FIXED_BY_CHECKPOINT = [
  "--seed",
  "--steps",
  "--n-layer",
  "--n-embd",
  "--n-head",
  "--block-size",
  "--lr",
];

/** The reference's settings. */
export const DEFAULT_OPTIONS: TrainOptions = {
  seed: 42,
  steps: 1000,
  nLayer: DEFAULT_CONFIG.nLayer,
  nEmbd: DEFAULT_CONFIG.nEmbd,
  nHead: DEFAULT_CONFIG.nHead,
  blockSize: DEFAULT_CONFIG.blockSize,
  lr: DEFAULT_ADAM.learningRate,
  temperature: 0.5,
  samples: 20,
  engine: "value",
  help: false,
};

const DEFAULT_SAMPLE_OPTIONS: SampleOptions = {
  samples: 20,
  temperature: 0.5,
  prefix: "",
  trace: false,
  help: false,
};

function usageOf(title: string, command: string, flags: Record<string, FlagSpec>): string {
  const args: Record<Kind, string> = {
    seed: " N",
    count: " N",
    posnumber: " X",
    fraction: " F",
    path: " PATH",
    text: " TEXT",
    bool: "",
    engine: " NAME",
  };
  const lines = Object.entries(flags).map(([flag, spec]) =>
    `  ${(flag + args[spec.kind]).padEnd(20)} ${spec.help}`
  );
  return [title, "", `Usage: ${command} [flags]`, "", "Flags:", ...lines, ""].join("\n");
}

/**
 * Usage text of `deno task train --help`.
 *
 * @returns The text, ending in a newline.
 */
export function usage(): string {
  return usageOf(
    "Train a tiny GPT on a list of names and sample new ones (microgpt.py in TypeScript).\n" +
      "Defaults are microgpt.py's. Checkpoints: --save ck.json [--save-every N] [--stop-at N],\n" +
      "then --load ck.json carries on with exactly the same numbers.",
    "deno task train",
    TRAIN_FLAGS,
  );
}

/**
 * Usage text of `deno task sample --help`.
 *
 * @returns The text, ending in a newline.
 */
export function sampleUsage(): string {
  return usageOf(
    "Generate names from a saved checkpoint, without training.",
    "deno task sample --checkpoint PATH",
    SAMPLE_FLAGS,
  );
}

const INTEGER = /^[+-]?\d+$/;

function parseValue(name: string, spec: FlagSpec, raw: string): string | number | bigint {
  const fail = (what: string): never => {
    throw new UserError(`Cannot parse flags: ${name} (${JSON.stringify(raw)}) must be ${what}`);
  };
  const { kind } = spec;
  if (kind === "text") return raw;
  if (kind === "path") {
    if (raw === "") fail("a path");
    return raw;
  }
  if (kind === "engine") {
    if (raw !== "value" && raw !== "fast") fail('"value" or "fast"');
    return raw;
  }
  const trimmed = raw.trim();
  if (kind === "seed" || kind === "count") {
    if (!INTEGER.test(trimmed)) fail("an integer");
    const n = BigInt(trimmed);
    if (kind === "seed") return Number.isSafeInteger(Number(n)) ? Number(n) : n;
    if (n < 1n) fail("a positive integer");
    const max = spec.max ?? Number.MAX_SAFE_INTEGER;
    if (n > BigInt(max)) fail(`at most ${max.toLocaleString("en-US")}`);
    return Number(n);
  }
  const n = trimmed === "" ? NaN : Number(trimmed);
  if (!Number.isFinite(n)) fail("a finite number");
  if (kind === "fraction") {
    if (!(n >= 0 && n < 1)) fail("a fraction from 0 up to (not including) 1");
    return n;
  }
  if (!(n > 0)) fail("a number above 0");
  return n;
}

// Parses `--name value` and `--name=value` against a flag table; returns the set flags too.
function parseTable<T>(
  args: readonly string[],
  table: Record<string, FlagSpec>,
  defaults: T,
): { options: T; given: Set<string> } {
  const options = { ...defaults } as Record<string, unknown>;
  const given = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") && eq !== -1 ? arg.slice(0, eq) : arg;
    const spec = table[name];
    if (!spec) {
      throw new UserError(
        `Cannot parse flags: unknown flag ${JSON.stringify(name)}; see --help for the flags`,
      );
    }
    given.add(name);
    if (spec.kind === "bool") {
      if (eq !== -1) throw new UserError(`Cannot parse flags: ${name} takes no value`);
      options[spec.key] = true;
      continue;
    }
    const raw = eq !== -1 ? arg.slice(eq + 1) : args[++i];
    if (raw === undefined) throw new UserError(`Cannot parse flags: ${name} needs a value`);
    options[spec.key] = parseValue(name, spec, raw);
  }
  return { options: options as T, given };
}

/**
 * Parses the flags of `deno task train`.
 *
 * @param args The arguments after the script name.
 * @returns The options, defaults filled in.
 *
 * @example
 * ```ts
 * import { parseFlags } from "@lib/cli/flags.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseFlags(["--steps=50"]).steps, 50);
 * assert.equal(parseFlags(["--seed", "-18446744073709551617"]).seed, -18446744073709551617n);
 * ```
 */
export function parseFlags(args: readonly string[]): TrainOptions {
  const { options, given } = parseTable(args, TRAIN_FLAGS, DEFAULT_OPTIONS);
  const fail = (message: string): never => {
    throw new UserError(`Cannot parse flags: ${message}`);
  };
  if (options.load !== undefined) {
    const clash = FIXED_BY_CHECKPOINT.find((flag) => given.has(flag));
    if (clash) fail(`--load takes ${clash} from the checkpoint; drop ${clash}`);
  } else if (options.nEmbd % options.nHead !== 0) {
    fail(`--n-embd (${options.nEmbd}) must be divisible by --n-head (${options.nHead})`);
  }
  if (
    options.stopAt !== undefined && options.load === undefined && options.stopAt > options.steps
  ) {
    fail(`--stop-at (${options.stopAt}) must be at most --steps (${options.steps})`);
  }
  if (options.saveEvery !== undefined && options.save === undefined) {
    fail("--save-every needs --save PATH");
  }
  if (options.evalEvery !== undefined && !options.valSplit && options.load === undefined) {
    fail("--eval-every needs held-out documents: add --val-split F (for example 0.1)");
  }
  return options;
}

/**
 * Parses the flags of `deno task eval`.
 *
 * @param args The arguments after `eval`.
 * @returns The options.
 */
export function parseEvalFlags(args: readonly string[]): EvalOptions {
  const { options } = parseTable(args, EVAL_FLAGS, { help: false } as EvalOptions);
  if (options.checkpoint === undefined && !options.help) {
    throw new UserError("Cannot parse flags: --checkpoint PATH is required");
  }
  return options;
}

/**
 * Usage text of `deno task eval --help`.
 *
 * @returns The text, ending in a newline.
 */
export function evalUsage(): string {
  return usageOf(
    "Print a saved model's loss on its held-out documents and on its training documents.",
    "deno task eval --checkpoint PATH",
    EVAL_FLAGS,
  );
}

/**
 * Parses the flags of `deno task sample`.
 *
 * @param args The arguments after `sample`.
 * @returns The options, defaults filled in.
 */
export function parseSampleFlags(args: readonly string[]): SampleOptions {
  const { options } = parseTable(args, SAMPLE_FLAGS, DEFAULT_SAMPLE_OPTIONS);
  if (options.checkpoint === undefined && !options.help) {
    throw new UserError("Cannot parse flags: --checkpoint PATH is required");
  }
  return options;
}

/**
 * The command line with every path made absolute against `cwd`: `deno task` runs commands in
 * the project's folder, so the task launcher resolves the user's paths against the folder the
 * user ran it from (INIT_CWD) before passing them on.
 *
 * @param args The arguments (`sample` or `eval` first for those commands).
 * @param cwd The folder relative paths are relative to.
 * @returns The arguments, path values absolute; unknown flags are left for the CLI to report.
 *
 * @example
 * ```ts
 * import { absolutePaths } from "@lib/cli/flags.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(
 *   absolutePaths(["--json", "out.json", "--steps", "5", "--save=ck/a.json"], "/home/me"),
 *   ["--json", "/home/me/out.json", "--steps", "5", "--save=/home/me/ck/a.json"],
 * );
 * ```
 */
export function absolutePaths(args: readonly string[], cwd: string): string[] {
  const command = args[0] === "sample" || args[0] === "eval" ? args[0] : undefined;
  const table = command === "sample" ? SAMPLE_FLAGS : command === "eval" ? EVAL_FLAGS : TRAIN_FLAGS;
  const out = command ? [command] : [];
  const abs = (p: string) => p === "" ? p : resolve(cwd, p);
  for (let i = command ? 1 : 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") && eq !== -1 ? arg.slice(0, eq) : arg;
    const spec = table[name];
    if (spec?.kind !== "path") {
      out.push(arg);
      if (spec && spec.kind !== "bool" && eq === -1 && i + 1 < args.length) out.push(args[++i]!);
    } else if (eq !== -1) {
      out.push(`${name}=${abs(arg.slice(eq + 1))}`);
    } else {
      out.push(arg);
      if (i + 1 < args.length) out.push(abs(args[++i]!));
    }
  }
  return out;
}
